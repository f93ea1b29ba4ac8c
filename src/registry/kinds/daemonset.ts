/**
 * DaemonSets (pkg/registry/apps/daemonset/strategy.go): RollingUpdate maxUnavailable 1 / maxSurge 0,
 * revision history; selector and template rules; immutable selector; templateGeneration rules.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { defaultPodTemplateSpec } from '../defaults/pod-spec.ts';
import { invalidRendered, jsonEqual, nonNegative } from '../validation/fields.ts';
import {
  intOrPercentValue, showIntOrString, validateAlwaysRunningTemplate, validateCollisionCount, validateIntOrPercent,
  validateRequiredSelector, validateSelectorImmutable,
} from '../validation/workload.ts';

type Rec = Record<string, any>;

function validateUpdateStrategy(us: unknown, path: string): FieldError[] {
  const s: Rec = isObject(us) ? us : {};
  switch (s.type) {
    case 'OnDelete':
      return [];
    case 'RollingUpdate': {
      const ru = s.rollingUpdate;
      if (!isObject(ru)) return [fieldError.required(`${path}.rollingUpdate`, '')];
      const p = `${path}.rollingUpdate`;
      const errs = [
        ...validateIntOrPercent(ru.maxUnavailable, `${p}.maxUnavailable`, true),
        ...validateIntOrPercent(ru.maxSurge, `${p}.maxSurge`, true),
      ];
      const hasUnavailable = (intOrPercentValue(ru.maxUnavailable) ?? 0) !== 0;
      const hasSurge = (intOrPercentValue(ru.maxSurge) ?? 0) !== 0;
      if (hasUnavailable && hasSurge) errs.push(invalidRendered(`${p}.maxSurge`, showIntOrString(ru.maxSurge), 'may not be set when maxUnavailable is non-zero'));
      if (!hasUnavailable && !hasSurge) errs.push(fieldError.required(`${p}.maxUnavailable`, 'cannot be 0 when maxSurge is 0'));
      return errs;
    }
    default:
      return [fieldError.notSupported(path, s.type ?? '', ['RollingUpdate', 'OnDelete'])];
  }
}

/** ValidateDaemonSetSpec. */
export function validateDaemonSetSpec(spec: unknown): FieldError[] {
  if (!isObject(spec)) return [fieldError.required('spec', '')];
  return [
    ...validateRequiredSelector(spec.selector, 'spec.selector', 'daemonset'),
    ...validateAlwaysRunningTemplate(spec.template, spec.selector, 'spec.template', 'DaemonSet'),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    ...nonNegative(spec.templateGeneration, 'spec.templateGeneration'),
    ...validateUpdateStrategy(spec.updateStrategy, 'spec.updateStrategy'),
    ...nonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'),
  ];
}

export const daemonSetStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    if (!isObject(obj.spec)) obj.spec = {};
    const spec: Rec = obj.spec;
    if (!isObject(spec.updateStrategy)) spec.updateStrategy = {};
    spec.updateStrategy.type ||= 'RollingUpdate';
    if (spec.updateStrategy.type === 'RollingUpdate') {
      if (!isObject(spec.updateStrategy.rollingUpdate)) spec.updateStrategy.rollingUpdate = {};
      spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
      spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
    defaultPodTemplateSpec(spec.template);
  },

  prepareForCreate(obj: KubeObject): void {
    obj.status = {};
  },

  prepareForUpdate(obj: KubeObject, old: KubeObject): void {
    // As the DaemonSet strategy does: a template change bumps the (deprecated) templateGeneration.
    if (isObject(obj.spec) && isObject(old.spec) && !jsonEqual(obj.spec.template, old.spec.template) && typeof old.spec.templateGeneration === 'number') {
      obj.spec.templateGeneration = old.spec.templateGeneration + 1;
    }
  },

  validate(obj: KubeObject) {
    return validateDaemonSetSpec(obj.spec);
  },

  validateUpdate(obj: KubeObject, old: KubeObject) {
    const errs = validateSelectorImmutable(obj.spec?.selector, old.spec?.selector);
    const n = obj.spec?.templateGeneration;
    const o = old.spec?.templateGeneration;
    if (typeof n === 'number' && typeof o === 'number' && n < o) {
      errs.push(fieldError.invalid('spec.templateGeneration', n, 'must not be decremented'));
    }
    return errs;
  },

  validateStatusUpdate(obj: KubeObject, old: KubeObject) {
    const st: Rec = isObject(obj.status) ? obj.status : {};
    const errs: FieldError[] = [];
    for (const f of ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'observedGeneration',
      'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable', 'collisionCount']) {
      errs.push(...nonNegative(st[f], `status.${f}`));
    }
    return [...errs, ...validateCollisionCount(obj.status, old.status)];
  },
};
