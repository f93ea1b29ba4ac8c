/**
 * The shapes every controller shares, in the manner of client-go: informers (list + watch into an
 * indexed cache), a rate-limited work queue of keys, and one reconcile loop. Informer handlers only
 * enqueue keys; `reconcile(key)` is idempotent and reads state from the informer caches.
 *
 *   Client ─list+watch─▶ Informer (cache, indexes) ─handlers─▶ WorkQueue ─▶ reconcile(key) ─▶ Client writes
 *
 * Implementations: informer.ts, work-queue.ts, controller.ts (written with the controllers issue).
 */
import type { KubeObject } from '../apis/object.ts';
import type { ResourceRef } from './client.ts';

/** `namespace/name`, or `name` for cluster-scoped objects. */
export type ObjectKey = string;

export function keyOf(obj: KubeObject): ObjectKey {
  return obj.metadata.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : obj.metadata.name!;
}

export function splitKey(key: ObjectKey): { namespace?: string; name: string } {
  const i = key.indexOf('/');
  return i < 0 ? { name: key } : { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export interface InformerHandlers {
  add?(obj: KubeObject): void;
  update?(oldObj: KubeObject, newObj: KubeObject): void;
  delete?(obj: KubeObject): void;
}

/** A named index: maps an object to the index values it is filed under (e.g. owner uid, node name). */
export type IndexFunc = (obj: KubeObject) => string[];

export interface Informer {
  readonly ref: ResourceRef;
  /** Resolves once the initial list is in the cache. */
  synced(): Promise<void>;
  get(key: ObjectKey): KubeObject | undefined;
  list(namespace?: string): KubeObject[];
  /** Objects filed under `value` in the index `name`. */
  byIndex(name: string, value: string): KubeObject[];
  addIndex(name: string, fn: IndexFunc): void;
  addHandlers(h: InformerHandlers): void;
  stop(): void;
}

export interface WorkQueue {
  add(key: ObjectKey): void;
  /** Adds after a delay (e.g. a Job's activeDeadlineSeconds, a CronJob's next schedule). */
  addAfter(key: ObjectKey, delayMs: number): void;
  /** Adds with per-key exponential back-off (failures). */
  addRateLimited(key: ObjectKey): void;
  /** Clears the key's back-off (success). */
  forget(key: ObjectKey): void;
  readonly length: number;
  shutDown(): void;
}

export interface Reconciler {
  /** A short name for logs and leader election, e.g. `deployment`. */
  readonly name: string;
  reconcile(key: ObjectKey): Promise<void>;
}
