/**
 * Namespace strategy (pkg/registry/core/namespace/strategy.go): a new namespace is Active and
 * carries the `kubernetes` finalizer; `kubernetes.io/metadata.name` always mirrors the name.
 * spec.finalizers change only through the `finalize` subresource.
 */
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { validateFinalizers } from '../validation/object-meta.ts';
import { NAMESPACE_NAME_LABEL } from '../../apis/well-known.ts';

/** The label the API server keeps equal to the namespace's name. */

function setNameLabel(obj: KubeObject): void {
  const name = obj.metadata?.name;
  if (!name) return;
  obj.metadata.labels = { ...(obj.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
}

/** Checks spec.finalizers like metadata finalizers (errors on `spec.finalizers`). */
export function validateNamespaceFinalizers(obj: KubeObject): FieldError[] {
  const list: unknown = obj.spec?.finalizers;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return [fieldError.invalid('spec.finalizers', list, 'must be a list of strings')];
  // Kubernetes reports these without an index; reuse the metadata rules and flatten the path.
  return validateFinalizers(list.map(String), 'spec.finalizers')
    .map((e) => ({ ...e, field: 'spec.finalizers' }));
}

function validateStatusPhase(obj: KubeObject): FieldError[] {
  const phase = obj.status?.phase;
  if (!obj.metadata?.deletionTimestamp) {
    if (phase !== 'Active') return [fieldError.invalid('status.Phase', phase ?? '', "may only be 'Active' if `deletionTimestamp` is empty")];
  } else if (phase !== 'Terminating') {
    return [fieldError.invalid('status.Phase', phase ?? '', "may only be 'Terminating' if `deletionTimestamp` is not empty")];
  }
  return [];
}

export const namespaceStrategy: Strategy = {
  defaults(obj) {
    obj.spec ??= {};
    obj.status ??= {};
    if (!obj.status.phase) obj.status.phase = 'Active';
    setNameLabel(obj);
  },
  prepareForCreate(obj) {
    obj.spec ??= {};
    obj.status = { phase: 'Active' };
    // The kubernetes finalizer is required on create; it is removed later by the namespace controller.
    const fins: string[] = Array.isArray(obj.spec.finalizers) ? obj.spec.finalizers : [];
    if (!fins.includes('kubernetes')) fins.push('kubernetes');
    obj.spec.finalizers = fins;
    setNameLabel(obj);
  },
  prepareForUpdate(obj, old) {
    obj.spec = { ...(obj.spec ?? {}), finalizers: old.spec?.finalizers };
    if (obj.spec.finalizers === undefined) delete obj.spec.finalizers;
    obj.status = old.status;
    setNameLabel(obj);
  },
  validate: validateNamespaceFinalizers,
  validateUpdate: validateNamespaceFinalizers,
  validateStatusUpdate: validateStatusPhase,
};
