/**
 * ReplicationControllers (core/v1; pkg/registry/core/replicationcontroller/strategy.go,
 * pkg/apis/core/v1/defaults.go SetDefaults_ReplicationController, ValidateReplicationController):
 * the ReplicaSet's ancestor, still the kind public example manifests use most often. Its selector is
 * a plain label map: defaulted from the template's labels when empty (and the RC's own labels too),
 * required non-empty, matched by the template, and — unlike apps/v1 — allowed to change.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';
import { labelSelectorToString } from '../../apis/selectors/label-selector-spec.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { validateLabels } from '../validation/label-selector.ts';
import { defaultPodTemplateSpec } from '../defaults/pod-spec.ts';
import { nonNegative } from '../validation/fields.ts';
import { validateAlwaysRunningTemplate, validateReplicaStatus } from '../validation/workload.ts';

const isMap = (v: unknown): v is Record<string, string> => isObject(v) && !Array.isArray(v);

/** ValidateReplicationControllerSpec. */
export function validateReplicationControllerSpec(spec: unknown): FieldError[] {
  if (!isObject(spec)) return [fieldError.required('spec', '')];
  const errs = [...nonNegative(spec.replicas, 'spec.replicas'), ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds')];
  if (spec.selector !== undefined && spec.selector !== null && !isMap(spec.selector)) {
    errs.push(fieldError.invalid('spec.selector', spec.selector, 'must be a map of label keys to values'));
    return errs;
  }
  const selector = (spec.selector ?? {}) as Record<string, string>;
  if (Object.keys(selector).length === 0) errs.push(fieldError.required('spec.selector', ''));
  else errs.push(...validateLabels(selector, 'spec.selector'));
  if (spec.template === undefined || spec.template === null) {
    errs.push(fieldError.required('spec.template', ''));
    return errs;
  }
  errs.push(...validateAlwaysRunningTemplate(spec.template, { matchLabels: selector }, 'spec.template', 'ReplicationController'));
  return errs;
}

export const replicationControllerStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    if (!isObject(obj.spec)) obj.spec = {};
    const spec = obj.spec;
    const templateLabels = isObject(spec.template) && isMap(spec.template.metadata?.labels) ? spec.template.metadata.labels : undefined;
    if (templateLabels) {
      if (!isMap(spec.selector) || Object.keys(spec.selector).length === 0) spec.selector = { ...templateLabels };
      if (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0) obj.metadata.labels = { ...templateLabels };
    }
    spec.replicas ??= 1;
    if (isObject(spec.template)) defaultPodTemplateSpec(spec.template);
  },

  prepareForCreate(obj: KubeObject): void {
    obj.status = {};
  },

  validate(obj: KubeObject) {
    return validateReplicationControllerSpec(obj.spec);
  },

  // The Scale's status.selector is the RC's map as a selector string (`app=nginx`), as upstream's
  // ReplicationController scale subresource renders it.
  scale: {
    read: (obj) => ({
      replicas: obj.spec?.replicas ?? 0, statusReplicas: obj.status?.replicas ?? 0,
      selector: labelSelectorToString({ matchLabels: isMap(obj.spec?.selector) ? obj.spec.selector : {} }),
    }),
    write: (obj, replicas) => { obj.spec = { ...(obj.spec ?? {}), replicas }; },
  },

  validateStatusUpdate(obj: KubeObject) {
    return validateReplicaStatus(obj.status, ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'],
      ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'], 'cannot be greater than readyReplicas');
  },
};
