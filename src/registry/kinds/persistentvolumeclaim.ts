/**
 * PersistentVolumeClaim strategy (ValidatePersistentVolumeClaim[Update]): access modes and a
 * positive `storage` request are required; after creation the spec is frozen except binding
 * (volumeName once, storageClassName from unset while unbound) and, for bound claims, growing
 * resources.requests.storage. New claims start Pending.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { clone } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isDNS1123Subdomain } from '../../apis/names.ts';
import { VOLUME_MODES, validateAccessModes, validatePositiveQuantity } from './persistentvolume.ts';
import { tryParseQuantity } from '../../apis/quantity.ts';

function validatePVCSpec(spec: any): FieldError[] {
  const errs = validateAccessModes(spec.accessModes, 'spec.accessModes', 'at least 1 access mode is required');
  const storage = spec.resources?.requests?.storage;
  // Kubernetes keys this path on `resources` (not `resources.requests`); kept for parity.
  if (storage === undefined || storage === null || storage === '') errs.push(fieldError.required('spec.resources[storage]'));
  else errs.push(...validatePositiveQuantity(storage, 'spec.resources[storage]'));
  if (spec.storageClassName) {
    for (const msg of isDNS1123Subdomain(spec.storageClassName)) errs.push(fieldError.invalid('spec.storageClassName', spec.storageClassName, msg));
  }
  if (spec.volumeMode && !VOLUME_MODES.includes(spec.volumeMode)) errs.push(fieldError.notSupported('spec.volumeMode', spec.volumeMode, VOLUME_MODES));
  return errs;
}

/** Drops empty values so `{}` and absent compare equal, like Go's zero values. */
function prune(v: any): any {
  if (Array.isArray(v)) return v.length ? v.map(prune) : undefined;
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) { const p = prune(x); if (p !== undefined) out[k] = p; }
    return Object.keys(out).length ? out : undefined;
  }
  return v === '' || v === null ? undefined : v;
}

function validatePVCUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
  const errs = validatePVCSpec(obj.spec ?? {});
  const newSpec = clone(obj.spec ?? {});
  const oldSpec = clone(old.spec ?? {});
  // The binder may set volumeName once.
  if (!oldSpec.volumeName) oldSpec.volumeName = newSpec.volumeName;
  // A class may be assigned to an unbound claim that had none.
  if (oldSpec.storageClassName == null && newSpec.storageClassName && !old.spec?.volumeName) {
    oldSpec.storageClassName = newSpec.storageClassName;
  }
  // Bound claims may be expanded; the size itself is checked below.
  if (obj.status?.phase === 'Bound' && newSpec.resources?.requests) {
    newSpec.resources.requests.storage = oldSpec.resources?.requests?.storage;
  }
  // Volume attributes classes may change on any claim (VolumeAttributesClass feature).
  oldSpec.volumeAttributesClassName = newSpec.volumeAttributesClassName;
  if (!isDeepStrictEqual(prune(newSpec), prune(oldSpec))) {
    const changed = [...new Set([...Object.keys(newSpec), ...Object.keys(oldSpec)])]
      .filter((k) => !isDeepStrictEqual(prune(newSpec[k]), prune(oldSpec[k]))).sort();
    errs.push(fieldError.forbidden('spec',
      `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n  changed: ${changed.join(', ')}`));
  }
  const oldSize = tryParseQuantity(old.spec?.resources?.requests?.storage);
  const newSize = tryParseQuantity(obj.spec?.resources?.requests?.storage);
  if (oldSize !== undefined && newSize !== undefined && newSize < oldSize) {
    errs.push(fieldError.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  }
  if ((obj.spec?.volumeMode ?? '') !== (old.spec?.volumeMode ?? '')) errs.push(fieldError.immutable('volumeMode', obj.spec?.volumeMode ?? ''));
  return errs;
}

export const persistentvolumeclaimStrategy: Strategy = {
  defaults(obj) {
    obj.spec ??= {};
    if (!obj.spec.volumeMode) obj.spec.volumeMode = 'Filesystem';
    obj.status ??= {};
    if (!obj.status.phase) obj.status.phase = 'Pending';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending' };
  },
  validate: (obj) => validatePVCSpec(obj.spec ?? {}),
  validateUpdate: validatePVCUpdate,
};
