/**
 * What the local-path provisioner's parts share (the wiring is local-path-provisioner.ts): the API,
 * the caches, events as the provisioner, and the node of a volume.
 */
import type { KubeObject } from '../../apis/object.ts';
import { HOSTNAME_LABEL } from '../../apis/well-known.ts';
import type { Client } from '../../client/client.ts';
import type { EventType } from '../../client/event-recorder.ts';
import type { SharedInformer } from '../../client/informer.ts';
import type { ControllerEvents } from '../controller-utils.ts';

export interface LocalPathContext {
  client: Client;
  events: ControllerEvents;
  claims: SharedInformer;
  volumes: SharedInformer;
  nodes: SharedInformer;
  classes: SharedInformer;
  helperPods: SharedInformer;
}

/** Records an event without waiting (events never fail a sync). */
export function emit(ctx: LocalPathContext, obj: KubeObject, type: EventType, reason: string, message: string): void {
  void ctx.events.event(obj, type, reason, message);
}

/** The Node object a hostname (or node name) names. */
export function findNode(ctx: LocalPathContext, hostname: string): KubeObject | undefined {
  return ctx.nodes.get(hostname) ?? ctx.nodes.list().find((n) => n.metadata.labels?.[HOSTNAME_LABEL] === hostname);
}
