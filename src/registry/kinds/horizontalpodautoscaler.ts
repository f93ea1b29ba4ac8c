/**
 * autoscaling/v2 HorizontalPodAutoscalers (pkg/registry/autoscaling/horizontalpodautoscaler/
 * strategy.go, pkg/apis/autoscaling/v2/defaults.go and pkg/apis/autoscaling/validation): defaults —
 * minReplicas 1, a CPU Utilization target of 80 % when no metric is given, and, when `behavior` is
 * set, every rule it leaves out (scale up: no window, max of +4 pods / +100 % per 15 s; scale down:
 * 300 s window, 100 % per 15 s; selectPolicy Max) — validation of the target, bounds, metrics and
 * behavior, and the status subresource (columns: tables/autoscaling.ts).
 */
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { tryParseQuantity } from '../../apis/quantity.ts';
import type { Strategy } from '../types.ts';

type Rec = Record<string, any>;

const SCALE_UP_DEFAULT = { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] };
const SCALE_DOWN_DEFAULT = { stabilizationWindowSeconds: 300, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] };
const MAX_WINDOW = 3600;
const MAX_PERIOD = 1800;
const METRIC_TYPES = ['Object', 'Pods', 'Resource', 'ContainerResource', 'External'];
const TARGET_TYPES = ['Utilization', 'Value', 'AverageValue'];

function defaultRules(rules: Rec | undefined, d: typeof SCALE_UP_DEFAULT): Rec {
  const out: Rec = { ...(rules ?? {}) };
  out.stabilizationWindowSeconds ??= d.stabilizationWindowSeconds;
  out.selectPolicy ??= d.selectPolicy;
  if (!out.policies?.length) out.policies = structuredClone(d.policies);
  return out;
}

function validateRules(r: unknown, path: string): FieldError[] {
  if (r === undefined || r === null) return [];
  if (!isObject(r)) return [fieldError.typeInvalid(path, r, 'must be an object')];
  const errs: FieldError[] = [];
  const w = r.stabilizationWindowSeconds;
  if (w !== undefined && (!Number.isInteger(w) || (w as number) < 0 || (w as number) > MAX_WINDOW)) {
    errs.push(fieldError.invalid(`${path}.stabilizationWindowSeconds`, w, `must be less than or equal to ${MAX_WINDOW}`));
  }
  if (r.selectPolicy !== undefined && !['Max', 'Min', 'Disabled'].includes(r.selectPolicy as string)) {
    errs.push(fieldError.notSupported(`${path}.selectPolicy`, r.selectPolicy, ['Disabled', 'Max', 'Min']));
  }
  const policies = r.policies;
  if (policies !== undefined && !Array.isArray(policies)) errs.push(fieldError.typeInvalid(`${path}.policies`, policies, 'must be an array'));
  (Array.isArray(policies) ? policies : []).forEach((p: Rec, i: number) => {
    const pp = `${path}.policies[${i}]`;
    if (!['Pods', 'Percent'].includes(p?.type)) errs.push(fieldError.notSupported(`${pp}.type`, p?.type, ['Percent', 'Pods']));
    if (!Number.isInteger(p?.value) || p.value <= 0) errs.push(fieldError.invalid(`${pp}.value`, p?.value, 'must be greater than zero'));
    if (!Number.isInteger(p?.periodSeconds) || p.periodSeconds <= 0) errs.push(fieldError.invalid(`${pp}.periodSeconds`, p?.periodSeconds, 'must be greater than zero'));
    else if (p.periodSeconds > MAX_PERIOD) errs.push(fieldError.invalid(`${pp}.periodSeconds`, p.periodSeconds, `must be less than or equal to ${MAX_PERIOD}`));
  });
  return errs;
}

function validateTarget(t: unknown, path: string, allowUtilization: boolean): FieldError[] {
  if (!isObject(t)) return [fieldError.required(path, 'must specify a metric target')];
  const errs: FieldError[] = [];
  if (!TARGET_TYPES.includes(t.type as string)) return [fieldError.notSupported(`${path}.type`, t.type, TARGET_TYPES)];
  if (t.type === 'Utilization') {
    if (!allowUtilization) errs.push(fieldError.invalid(`${path}.type`, t.type, 'Utilization is only valid for Resource and ContainerResource metrics'));
    if (!Number.isInteger(t.averageUtilization) || (t.averageUtilization as number) <= 0) errs.push(fieldError.invalid(`${path}.averageUtilization`, t.averageUtilization, 'must be greater than 0'));
  }
  for (const f of ['averageValue', 'value'] as const) {
    const want = (t.type === 'AverageValue' && f === 'averageValue') || (t.type === 'Value' && f === 'value');
    if (t[f] === undefined) { if (want) errs.push(fieldError.required(`${path}.${f}`, `must set ${f} when type is ${t.type}`)); continue; }
    const q = tryParseQuantity(t[f]);
    if (q === undefined) errs.push(fieldError.invalid(`${path}.${f}`, t[f], 'must be a quantity'));
    else if (q <= 0) errs.push(fieldError.invalid(`${path}.${f}`, t[f], 'must be positive'));
  }
  return errs;
}

