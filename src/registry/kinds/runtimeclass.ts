/**
 * RuntimeClass strategy (node.k8s.io/v1): `handler` is a DNS-1123 label and immutable; overhead
 * and scheduling are accepted as given.
 */
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isDNS1123Label } from '../../apis/names.ts';
import { validateLabels } from '../validation/object-meta.ts';

function validateRuntimeClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const handler = obj.handler;
  if (handler === undefined || handler === null || handler === '') {
    errs.push(fieldError.required('handler'));
  } else {
    for (const msg of isDNS1123Label(String(handler))) errs.push(fieldError.invalid('handler', handler, msg));
  }
  const sel = obj.scheduling?.nodeSelector;
  if (sel) errs.push(...validateLabels(sel, 'scheduling.nodeSelector'));
  return errs;
}

export const runtimeclassStrategy: Strategy = {
  validate: validateRuntimeClass,
  validateUpdate(obj, old) {
    const errs = validateRuntimeClass(obj);
    if ((obj.handler ?? '') !== (old.handler ?? '')) errs.push(fieldError.immutable('handler', obj.handler ?? ''));
    return errs;
  },
};
