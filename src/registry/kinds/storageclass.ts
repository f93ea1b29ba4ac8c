/**
 * StorageClass strategy (pkg/apis/storage/validation): a qualified-name provisioner, bounded
 * parameters, reclaim policy Delete|Retain (default Delete), binding mode Immediate|
 * WaitForFirstConsumer (default Immediate), allowedTopologies terms (label-name keys, at least one
 * value, no duplicate key, value or term); provisioner, parameters, reclaimPolicy and
 * volumeBindingMode cannot change.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isQualifiedName } from '../../apis/names.ts';

const RECLAIM_POLICIES = ['Delete', 'Retain'];
const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'];
const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;

function validateStorageClass(obj: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const prov = obj.provisioner;
  if (!prov) errs.push(fieldError.required('provisioner'));
  else for (const msg of isQualifiedName(String(prov).toLowerCase())) errs.push(fieldError.invalid('provisioner', prov, msg));

  const params: Record<string, unknown> = obj.parameters ?? {};
  const keys = Object.keys(params);
  if (keys.length > MAX_PARAMETERS) {
    errs.push({ type: 'FieldValueTooLong', field: 'parameters', message: `Too long: must have at most ${MAX_PARAMETERS} bytes` });
  }
  let size = 0;
  for (const k of keys) {
    if (k.length === 0) errs.push(fieldError.invalid('parameters', k, 'field can not be empty.'));
    size += k.length + String(params[k] ?? '').length;
  }
  if (size > MAX_PARAMETERS_SIZE) {
    errs.push({ type: 'FieldValueTooLong', field: 'parameters', message: `Too long: must have at most ${MAX_PARAMETERS_SIZE} bytes` });
  }
  if (obj.reclaimPolicy && !RECLAIM_POLICIES.includes(obj.reclaimPolicy)) {
    errs.push(fieldError.notSupported('reclaimPolicy', obj.reclaimPolicy, RECLAIM_POLICIES));
  }
  if (!obj.volumeBindingMode) errs.push(fieldError.required('volumeBindingMode'));
  else if (!BINDING_MODES.includes(obj.volumeBindingMode)) {
    errs.push(fieldError.notSupported('volumeBindingMode', obj.volumeBindingMode, BINDING_MODES));
  }
  if (obj.allowVolumeExpansion !== undefined && obj.allowVolumeExpansion !== null && typeof obj.allowVolumeExpansion !== 'boolean') {
    errs.push(fieldError.invalid('allowVolumeExpansion', obj.allowVolumeExpansion, 'must be a boolean'));
  }
  errs.push(...validateAllowedTopologies(obj.allowedTopologies));
  return errs;
}

/** validateAllowedTopologies + ValidateTopologySelectorTerm (pkg/apis/core/validation). */
function validateAllowedTopologies(terms: unknown): FieldError[] {
  if (!Array.isArray(terms)) return [];
  const errs: FieldError[] = [];
  const seen: string[] = [];
  terms.forEach((term: any, i) => {
    const exprs: any[] = Array.isArray(term?.matchLabelExpressions) ? term.matchLabelExpressions : [];
    const byKey = new Map<string, string[]>();
    exprs.forEach((req, j) => {
      const at = `allowedTopologies[${i}].matchLabelExpressions[${j}]`;
      const values: unknown[] = Array.isArray(req?.values) ? req.values : [];
      if (!values.length) errs.push(fieldError.required(`${at}.values`, 'must specify as least one value'));
      const set = new Set<string>();
      values.forEach((v, k) => {
        if (set.has(String(v))) errs.push(fieldError.duplicate(`${at}.values[${k}]`, v));
        set.add(String(v));
      });
      const key = String(req?.key ?? '');
      for (const msg of isQualifiedName(key)) errs.push(fieldError.invalid(`${at}.key`, key, msg));
      if (byKey.has(key)) errs.push(fieldError.duplicate(`${at}.key`, key));
      byKey.set(key, [...set].sort());
    });
    const canonical = JSON.stringify([...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    if (seen.includes(canonical)) errs.push(fieldError.duplicate(`allowedTopologies[${i}].matchLabelExpressions`, ''));
    seen.push(canonical);
  });
  return errs;
}

const norm = (m: unknown) => (m && typeof m === 'object' && Object.keys(m).length > 0 ? m : undefined);

export const storageclassStrategy: Strategy = {
  defaults(obj) {
    if (!obj.reclaimPolicy) obj.reclaimPolicy = 'Delete';
    if (!obj.volumeBindingMode) obj.volumeBindingMode = 'Immediate';
  },
  validate: validateStorageClass,
  validateUpdate(obj, old) {
    const errs = validateStorageClass(obj);
    if (!isDeepStrictEqual(norm(obj.parameters), norm(old.parameters))) {
      errs.push(fieldError.forbidden('parameters', 'updates to parameters are forbidden.'));
    }
    if ((obj.provisioner ?? '') !== (old.provisioner ?? '')) {
      errs.push(fieldError.forbidden('provisioner', 'updates to provisioner are forbidden.'));
    }
    if ((obj.reclaimPolicy ?? '') !== (old.reclaimPolicy ?? '')) {
      errs.push(fieldError.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
    }
    if ((obj.volumeBindingMode ?? '') !== (old.volumeBindingMode ?? '')) {
      errs.push(fieldError.immutable('volumeBindingMode', obj.volumeBindingMode ?? ''));
    }
    return errs;
  },
};
