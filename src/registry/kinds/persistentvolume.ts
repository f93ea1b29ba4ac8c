/**
 * PersistentVolume strategy (ValidatePersistentVolume): access modes, a positive `storage`
 * capacity, exactly one volume source, reclaim policy (default Retain), volume mode (default
 * Filesystem); the source and volume mode are immutable. New volumes start Pending; a status write
 * that changes the phase stamps `lastPhaseTransitionTime` (unless the writer set a new one), as
 * the PV status strategy does upstream.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import type { Strategy } from '../types.ts';
import { isDNS1123Subdomain } from '../../apis/names.ts';
import { QUANTITY_MSG, tryParseQuantity } from '../../apis/quantity.ts';
import { rfc3339 } from '../../apis/time.ts';

export const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
export const VOLUME_MODES = ['Block', 'Filesystem'];
const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'];

/** Every PersistentVolumeSource member; Berth mounts hostPath and local, the others are stored as given. */
export const PV_SOURCES = [
  'gcePersistentDisk', 'awsElasticBlockStore', 'hostPath', 'glusterfs', 'nfs', 'rbd', 'iscsi', 'cinder',
  'cephfs', 'fc', 'flocker', 'flexVolume', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk',
  'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'local', 'storageos', 'csi',
];
const HOST_PATH_TYPES = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

/** A quantity that parses and is > 0, checked at `path`. */
export function validatePositiveQuantity(q: unknown, path: string): FieldError[] {
  const n = tryParseQuantity(q);
  if (n === undefined) return [fieldError.invalid(path, q, QUANTITY_MSG)];
  if (n <= 0) return [fieldError.invalid(path, String(q), 'must be greater than zero')];
  return [];
}

/** Required, supported access modes; ReadWriteOncePod may not be mixed with others. */
export function validateAccessModes(modes: unknown, path: string, requiredDetail = ''): FieldError[] {
  const list: unknown[] = Array.isArray(modes) ? modes : [];
  if (list.length === 0) return [fieldError.required(path, requiredDetail)];
  const errs: FieldError[] = [];
  for (const m of list) if (!ACCESS_MODES.includes(m as string)) errs.push(fieldError.notSupported(path, m, ACCESS_MODES));
  if (list.includes('ReadWriteOncePod') && list.some((m) => m !== 'ReadWriteOncePod')) {
    errs.push(fieldError.forbidden(path, 'may not use ReadWriteOncePod with other access modes'));
  }
  return errs;
}

function validateLocalPath(path: unknown, at: string): FieldError[] {
  if (!path) return [fieldError.required(at)];
  if (String(path).split('/').includes('..')) return [fieldError.invalid(at, path, "must not contain '..'")];
  return [];
}

function validatePVSpec(spec: any): FieldError[] {
  const errs = validateAccessModes(spec.accessModes, 'spec.accessModes');
  const cap: Record<string, unknown> = spec.capacity ?? {};
  if (Object.keys(cap).length === 0) errs.push(fieldError.required('spec.capacity'));
  if (!Object.hasOwn(cap, 'storage') || Object.keys(cap).length > 1) errs.push(fieldError.notSupported('spec.capacity', cap, ['storage']));
  for (const [r, q] of Object.entries(cap)) errs.push(...validatePositiveQuantity(q, `spec.capacity[${r}]`));
  if (spec.persistentVolumeReclaimPolicy && !RECLAIM_POLICIES.includes(spec.persistentVolumeReclaimPolicy)) {
    errs.push(fieldError.notSupported('spec.persistentVolumeReclaimPolicy', spec.persistentVolumeReclaimPolicy, RECLAIM_POLICIES));
  }
  const present = PV_SOURCES.filter((s) => spec[s] !== undefined && spec[s] !== null);
  if (present.length === 0) errs.push(fieldError.required('spec', 'must specify a volume type'));
  for (const extra of present.slice(1)) errs.push(fieldError.forbidden(`spec.${extra}`, 'may not specify more than 1 volume type'));
  if (spec.hostPath) {
    errs.push(...validateLocalPath(spec.hostPath.path, 'spec.hostPath.path'));
    const t = spec.hostPath.type ?? '';
    if (!HOST_PATH_TYPES.includes(t)) errs.push(fieldError.notSupported('spec.hostPath.type', t, HOST_PATH_TYPES));
    if (String(spec.hostPath.path ?? '').replace(/\/+$/, '') === '' && spec.hostPath.path && spec.persistentVolumeReclaimPolicy === 'Recycle') {
      errs.push(fieldError.forbidden('spec.persistentVolumeReclaimPolicy', "may not be 'recycle' for a hostPath mount of '/'"));
    }
  }
  if (spec.local) {
    errs.push(...validateLocalPath(spec.local.path, 'spec.local.path'));
    // A local volume lives on one node; Kubernetes insists on saying which.
    if (!spec.nodeAffinity?.required) errs.push(fieldError.required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (spec.storageClassName) {
    for (const msg of isDNS1123Subdomain(spec.storageClassName)) errs.push(fieldError.invalid('spec.storageClassName', spec.storageClassName, msg));
  }
  if (spec.volumeMode && !VOLUME_MODES.includes(spec.volumeMode)) errs.push(fieldError.notSupported('spec.volumeMode', spec.volumeMode, VOLUME_MODES));
  return errs;
}

const sourceOf = (spec: any) => Object.fromEntries(PV_SOURCES.filter((s) => spec?.[s] != null).map((s) => [s, spec[s]]));

export const persistentvolumeStrategy: Strategy = {
  defaults(obj) {
    obj.spec ??= {};
    if (!obj.spec.persistentVolumeReclaimPolicy) obj.spec.persistentVolumeReclaimPolicy = 'Retain';
    if (!obj.spec.volumeMode) obj.spec.volumeMode = 'Filesystem';
    obj.status ??= {};
    if (!obj.status.phase) obj.status.phase = 'Pending';
  },
  prepareForCreate(obj) {
    obj.status = { phase: 'Pending', lastPhaseTransitionTime: rfc3339() };
  },
  validate: (obj) => validatePVSpec(obj.spec ?? {}),
  subresources: {
    status: {
      prepare(obj, stored) {
        const before = stored.status ?? {};
        const next = stored;
        if (obj.status === undefined) delete next.status;
        else next.status = obj.status;
        const st = next.status;
        if (st && st.phase !== before.phase && (!st.lastPhaseTransitionTime || st.lastPhaseTransitionTime === before.lastPhaseTransitionTime)) {
          st.lastPhaseTransitionTime = rfc3339();
        }
        return next;
      },
      validate: () => [],
    },
  },
  validateUpdate(obj, old) {
    const errs = validatePVSpec(obj.spec ?? {});
    if (!isDeepStrictEqual(sourceOf(obj.spec), sourceOf(old.spec))) {
      errs.push(fieldError.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
    }
    if ((obj.spec?.volumeMode ?? '') !== (old.spec?.volumeMode ?? '')) errs.push(fieldError.immutable('volumeMode', obj.spec?.volumeMode ?? ''));
    if (old.spec?.nodeAffinity && !isDeepStrictEqual(obj.spec?.nodeAffinity ?? null, old.spec.nodeAffinity)) {
      errs.push(fieldError.immutable('nodeAffinity', obj.spec?.nodeAffinity ?? ''));
    }
    return errs;
  },
};
