/**
 * metav1.Condition lists in a status (apimachinery's meta/v1/validation ValidateConditions and
 * ValidateCondition): each type a qualified name and given once, status True/False/Unknown, a
 * non-negative observedGeneration, a lastTransitionTime, a reason in CamelCase-ish form of at most
 * 1 KiB and a message of at most 32 KiB. Kinds whose status carries such conditions (PodDisruptionBudget)
 * check them on status writes.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isQualifiedName } from '../../apis/names.ts';
import { isObject } from '../../apis/object.ts';

const STATUSES = ['False', 'True', 'Unknown'];
const MAX_REASON = 1024;
const MAX_MESSAGE = 32 * 1024;
const REASON = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
const REASON_MSG = "a condition reason must start with alphabetic character, optionally followed by a string of alphanumeric characters or '_,:', and must end with an alphanumeric character or '_' (e.g. 'my_name',  or 'MY_NAME',  or 'MyName',  or 'ReasonA,ReasonB',  or 'ReasonA:ReasonB', regex used for validation is '[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?')";

/** ValidateCondition for the condition at `path`. */
export function validateMetaCondition(c: unknown, path: string): FieldError[] {
  if (!isObject(c)) return [fieldError.typeInvalid(path, c, 'must be an object')];
  const errs: FieldError[] = [];
  const type = typeof c.type === 'string' ? c.type : '';
  for (const m of isQualifiedName(type)) errs.push(fieldError.invalid(`${path}.type`, type, m));
  if (!STATUSES.includes(c.status)) errs.push(fieldError.notSupported(`${path}.status`, c.status ?? '', STATUSES));
  if (typeof c.observedGeneration === 'number' && c.observedGeneration < 0) {
    errs.push(fieldError.invalid(`${path}.observedGeneration`, c.observedGeneration, 'must be greater than or equal to zero'));
  }
  if (!c.lastTransitionTime) errs.push(fieldError.required(`${path}.lastTransitionTime`, 'must be set'));
  const reason = typeof c.reason === 'string' ? c.reason : '';
  if (!reason) errs.push(fieldError.required(`${path}.reason`, 'must be set'));
  else {
    if (!REASON.test(reason)) errs.push(fieldError.invalid(`${path}.reason`, reason, REASON_MSG));
    if (Buffer.byteLength(reason) > MAX_REASON) errs.push(fieldError.tooLong(`${path}.reason`, reason, MAX_REASON));
  }
  if (typeof c.message === 'string' && Buffer.byteLength(c.message) > MAX_MESSAGE) errs.push(fieldError.tooLong(`${path}.message`, c.message, MAX_MESSAGE));
  return errs;
}

/** ValidateConditions: every condition valid, and no type twice (the duplicate is reported at its type). */
export function validateMetaConditions(list: unknown, path: string): FieldError[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return [fieldError.typeInvalid(path, list, 'must be a list')];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  list.forEach((c, i) => {
    const type = isObject(c) ? c.type : undefined;
    if (typeof type === 'string') {
      if (seen.has(type)) errs.push(fieldError.duplicate(`${path}[${i}].type`, type));
      seen.add(type);
    }
    errs.push(...validateMetaCondition(c, `${path}[${i}]`));
  });
  return errs;
}
