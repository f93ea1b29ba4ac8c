/**
 * What an informer caches of an object (its form): by default without `metadata.managedFields`
 * (kube-controller-manager's and kube-scheduler's informers trim them), pods also sharing what they
 * repeat of each other (object-intern.ts); a consumer's own `transform` replaces both (informer.ts).
 */
import type { KubeObject } from '../apis/object.ts';
import type { ResourceRef } from './client.ts';
import { internPod } from './object-intern.ts';

/** An informer's view of the objects it caches (see InformerOptions.transform). */
export type Transform = (obj: KubeObject) => KubeObject;

/**
 * The object without `metadata.managedFields`: a new top object and metadata, everything else shared
 * with `obj` (which stays as it was: other watchers may hold it).
 */
export function withoutManagedFields(obj: KubeObject): KubeObject {
  const m = obj?.metadata;
  if (!m || m.managedFields === undefined) return obj;
  const { managedFields: _, ...metadata } = m;
  return { ...obj, metadata };
}

const KEEP: Transform = (obj) => obj;

/**
 * The default form of core/v1 pods: trimmed, and what pods repeat of each other shared with earlier
 * pods (object-intern.ts) — what a cluster has 150,000 of, and every informer of the API server keeps.
 */
export const podForm: Transform = (obj) => internPod(withoutManagedFields(obj));

/** The form an informer of `ref` caches unless given a transform: pods trimmed and shared, the rest trimmed. */
export function cachedFormOf(ref: ResourceRef, keepManagedFields = false): Transform {
  if (keepManagedFields) return KEEP;
  return ref.group === '' && ref.resource === 'pods' ? podForm : withoutManagedFields;
}
