/**
 * What the replicated provisioner's parts share (the wiring is replicated-provisioner.ts): the API,
 * the caches, events as the provisioner, and the engine.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Client } from '../../client/client.ts';
import type { EventType } from '../../client/event-recorder.ts';
import type { SharedInformer } from '../../client/informer.ts';
import type { ControllerEvents } from '../controller-utils.ts';
import type { VolumeEngine } from './volume-engine.ts';

export interface ReplicatedContext {
  client: Client;
  events: ControllerEvents;
  engine: VolumeEngine;
  claims: SharedInformer;
  volumes: SharedInformer;
  nodes: SharedInformer;
  classes: SharedInformer;
}

/** Records an event without waiting (events never fail a sync). */
export function emit(ctx: ReplicatedContext, obj: KubeObject, type: EventType, reason: string, message: string): void {
  void ctx.events.event(obj, type, reason, message);
}
