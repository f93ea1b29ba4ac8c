/**
 * ServiceAccount strategy: Kubernetes validates only metadata (done generically) and leaves
 * `secrets` / `imagePullSecrets` references unchecked beyond their shape.
 */
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';

function validateRefs(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  for (const key of ['secrets', 'imagePullSecrets'] as const) {
    const list: unknown = obj[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) errs.push(fieldError.invalid(key, list, 'must be a list'));
  }
  if (obj.automountServiceAccountToken !== undefined && typeof obj.automountServiceAccountToken !== 'boolean') {
    errs.push(fieldError.invalid('automountServiceAccountToken', obj.automountServiceAccountToken, 'must be a boolean'));
  }
  return errs;
}

export const serviceaccountStrategy: Strategy = {
  validate: validateRefs,
  validateUpdate: validateRefs,
};
