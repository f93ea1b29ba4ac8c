/**
 * What the garbage collector does with one dependent, given what became of its owners
 * (pkg/controller/garbagecollector/garbagecollector.go, attemptToDeleteItem's classifyReferences and
 * its switch): keep it, drop references that hold it back, or delete it with a propagation policy.
 * Pure: the caller looks the owners up.
 */
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../../registry/finalizers.ts';
import type { KubeObject } from '../../apis/object.ts';

/**
 * An owner as the dependent sees it: `solid` — it exists and is not waiting for its dependents;
 * `dangling` — gone (absent, or its name now holds an object with another uid); `waiting` — being
 * deleted in the foreground (`foregroundDeletion`), so it waits for its dependents to go first.
 */
export type OwnerState = 'solid' | 'dangling' | 'waiting';

export type DependentDecision =
  | { action: 'keep' }
  /** Other owners keep it alive: only the references to gone and waiting owners go. */
  | { action: 'remove-references'; uids: string[] }
  | { action: 'delete'; propagationPolicy: 'Foreground' | 'Background' | 'Orphan' };

/** The decision for a dependent whose owners are in `owners`; see the file comment. */
export function decideForDependent(
  owners: readonly { uid: string; state: OwnerState }[],
  dependent: { finalizers?: readonly string[]; hasDependents: boolean },
): DependentDecision {
  const solid = owners.filter((o) => o.state === 'solid');
  const rest = owners.filter((o) => o.state !== 'solid');
  if (!rest.length) return { action: 'keep' };
  if (solid.length) {
    // A waiting owner's reference goes too, or that owner would wait forever for a dependent
    // someone else keeps.
    return { action: 'remove-references', uids: rest.map((o) => o.uid) };
  }
  // Foreground all the way down: an owner waits until its dependents' own dependents are gone.
  if (rest.some((o) => o.state === 'waiting') && dependent.hasDependents) return { action: 'delete', propagationPolicy: 'Foreground' };
  const fins = dependent.finalizers ?? [];
  if (fins.includes(FINALIZER_ORPHAN)) return { action: 'delete', propagationPolicy: 'Orphan' };
  if (fins.includes(FINALIZER_FOREGROUND)) return { action: 'delete', propagationPolicy: 'Foreground' };
  return { action: 'delete', propagationPolicy: 'Background' };
}

/** Being deleted and held by `finalizer`: the GC has work to do as this object's owner. */
export function deletingWith(obj: KubeObject, finalizer: string): boolean {
  return !!obj.metadata.deletionTimestamp && (obj.metadata.finalizers ?? []).includes(finalizer);
}

/**
 * Dependents that hold a foreground-deleting owner back: those whose reference to it says
 * `blockOwnerDeletion` (Kubernetes' blockingDependents). Others are deleted too, but not waited for.
 */
export function blockingDependents(ownerUid: string, dependents: readonly KubeObject[]): KubeObject[] {
  return dependents.filter((d) => (d.metadata.ownerReferences ?? []).some((r) => r.uid === ownerUid && r.blockOwnerDeletion === true));
}

/** The owner uids an object refers to (an informer index). */
export function ownerUids(obj: KubeObject): string[] {
  return (obj.metadata.ownerReferences ?? []).map((r) => r.uid);
}
