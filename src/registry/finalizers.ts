/**
 * The finalizers the generic store knows (apimachinery metav1.FinalizerOrphanDependents and
 * FinalizerDeleteDependents, set by a delete's propagation policy and finished by the garbage
 * collector) and when a deleting object is still held.
 */
import type { KubeObject } from '../apis/object.ts';

export const FINALIZER_ORPHAN = 'orphan';
export const FINALIZER_FOREGROUND = 'foregroundDeletion';

/** True while something still holds a deleting object (finalizers; a namespace's spec.finalizers). */
export function finalizersPending(obj: KubeObject): boolean {
  if (obj.metadata.finalizers?.length) return true;
  return obj.kind === 'Namespace' && (obj.spec?.finalizers?.length ?? 0) > 0;
}
