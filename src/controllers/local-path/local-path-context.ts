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

/** The node a local volume is pinned to: the value of its node affinity's hostname (or name) term. */
export function volumeNodeName(pv: KubeObject): string | undefined {
  for (const term of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of term?.matchExpressions ?? []) if (e?.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.length === 1) return e.values[0];
    for (const f of term?.matchFields ?? []) if (f?.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** The Node object a hostname (or node name) names. */
export function findNode(ctx: LocalPathContext, hostname: string): KubeObject | undefined {
  return ctx.nodes.get(hostname) ?? ctx.nodes.list().find((n) => n.metadata.labels?.[HOSTNAME_LABEL] === hostname);
}
