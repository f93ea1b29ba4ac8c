/**
 * ReplicaSets (pkg/registry/apps/replicaset/strategy.go): replicas default 1, selector rules, template
 * rules, immutable selector.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { defaultPodTemplateSpec } from '../defaults/pod-spec.ts';
import { nonNegative } from '../validation/fields.ts';
import {
  validateAlwaysRunningTemplate, validateReplicaStatus, validateRequiredSelector, validateSelectorImmutable,
} from '../validation/workload.ts';

/** ValidateReplicaSetSpec. */
export function validateReplicaSetSpec(spec: unknown): FieldError[] {
  if (!isObject(spec)) return [fieldError.required('spec', '')];
  return [
    ...nonNegative(spec.replicas, 'spec.replicas'),
    ...nonNegative(spec.minReadySeconds, 'spec.minReadySeconds'),
    // Kubernetes words the ReplicaSet error as for deployments.
    ...validateRequiredSelector(spec.selector, 'spec.selector', 'deployment'),
    ...validateAlwaysRunningTemplate(spec.template, spec.selector, 'spec.template', 'ReplicaSet'),
  ];
}

export const replicaSetStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    if (!isObject(obj.spec)) obj.spec = {};
    obj.spec.replicas ??= 1;
    defaultPodTemplateSpec(obj.spec.template);
  },

  prepareForCreate(obj: KubeObject): void {
    obj.status = {};
  },

  validate(obj: KubeObject) {
    return validateReplicaSetSpec(obj.spec);
  },

  validateUpdate(obj: KubeObject, old: KubeObject) {
    return validateSelectorImmutable(obj.spec?.selector, old.spec?.selector);
  },

  validateStatusUpdate(obj: KubeObject) {
    return validateReplicaStatus(obj.status, ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'],
      ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'], 'cannot be greater than readyReplicas');
  },
};
