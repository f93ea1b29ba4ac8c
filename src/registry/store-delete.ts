/**
 * Deletion as Kubernetes' generic store does it: preconditions, graceful deletion for pods
 * (deletionTimestamp in the future, the node agent finishes it), finalizers and the propagation
 * policy's `orphan` / `foregroundDeletion` finalizers (the garbage collector finishes those), and
 * immediate removal when nothing holds the object.
 */
import type { KubeObject } from '../apis/object.ts';
import { errors } from '../errors/index.ts';
import type { ResourceStore } from './resource-store.ts';
import type { UserInfo } from '../auth/attributes.ts';
import { SYSTEM_USER } from './admission/admission.ts';
import { isStoreConflict, rememberStored, storageToApi } from './resource-store.ts';
import { readModifyWrite } from './read-modify-write.ts';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN, finalizersPending } from './finalizers.ts';
import { rfc3339 } from '../apis/time.ts';

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
  /** Who deletes, for admission (default: Berth itself). */
  user?: UserInfo;
}

export interface DeleteResult {
  obj: KubeObject;
  /** True when the object is gone; false when it now waits (finalizers or a grace period). */
  deleted: boolean;
}

/** A grace period this long (any int64 is valid) is capped for the timestamp only: 100 years. */
const MAX_TIMESTAMP_OFFSET_S = 100 * 365 * 24 * 3600;

function now(offsetSeconds = 0): string {
  return rfc3339(Date.now() + Math.min(offsetSeconds, MAX_TIMESTAMP_OFFSET_S) * 1000);
}

/** Grace period for a pod delete; 0 means delete at once (Kubernetes' pod CheckGracefulDelete). */
function podGrace(pod: KubeObject, requested: number | undefined): number {
  if (!pod.spec?.nodeName) return 0;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return 0;
  const g = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, g);
}

export async function deleteObject(store: ResourceStore, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
  const { group, plural } = store;
  // Admission comes first, dry run or not.
  store.deleteGuard?.(namespace, name);
  if (opts.propagationPolicy && !['Orphan', 'Background', 'Foreground'].includes(opts.propagationPolicy)) {
    throw errors.invalid('meta.k8s.io', 'DeleteOptions', '', [{ type: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: "${opts.propagationPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"` }]);
  }
  if (opts.gracePeriodSeconds !== undefined && opts.gracePeriodSeconds < 0) opts.gracePeriodSeconds = 1;
  let admitted = false;
  // Set by an attempt that leaves the object as it was (already deleting, same grace).
  let unchanged = false;
  // The object as the watch cache holds it, else as stored (read-modify-write.ts): a stale one costs a
  // re-read — the delete's compare-and-swap refuses it, and a failed precondition is confirmed first.
  return readModifyWrite(store, namespace, name, async ({ obj, kv }): Promise<DeleteResult> => {
    unchanged = false;
    const m = obj.metadata;
    if (!admitted) {
      const validated = store.admission.validate({
        operation: 'DELETE', resource: store.type.info, subresource: '', namespace: namespace ?? '', name,
        oldObject: obj, user: opts.user ?? SYSTEM_USER, dryRun: !!opts.dryRun,
      });
      if (validated) await validated;
      // Once: a retry after a conflict is the same request (a refusal on a stale object is re-asked on the current one).
      admitted = true;
    }
    if (opts.preconditions?.uid && opts.preconditions.uid !== m.uid) {
      throw errors.conflict(group, plural, name, `Precondition failed: UID in precondition: ${opts.preconditions.uid}, UID in object meta: ${m.uid}`);
    }
    if (opts.preconditions?.resourceVersion && opts.preconditions.resourceVersion !== m.resourceVersion) {
      throw errors.conflict(group, plural, name, `Precondition failed: ResourceVersion in precondition: ${opts.preconditions.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion}`);
    }
    // A fresh decode: the copy only needs metadata of its own (below, fields are assigned, never changed in place).
    const next: KubeObject = { ...obj, metadata: { ...obj.metadata } };
    const nm = next.metadata;
    let changed = false;
    // Propagation policy: the GC finishes orphan/foreground deletions.
    const policy = opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : undefined);
    if (policy) {
      const before = nm.finalizers ?? [];
      let fins = before.filter((f) => f !== FINALIZER_ORPHAN && f !== FINALIZER_FOREGROUND);
      if (policy === 'Orphan') fins.push(FINALIZER_ORPHAN);
      if (policy === 'Foreground') fins.push(FINALIZER_FOREGROUND);
      // Once deleting, finalizers may only go away.
      if (m.deletionTimestamp) fins = fins.filter((f) => before.includes(f));
      if (fins.join('\0') !== before.join('\0')) { changed = true; nm.finalizers = fins; }
      if (!nm.finalizers?.length) delete nm.finalizers;
    }
    // Graceful pod deletion: the object stays until the node agent confirms the containers stopped.
    let grace = 0;
    if (obj.kind === 'Pod') grace = podGrace(obj, opts.gracePeriodSeconds);
    const pending = finalizersPending(next);
    if (grace > 0 || pending) {
      if (!nm.deletionTimestamp) {
        nm.deletionTimestamp = now(grace);
        nm.deletionGracePeriodSeconds = grace;
        changed = true;
      } else if (grace > 0 && (nm.deletionGracePeriodSeconds ?? Infinity) > grace) {
        nm.deletionTimestamp = now(grace);
        nm.deletionGracePeriodSeconds = grace;
        changed = true;
      }
      if (obj.kind === 'Namespace' && next.status?.phase !== 'Terminating') {
        next.status = { ...(next.status ?? {}), phase: 'Terminating' };
        changed = true;
      }
      unchanged = !changed;
      if (opts.dryRun || !changed) return { obj: next, deleted: false };
      try {
        const value = store.encode(next);
        const rev = await store.backend.update(kv.key, value, kv.modRevision);
        nm.resourceVersion = String(rev);
        rememberStored(store, next, value);
        return { obj: next, deleted: false };
      } catch (err) {
        throw storageToApi(err, group, plural, name);
      }
    }
    if (opts.dryRun) return { obj, deleted: true };
    const rev = await store.remove(namespace, name, kv.modRevision, obj);
    obj.metadata.resourceVersion = String(rev);
    return { obj, deleted: true };
  }, {
    noCache: opts.dryRun,
    unchanged: () => unchanged,
    // The object moved between the read and the write: read it again.
    retry: (err, attempt) => attempt < 10 && isStoreConflict(err),
  });
}
