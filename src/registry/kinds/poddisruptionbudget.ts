/**
 * policy/v1 PodDisruptionBudgets (pkg/registry/policy/poddisruptionbudget/strategy.go and
 * pkg/apis/policy/validation): the status starts empty with its four counts at 0 (they have no
 * omitempty) and only the status subresource writes it; the spec — minAvailable or maxUnavailable
 * (an integer ≥ 0 or a percentage ≤ 100%), a label selector and unhealthyPodEvictionPolicy — may
 * change after creation (policy/v1 allows it) and bumps the generation the controller observes.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { UNHEALTHY_POD_EVICTION_POLICIES } from '../../apis/pod-disruption-budget.ts';
import { nonNegative } from '../validation/fields.ts';
import { validateLabelSelector } from '../validation/label-selector.ts';
import { validateIntOrPercent } from '../validation/workload.ts';
import { validateMetaConditions } from '../validation/meta-conditions.ts';

/** The counts of a new (or unobserved) budget: shown as 0, never absent. */
const EMPTY_STATUS = () => ({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });

/** ValidatePodDisruptionBudgetSpec. */
export function validatePodDisruptionBudgetSpec(spec: unknown): FieldError[] {
  if (spec === undefined || spec === null) return [];
  if (!isObject(spec)) return [fieldError.typeInvalid('spec', spec, 'must be an object')];
  const errs: FieldError[] = [];
  const has = (v: unknown) => v !== undefined && v !== null;
  if (has(spec.minAvailable) && has(spec.maxUnavailable)) errs.push(fieldError.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  errs.push(...validateIntOrPercent(spec.minAvailable, 'spec.minAvailable', true));
  errs.push(...validateIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable', true));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
  const policy: unknown = spec.unhealthyPodEvictionPolicy;
  if (has(policy) && !(UNHEALTHY_POD_EVICTION_POLICIES as readonly unknown[]).includes(policy)) {
    errs.push(fieldError.notSupported('spec.unhealthyPodEvictionPolicy', policy, UNHEALTHY_POD_EVICTION_POLICIES));
  }
  return errs;
}

/** ValidatePodDisruptionBudgetStatusUpdate (policy/v1): valid conditions and non-negative counts. */
export function validatePodDisruptionBudgetStatus(status: unknown): FieldError[] {
  if (!isObject(status)) return [];
  const errs = validateMetaConditions(status.conditions, 'status.conditions');
  for (const f of ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']) errs.push(...nonNegative(status[f], `status.${f}`));
  return errs;
}

export const podDisruptionBudgetStrategy: Strategy = {
  prepareForCreate(obj: KubeObject): void {
    obj.status = EMPTY_STATUS();
  },

  validate(obj: KubeObject) {
    return validatePodDisruptionBudgetSpec(obj.spec);
  },

  validateStatusUpdate(obj: KubeObject) {
    return validatePodDisruptionBudgetStatus(obj.status);
  },
};
