/**
 * Pieces shared by the apps/v1 workload strategies (pkg/apis/apps/validation): the selector rules,
 * int-or-percent fields, replica-count status checks and the template rules for controllers whose pods
 * run forever (restartPolicy Always, no activeDeadlineSeconds).
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isObject } from '../../apis/object.ts';
import { isSelectorConvertible, validateLabelSelector, type LabelSelector } from './label-selector.ts';
import { validatePodTemplateSpec, type PodSpecOptions } from './pod-spec.ts';
import { goLabelSelector, invalidRendered, jsonEqual, nonNegative } from './fields.ts';

type Rec = Record<string, any>;

/** `spec.selector`: required, valid, and non-empty (`empty selector is invalid for <kind>`). */
export function validateRequiredSelector(sel: unknown, path: string, kindWord: string): FieldError[] {
  if (sel === undefined || sel === null) return [fieldError.required(path, '')];
  const errs = validateLabelSelector(sel, path);
  if (isObject(sel) && Object.keys(sel.matchLabels ?? {}).length + (Array.isArray(sel.matchExpressions) ? sel.matchExpressions.length : 0) === 0) {
    errs.push(invalidRendered(path, goLabelSelector(sel), `empty selector is invalid for ${kindWord}`));
  }
  return errs;
}

/** apps/v1 selectors may not change after creation. */
export function validateSelectorImmutable(sel: unknown, oldSel: unknown, path = 'spec.selector'): FieldError[] {
  return jsonEqual(sel, oldSel) ? [] : [invalidRendered(path, goLabelSelector(sel), 'field is immutable')];
}

/**
 * ValidatePodTemplateSpecForReplicaSet and the like: template labels match the selector, the pod spec
 * is valid, restartPolicy is Always and activeDeadlineSeconds is unset.
 */
export function validateAlwaysRunningTemplate(tpl: unknown, selector: unknown, path: string, kind: string, opts: PodSpecOptions = {}): FieldError[] {
  const sel = isObject(selector) && isSelectorConvertible(selector as LabelSelector) ? (selector as LabelSelector) : undefined;
  const errs = validatePodTemplateSpec(tpl, path, sel, opts);
  const spec: Rec | undefined = isObject(tpl) && isObject(tpl.spec) ? tpl.spec : undefined;
  if (spec && spec.restartPolicy !== 'Always') {
    errs.push(fieldError.notSupported(`${path}.spec.restartPolicy`, spec.restartPolicy ?? '', ['Always']));
  }
  if (spec && spec.activeDeadlineSeconds !== undefined && spec.activeDeadlineSeconds !== null) {
    errs.push(fieldError.forbidden(`${path}.spec.activeDeadlineSeconds`, `activeDeadlineSeconds in ${kind} is not Supported`));
  }
  return errs;
}

const PERCENT = /^[0-9]+%$/;

/** The integer value of an int-or-percent (`25%` → 25), or undefined when malformed. */
export function intOrPercentValue(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && PERCENT.test(v)) return Number(v.slice(0, -1));
  return undefined;
}

/** IntOrString values print unquoted in Kubernetes messages (they are fmt.Stringers). */
export function showIntOrString(v: unknown): string {
  return v === undefined || v === null ? '0' : String(v);
}

/** ValidatePositiveIntOrPercent plus IsNotMoreThan100Percent (when `max100`). */
export function validateIntOrPercent(v: unknown, path: string, max100: boolean): FieldError[] {
  if (v === undefined || v === null) return [];
  if (typeof v === 'number') return nonNegative(v, path);
  if (typeof v !== 'string' || !PERCENT.test(v)) {
    return [invalidRendered(path, String(v), "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")];
  }
  if (max100 && Number(v.slice(0, -1)) > 100) return [invalidRendered(path, v, 'must not be greater than 100%')];
  return [];
}

/**
 * Status counts of replica controllers: all non-negative, and each of `notAbove` at most status.replicas.
 * `readyField` names the field availableReplicas may not exceed.
 */
export function validateReplicaStatus(status: unknown, counts: string[], notAbove: string[], readyMsg: string): FieldError[] {
  if (!isObject(status)) return [];
  const errs: FieldError[] = [];
  for (const f of [...counts, 'observedGeneration', 'collisionCount']) errs.push(...nonNegative(status[f], `status.${f}`));
  const replicas = typeof status.replicas === 'number' ? status.replicas : 0;
  for (const f of notAbove) {
    if (typeof status[f] === 'number' && status[f] > replicas) errs.push(fieldError.invalid(`status.${f}`, status[f], 'cannot be greater than status.replicas'));
  }
  const ready = typeof status.readyReplicas === 'number' ? status.readyReplicas : 0;
  if (typeof status.availableReplicas === 'number' && status.availableReplicas > ready) {
    errs.push(fieldError.invalid('status.availableReplicas', status.availableReplicas, readyMsg));
  }
  return errs;
}

/** status.collisionCount may not decrease. */
export function validateCollisionCount(status: unknown, oldStatus: unknown): FieldError[] {
  const n = isObject(status) ? status.collisionCount : undefined;
  const o = isObject(oldStatus) ? oldStatus.collisionCount : undefined;
  if (typeof o !== 'number') return [];
  if (typeof n !== 'number' || n < o) return [fieldError.invalid('status.collisionCount', n ?? 0, 'cannot be decremented')];
  return [];
}
