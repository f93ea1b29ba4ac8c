/**
 * StatefulSets (pkg/registry/apps/statefulset/strategy.go and apps validation): defaults for replicas,
 * podManagementPolicy, updateStrategy, PVC retention and claim templates; selector and template rules;
 * updates limited to replicas, ordinals, template, updateStrategy, PVC retention and minReadySeconds.
 *
 * Unlike Kubernetes (which only checks a StatefulSet template's labels) the pod template is validated in
 * full, with volumeClaimTemplates counting as volumes, so broken templates fail at apply time.
 */
import type { KubeObject } from '../../apis/object.ts';
import { clone, isObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { defaultPodTemplateSpec } from '../defaults/pod-spec.ts';
import { jsonEqual, nonNegative } from '../validation/fields.ts';
import { isDNS1123Subdomain } from '../../apis/names.ts';
import { validateAlwaysRunningTemplate, validateCollisionCount, validateReplicaStatus, validateRequiredSelector } from '../validation/workload.ts';

type Rec = Record<string, any>;

const RETENTION = ['Retain', 'Delete'];

/** The error for a forbidden StatefulSet spec change, in Kubernetes' words. */
export const STS_UPDATE_FORBIDDEN = "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden";

function defaultClaimTemplate(pvc: Rec): void {
  if (!isObject(pvc)) return;
  if (!isObject(pvc.spec)) pvc.spec = {};
  pvc.spec.volumeMode ||= 'Filesystem';
  if (!isObject(pvc.status)) pvc.status = {};
  pvc.status.phase ||= 'Pending';
}

function claimTemplateNames(spec: Rec): string[] {
  return (Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [])
    .map((t: Rec) => t?.metadata?.name).filter((n: unknown): n is string => typeof n === 'string' && n !== '');
}

function validateClaimTemplates(list: unknown): FieldError[] {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return [fieldError.typeInvalid('spec.volumeClaimTemplates', list, 'must be a list')];
  const errs: FieldError[] = [];
  list.forEach((t: Rec, i) => {
    const p = `spec.volumeClaimTemplates[${i}]`;
    const name = t?.metadata?.name;
    if (typeof name !== 'string' || name === '') errs.push(fieldError.required(`${p}.metadata.name`, 'name or generateName is required'));
    else for (const m of isDNS1123Subdomain(name)) errs.push(fieldError.invalid(`${p}.metadata.name`, name, m));
    const modes = t?.spec?.accessModes;
    if (!Array.isArray(modes) || modes.length === 0) errs.push(fieldError.required(`${p}.spec.accessModes`, 'at least 1 access mode is required'));
  });
  return errs;
}

/** ValidateStatefulSetSpec. */
export function validateStatefulSetSpec(spec: unknown): FieldError[] {
  if (!isObject(spec)) return [fieldError.required('spec', '')];
  const errs: FieldError[] = [];
  const pmp = spec.podManagementPolicy;
  if (!pmp) errs.push(fieldError.required('spec.podManagementPolicy', ''));
  else if (pmp !== 'OrderedReady' && pmp !== 'Parallel') errs.push(fieldError.invalid('spec.podManagementPolicy', pmp, "must be 'OrderedReady' or 'Parallel'"));

  const us: Rec = isObject(spec.updateStrategy) ? spec.updateStrategy : {};
  switch (us.type) {
    case undefined:
    case '':
      errs.push(fieldError.required('spec.updateStrategy', ''));
      break;
    case 'OnDelete':
      if (us.rollingUpdate !== undefined && us.rollingUpdate !== null) {
        errs.push(fieldError.invalid('spec.updateStrategy.rollingUpdate', us.rollingUpdate, "only allowed for updateStrategy 'RollingUpdate'"));
      }
      break;
    case 'RollingUpdate':
      if (isObject(us.rollingUpdate)) errs.push(...nonNegative(us.rollingUpdate.partition, 'spec.updateStrategy.rollingUpdate.partition'));
      break;
    default:
      errs.push(fieldError.invalid('spec.updateStrategy', us, "must be 'RollingUpdate' or 'OnDelete'"));
  }

  const ret = spec.persistentVolumeClaimRetentionPolicy;
  if (isObject(ret)) {
    for (const f of ['whenDeleted', 'whenScaled']) {
      if (!RETENTION.includes(ret[f])) errs.push(fieldError.notSupported(`spec.persistentVolumeClaimRetentionPolicy.${f}`, ret[f] ?? '', RETENTION));
    }
  }
  errs.push(...nonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  if (isObject(spec.ordinals)) errs.push(...nonNegative(spec.ordinals.start, 'spec.ordinals.start'));
  errs.push(...validateRequiredSelector(spec.selector, 'spec.selector', 'statefulset'));
  errs.push(...validateAlwaysRunningTemplate(spec.template, spec.selector, 'spec.template', 'StatefulSet', { extraVolumes: claimTemplateNames(spec) }));
  errs.push(...validateClaimTemplates(spec.volumeClaimTemplates));
  return errs;
}

export const statefulSetStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    if (!isObject(obj.spec)) obj.spec = {};
    const spec: Rec = obj.spec;
    spec.podManagementPolicy ||= 'OrderedReady';
    if (!isObject(spec.updateStrategy)) spec.updateStrategy = {};
    if (!spec.updateStrategy.type) {
      spec.updateStrategy.type = 'RollingUpdate';
      if (!isObject(spec.updateStrategy.rollingUpdate)) spec.updateStrategy.rollingUpdate = {};
    }
    if (spec.updateStrategy.type === 'RollingUpdate' && isObject(spec.updateStrategy.rollingUpdate)) {
      spec.updateStrategy.rollingUpdate.partition ??= 0;
    }
    if (!isObject(spec.persistentVolumeClaimRetentionPolicy)) spec.persistentVolumeClaimRetentionPolicy = {};
    spec.persistentVolumeClaimRetentionPolicy.whenDeleted ||= 'Retain';
    spec.persistentVolumeClaimRetentionPolicy.whenScaled ||= 'Retain';
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
    defaultPodTemplateSpec(spec.template);
    for (const t of Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : []) defaultClaimTemplate(t);
  },

  prepareForCreate(obj: KubeObject): void {
    obj.status = {};
  },

  validate(obj: KubeObject) {
    return validateStatefulSetSpec(obj.spec);
  },

  validateUpdate(obj: KubeObject, old: KubeObject) {
    const spec: Rec = isObject(obj.spec) ? clone(obj.spec) : {};
    const oldSpec: Rec = isObject(old.spec) ? old.spec : {};
    for (const f of ['replicas', 'template', 'updateStrategy', 'minReadySeconds', 'ordinals', 'persistentVolumeClaimRetentionPolicy']) {
      spec[f] = oldSpec[f];
    }
    return jsonEqual(spec, oldSpec) ? [] : [fieldError.forbidden('spec', STS_UPDATE_FORBIDDEN)];
  },

  validateStatusUpdate(obj: KubeObject, old: KubeObject) {
    return [
      ...validateReplicaStatus(obj.status, ['replicas', 'readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'],
        ['readyReplicas', 'currentReplicas', 'updatedReplicas', 'availableReplicas'], 'cannot be greater than status.readyReplicas'),
      ...validateCollisionCount(obj.status, old.status),
    ];
  },
};

