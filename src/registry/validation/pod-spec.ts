/**
 * PodSpec and PodTemplateSpec validation (ValidatePodSpec / ValidatePodTemplateSpec in
 * pkg/apis/core/validation) shared by pods and every workload kind. Container and volume details live
 * in container.ts and volume.ts.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isObject } from '../../apis/object.ts';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from '../../apis/names.ts';
import { validateContainers } from './container.ts';
import { validateVolumes } from './volume.ts';
import { isEmptySelector, validateLabels, type LabelSelector } from './label-selector.ts';
import { selectorMatches } from '../../apis/selectors/label-selector-spec.ts';
import { goStringMap, invalidRendered, nonNegative } from './fields.ts';
import { validateRuntimeAnnotations } from './runtime-annotations.ts';

type Rec = Record<string, any>;

export const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const MAX_INT32 = 2147483647;

/** The message for a template whose labels its controller's selector does not select. */
export const SELECTOR_MISMATCH = '`selector` does not match template `labels`';

export interface PodSpecOptions {
  /** Volume names provided from elsewhere (a StatefulSet's volumeClaimTemplates). */
  extraVolumes?: Iterable<string>;
}

/** validateTolerations: keys, operators, values, effects. */
export function validateTolerations(tolerations: unknown, path: string): FieldError[] {
  if (tolerations === undefined || tolerations === null) return [];
  if (!Array.isArray(tolerations)) return [fieldError.typeInvalid(path, tolerations, 'must be a list')];
  const errs: FieldError[] = [];
  tolerations.forEach((t: Rec, i) => {
    const p = `${path}[${i}]`;
    if (!isObject(t)) return void errs.push(fieldError.typeInvalid(p, t, 'must be an object'));
    const key = typeof t.key === 'string' ? t.key : '';
    const op = t.operator ?? '';
    const value = typeof t.value === 'string' ? t.value : '';
    if (key) for (const m of isQualifiedName(key)) errs.push(fieldError.invalid(`${p}.key`, key, m));
    if (!key && op !== 'Exists') {
      errs.push(fieldError.invalid(`${p}.operator`, op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    }
    if (t.tolerationSeconds !== undefined && t.tolerationSeconds !== null && t.effect !== 'NoExecute') {
      errs.push(fieldError.invalid(`${p}.effect`, t.effect ?? '', "effect must be 'NoExecute' when `tolerationSeconds` is set"));
    }
    if (op === 'Equal' || op === '') {
      const msgs = isValidLabelValue(value);
      if (msgs.length) errs.push(fieldError.invalid(`${p}.operator`, value, msgs.join(';')));
    } else if (op === 'Exists') {
      if (value) errs.push(fieldError.invalid(`${p}.operator`, t, "value must be empty when `operator` is 'Exists'"));
    } else {
      errs.push(fieldError.notSupported(`${p}.operator`, op, ['Equal', 'Exists']));
    }
    if (t.effect && !TAINT_EFFECTS.includes(t.effect)) errs.push(fieldError.notSupported(`${p}.effect`, t.effect, TAINT_EFFECTS));
  });
  return errs;
}

function dnsNames(value: unknown, path: string, check: (s: string) => string[]): FieldError[] {
  if (value === undefined || value === null || value === '') return [];
  if (typeof value !== 'string') return [fieldError.typeInvalid(path, value, 'must be a string')];
  return check(value).map((m) => fieldError.invalid(path, value, m));
}

/** Validates a (defaulted) PodSpec at `path`, e.g. `spec` or `spec.template.spec`. */
export function validatePodSpec(spec: unknown, path: string, opts: PodSpecOptions = {}): FieldError[] {
  if (!isObject(spec)) return [fieldError.required(path, '')];
  const { errs, names } = validateVolumes(spec.volumes, `${path}.volumes`);
  for (const v of opts.extraVolumes ?? []) names.add(v);
  const ctx = { volumes: names, names: new Set<string>(), hostNetwork: spec.hostNetwork === true };
  errs.push(...validateContainers(spec.initContainers, `${path}.initContainers`, ctx, true));
  errs.push(...validateContainers(spec.containers, `${path}.containers`, ctx, false));

  const rp = spec.restartPolicy;
  if (!rp) errs.push(fieldError.required(`${path}.restartPolicy`, ''));
  else if (!RESTART_POLICIES.includes(rp)) errs.push(fieldError.notSupported(`${path}.restartPolicy`, rp, RESTART_POLICIES));
  const dp = spec.dnsPolicy;
  if (!dp) errs.push(fieldError.required(`${path}.dnsPolicy`, ''));
  else if (!DNS_POLICIES.includes(dp)) errs.push(fieldError.notSupported(`${path}.dnsPolicy`, dp, DNS_POLICIES));
  if (dp === 'None' && !isObject(spec.dnsConfig)) {
    errs.push(fieldError.required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None'));
  }

  errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  errs.push(...dnsNames(spec.serviceAccountName, `${path}.serviceAccountName`, isDNS1123Subdomain));
  errs.push(...dnsNames(spec.nodeName, `${path}.nodeName`, isDNS1123Subdomain));
  errs.push(...dnsNames(spec.hostname, `${path}.hostname`, isDNS1123Label));
  errs.push(...dnsNames(spec.subdomain, `${path}.subdomain`, isDNS1123Label));
  errs.push(...dnsNames(spec.priorityClassName, `${path}.priorityClassName`, isDNS1123Subdomain));
  errs.push(...validateTolerations(spec.tolerations, `${path}.tolerations`));

  const ads = spec.activeDeadlineSeconds;
  if (ads !== undefined && ads !== null && !(typeof ads === 'number' && ads >= 1 && ads <= MAX_INT32)) {
    errs.push(fieldError.invalid(`${path}.activeDeadlineSeconds`, ads, `must be between 1 and ${MAX_INT32}, inclusive`));
  }
  errs.push(...nonNegative(spec.terminationGracePeriodSeconds, `${path}.terminationGracePeriodSeconds`));
  if (Array.isArray(spec.schedulingGates)) {
    const seen = new Set<string>();
    spec.schedulingGates.forEach((g: Rec, i: number) => {
      const name = typeof g?.name === 'string' ? g.name : '';
      for (const m of isQualifiedName(name)) errs.push(fieldError.invalid(`${path}.schedulingGates[${i}].name`, name, m));
      if (seen.has(name)) errs.push(fieldError.duplicate(`${path}.schedulingGates[${i}].name`, name));
      seen.add(name);
    });
  }
  return errs;
}

/** The error for template labels the selector does not select, worded and rendered as Kubernetes does. */
export function selectorMismatch(path: string, labels: unknown): FieldError {
  return invalidRendered(path, goStringMap(labels), SELECTOR_MISMATCH);
}

/**
 * Validates a PodTemplateSpec at `path` (e.g. `spec.template`): template labels, the pod spec, and — when
 * a non-empty `selector` is given — that the selector selects the template's labels.
 */
export function validatePodTemplateSpec(tpl: unknown, path: string, selector?: LabelSelector | null, opts: PodSpecOptions = {}): FieldError[] {
  if (!isObject(tpl)) return [fieldError.required(path, '')];
  const meta: Rec = isObject(tpl.metadata) ? tpl.metadata : {};
  const errs: FieldError[] = [];
  if (selector && !isEmptySelector(selector) && !selectorMatches(selector, meta.labels)) {
    errs.push(selectorMismatch(`${path}.metadata.labels`, meta.labels));
  }
  errs.push(...validateLabels(meta.labels, `${path}.metadata.labels`));
  if (meta.annotations !== undefined && !isObject(meta.annotations)) {
    errs.push(fieldError.typeInvalid(`${path}.metadata.annotations`, meta.annotations, 'must be a map of string keys to string values'));
  }
  errs.push(...validatePodSpec(tpl.spec, `${path}.spec`, opts));
  errs.push(...validateRuntimeAnnotations(meta, tpl.spec, `${path}.metadata`));
  return errs;
}
