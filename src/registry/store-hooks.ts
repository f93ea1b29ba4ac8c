/**
 * Hooks a kind can attach to its ResourceStore for what needs more than the object itself — the
 * allocation of cluster-unique values (a Service's ClusterIP and NodePorts). They run after
 * defaulting and validation, so they only see valid objects, and around the store write:
 *
 *   beforeCreate/beforeUpdate ─▶ Reservation ─▶ write ─┬─ ok:  commit()   (release what is no longer used)
 *                                                    └─ err: rollback() (release what was taken)
 *   removal from the store ─▶ afterRemove
 */
import type { KubeObject } from '../apis/object.ts';

export interface Reservation {
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

export interface StoreHooks {
  /** May fill fields in `obj` (e.g. spec.clusterIP) and reserve them; throws a Status error to refuse. */
  beforeCreate?(obj: KubeObject, dryRun: boolean): Promise<Reservation>;
  beforeUpdate?(obj: KubeObject, old: KubeObject, dryRun: boolean): Promise<Reservation>;
  /** After the object left the store for good. Errors are logged by the caller, never surfaced. */
  afterRemove?(obj: KubeObject): Promise<void>;
}
