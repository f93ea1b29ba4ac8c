/**
 * The garbage collector's writes, all through the Client (pkg/controller/garbagecollector/operations.go
 * and patch.go): delete a dependent with a propagation policy, drop owner references from an object,
 * drop a finalizer from an owner. Each write is made against a fresh read and carries its
 * resourceVersion (or the uid as a precondition), so a stale cache never undoes someone else's change:
 * a Conflict fails the reconcile and the queue retries it with back-off.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Client, ResourceRef } from '../../client/client.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';

/** The object as it is now, or undefined when it is gone or its name holds another object. */
async function fresh(client: Client, ref: ResourceRef, obj: KubeObject): Promise<KubeObject | undefined> {
  try {
    const cur = await client.get(ref, obj.metadata.namespace, obj.metadata.name!);
    return cur.metadata.uid === obj.metadata.uid ? cur : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Deletes `obj` (this very uid) with `propagationPolicy`; gone already is fine. */
export async function deleteDependent(client: Client, ref: ResourceRef, obj: KubeObject, propagationPolicy: 'Foreground' | 'Background' | 'Orphan'): Promise<void> {
  try {
    await client.delete(ref, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy, preconditions: { uid: obj.metadata.uid } });
  } catch (err) {
    // Conflict: the uid precondition failed, the name now holds another object.
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
}

/** Removes the references to the owners `uids` from `obj`. */
export async function removeOwnerReferences(client: Client, ref: ResourceRef, obj: KubeObject, uids: readonly string[]): Promise<void> {
  const cur = await fresh(client, ref, obj);
  const refs = cur?.metadata.ownerReferences ?? [];
  const kept = refs.filter((r) => !uids.includes(r.uid));
  if (!cur || kept.length === refs.length) return;
  await patchMetadata(client, ref, cur, { ownerReferences: kept.length ? kept : null });
}

/** Removes `finalizer` from `obj`; the last one going completes its deletion. */
export async function removeFinalizer(client: Client, ref: ResourceRef, obj: KubeObject, finalizer: string): Promise<void> {
  const cur = await fresh(client, ref, obj);
  const fins = cur?.metadata.finalizers ?? [];
  if (!cur || !fins.includes(finalizer)) return;
  const kept = fins.filter((f) => f !== finalizer);
  await patchMetadata(client, ref, cur, { finalizers: kept.length ? kept : null });
}

/** A merge patch of metadata fields, preconditioned on the resourceVersion they were computed from. */
async function patchMetadata(client: Client, ref: ResourceRef, cur: KubeObject, fields: Record<string, unknown>): Promise<void> {
  try {
    await client.patch(ref, cur.metadata.namespace, cur.metadata.name!, 'merge', { metadata: { resourceVersion: cur.metadata.resourceVersion, ...fields } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
