/**
 * Deployments (pkg/registry/apps/deployment/strategy.go, apps/v1 defaults and validation): replicas,
 * RollingUpdate 25%/25%, revision history, progress deadline; selector rules; strategy rules.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { defaultPodTemplateSpec } from '../defaults/pod-spec.ts';
import { invalidRendered, nonNegative } from '../validation/fields.ts';
import {
  intOrPercentValue, showIntOrString, validateAlwaysRunningTemplate, validateCollisionCount, validateIntOrPercent,
  validateReplicaStatus, validateRequiredSelector, validateSelectorImmutable,
} from '../validation/workload.ts';

type Rec = Record<string, any>;

function validateStrategy(strategy: unknown, path: string): FieldError[] {
  if (!isObject(strategy)) return [fieldError.required(path, '')];
  const errs: FieldError[] = [];
  switch (strategy.type) {
    case 'Recreate':
      if (strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
        errs.push(fieldError.forbidden(`${path}.rollingUpdate`, "may not be specified when strategy `type` is 'Recreate'"));
      }
      break;
    case 'RollingUpdate': {
      const ru = strategy.rollingUpdate;
      if (!isObject(ru)) {
        errs.push(fieldError.required(`${path}.rollingUpdate`, 'this should be defaulted and never be nil'));
        break;
      }
      const p = `${path}.rollingUpdate`;
      errs.push(...validateIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`, false));
      errs.push(...validateIntOrPercent(ru.maxSurge, `${p}.maxSurge`, false));
      if ((intOrPercentValue(ru.maxUnavailable) ?? 0) === 0 && (intOrPercentValue(ru.maxSurge) ?? 0) === 0) {
        errs.push(invalidRendered(`${p}.maxUnavailable`, showIntOrString(ru.maxUnavailable), 'may not be 0 when `maxSurge` is 0'));
      }
      const mu = intOrPercentValue(ru.maxUnavailable);
      if (typeof ru.maxUnavailable === 'string' && mu !== undefined && mu > 100) {
        errs.push(invalidRendered(`${p}.maxUnavailable`, ru.maxUnavailable, 'must not be greater than 100%'));
      }
      break;
    }
    default:
      errs.push(fieldError.notSupported(path, strategy.type ?? '', ['Recreate', 'RollingUpdate']));
  }
  return errs;
}

/** ValidateDeploymentSpec. */
export function validateDeploymentSpec(spec: unknown): FieldError[] {
  if (!isObject(spec)) return [fieldError.required('spec', '')];
  const errs: FieldError[] = [...nonNegative(spec.replicas, 'spec.replicas')];
  errs.push(...validateRequiredSelector(spec.selector, 'spec.selector', 'deployment'));
  errs.push(...validateAlwaysRunningTemplate(spec.template, spec.selector, 'spec.template', 'ReplicaSet'));
  errs.push(...validateStrategy(spec.strategy, 'spec.strategy'));
  errs.push(...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  const pds = spec.progressDeadlineSeconds;
  if (typeof pds === 'number') {
    errs.push(...nonNegative(pds, 'spec.progressDeadlineSeconds'));
    if (pds <= (typeof spec.minReadySeconds === 'number' ? spec.minReadySeconds : 0)) {
      errs.push(fieldError.invalid('spec.progressDeadlineSeconds', pds, 'must be greater than minReadySeconds'));
    }
  }
  return errs;
}

export const deploymentStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    if (!isObject(obj.spec)) obj.spec = {};
    const spec: Rec = obj.spec;
    spec.replicas ??= 1;
    if (!isObject(spec.strategy)) spec.strategy = {};
    spec.strategy.type ||= 'RollingUpdate';
    if (spec.strategy.type === 'RollingUpdate') {
      if (!isObject(spec.strategy.rollingUpdate)) spec.strategy.rollingUpdate = {};
      spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
      spec.strategy.rollingUpdate.maxSurge ??= '25%';
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
    defaultPodTemplateSpec(spec.template);
  },

  prepareForCreate(obj: KubeObject): void {
    obj.status = {};
  },

  validate(obj: KubeObject) {
    return validateDeploymentSpec(obj.spec);
  },

  validateUpdate(obj: KubeObject, old: KubeObject) {
    return validateSelectorImmutable(obj.spec?.selector, old.spec?.selector);
  },

  validateStatusUpdate(obj: KubeObject, old: KubeObject) {
    return [
      ...validateReplicaStatus(obj.status, ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'],
        ['updatedReplicas', 'readyReplicas', 'availableReplicas'], 'cannot be greater than readyReplicas'),
      ...validateCollisionCount(obj.status, old.status),
    ];
  },
};