function validateMetric(m: Rec, path: string): FieldError[] {
  if (!METRIC_TYPES.includes(m?.type)) return [fieldError.notSupported(`${path}.type`, m?.type, METRIC_TYPES)];
  if (m.type === 'Resource' || m.type === 'ContainerResource') {
    const key = m.type === 'Resource' ? 'resource' : 'containerResource';
    const src = m[key];
    if (!isObject(src)) return [fieldError.required(`${path}.${key}`, `must populate information for the given metric source`)];
    const errs: FieldError[] = [];
    if (!src.name) errs.push(fieldError.required(`${path}.${key}.name`, 'must specify a resource name'));
    if (m.type === 'ContainerResource' && !src.container) errs.push(fieldError.required(`${path}.${key}.container`, 'must specify a container'));
    errs.push(...validateTarget(src.target, `${path}.${key}.target`, true));
    return errs;
  }
  const key = m.type.charAt(0).toLowerCase() + m.type.slice(1);
  if (!isObject(m[key])) return [fieldError.required(`${path}.${key}`, 'must populate information for the given metric source')];
  return validateTarget((m[key] as Rec).target, `${path}.${key}.target`, false);
}

export function validateHpaSpec(spec: unknown): FieldError[] {
  if (!isObject(spec)) return [fieldError.required('spec', '')];
  const errs: FieldError[] = [];
  const ref = spec.scaleTargetRef as Rec | undefined;
  if (!isObject(ref)) errs.push(fieldError.required('spec.scaleTargetRef', ''));
  else {
    if (!ref.kind) errs.push(fieldError.required('spec.scaleTargetRef.kind', ''));
    if (!ref.name) errs.push(fieldError.required('spec.scaleTargetRef.name', ''));
  }
  const min = spec.minReplicas;
  const max = spec.maxReplicas;
  if (min !== undefined && (!Number.isInteger(min) || (min as number) < 1)) errs.push(fieldError.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (!Number.isInteger(max) || (max as number) < 1) errs.push(fieldError.invalid('spec.maxReplicas', max, 'must be greater than 0'));
  else if (Number.isInteger(min) && (max as number) < (min as number)) errs.push(fieldError.invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  if (spec.metrics !== undefined && !Array.isArray(spec.metrics)) errs.push(fieldError.typeInvalid('spec.metrics', spec.metrics, 'must be an array'));
  (Array.isArray(spec.metrics) ? spec.metrics : []).forEach((m: Rec, i: number) => errs.push(...validateMetric(m, `spec.metrics[${i}]`)));
  const b = spec.behavior;
  if (b !== undefined && b !== null) {
    if (!isObject(b)) errs.push(fieldError.typeInvalid('spec.behavior', b, 'must be an object'));
    else errs.push(...validateRules(b.scaleUp, 'spec.behavior.scaleUp'), ...validateRules(b.scaleDown, 'spec.behavior.scaleDown'));
  }
  return errs;
}

export const horizontalPodAutoscalerStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    const spec = obj.spec;
    if (!isObject(spec)) return;
    spec.minReplicas ??= 1;
    if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
      spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
    }
    if (isObject(spec.behavior)) {
      spec.behavior.scaleUp = defaultRules(spec.behavior.scaleUp as Rec | undefined, SCALE_UP_DEFAULT);
      spec.behavior.scaleDown = defaultRules(spec.behavior.scaleDown as Rec | undefined, SCALE_DOWN_DEFAULT);
    }
  },

  prepareForCreate(obj: KubeObject): void {
    obj.status = { currentReplicas: 0, desiredReplicas: 0 };
  },

  validate(obj: KubeObject) {
    return validateHpaSpec(obj.spec);
  },

  validateStatusUpdate(obj: KubeObject) {
    const errs: FieldError[] = [];
    for (const f of ['currentReplicas', 'desiredReplicas']) {
      const v = obj.status?.[f];
      if (v !== undefined && (!Number.isInteger(v) || v < 0)) errs.push(fieldError.invalid(`status.${f}`, v, 'must be greater than or equal to 0'));
    }
    return errs;
  },
};
