/**
 * Jobs (pkg/registry/batch/job/strategy.go): SetDefaults_Job, the generated selector and pod labels
 * (`batch.kubernetes.io/controller-uid`, `batch.kubernetes.io/job-name` and their legacy forms), spec
 * validation and the immutability of selector, completions, completionMode and the pod template.
 */
import type { KubeObject } from '../../apis/object.ts';
import { clone, isObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { defaultPodTemplateSpec } from '../defaults/pod-spec.ts';
import { goLabelSelector, invalidRendered, jsonEqual, nonNegative } from '../validation/fields.ts';
import { isSelectorConvertible, validateLabelSelector, type LabelSelector } from '../validation/label-selector.ts';
import { selectorMatches } from '../../apis/selectors/label-selector-spec.ts';
import { selectorMismatch } from '../validation/pod-spec.ts';
import { defaultJobSpec, validateJobSpecCommon } from '../validation/job-spec.ts';
import { JOB_CONTROLLER_UID_LABEL, JOB_NAME_LABEL } from '../../apis/well-known.ts';

type Rec = Record<string, any>;

export const LEGACY_CONTROLLER_UID_LABEL = 'controller-uid';
export const LEGACY_JOB_NAME_LABEL = 'job-name';

/** generateSelector: labels the template with the job's uid and name, selects on the uid. */
function generateSelector(obj: KubeObject): void {
  const spec: Rec = obj.spec;
  if (!isObject(spec.template)) spec.template = {};
  if (!isObject(spec.template.metadata)) spec.template.metadata = {};
  const labels: Record<string, string> = isObject(spec.template.metadata.labels) ? spec.template.metadata.labels : {};
  const name = obj.metadata.name ?? '';
  const uid = obj.metadata.uid ?? '';
  // Labels the user set are kept; a conflict is reported by validation.
  for (const k of [LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL]) if (!(k in labels)) labels[k] = name;
  for (const k of [LEGACY_CONTROLLER_UID_LABEL, JOB_CONTROLLER_UID_LABEL]) if (!(k in labels)) labels[k] = uid;
  spec.template.metadata.labels = labels;
  if (!isObject(spec.selector)) spec.selector = {};
  if (!isObject(spec.selector.matchLabels)) spec.selector.matchLabels = {};
  if (!(JOB_CONTROLLER_UID_LABEL in spec.selector.matchLabels)) spec.selector.matchLabels[JOB_CONTROLLER_UID_LABEL] = uid;
}

function hasLabel(labels: Rec | undefined, key: string, expected: string): FieldError[] {
  const path = `spec.template.metadata.labels[${key}]`;
  if (!labels || !(key in labels)) return [fieldError.required(path, expected)];
  return labels[key] === expected ? [] : [fieldError.invalid(path, labels, `must be '${expected}'`)];
}

/** validateGeneratedSelector: unless manualSelector, the generated labels and selector must be intact. */
function validateGeneratedSelector(obj: KubeObject): FieldError[] {
  const spec: Rec = obj.spec;
  if (spec.manualSelector === true || !isObject(spec.selector)) return [];
  const errs: FieldError[] = [];
  const uid = obj.metadata.uid ?? '';
  const name = obj.metadata.name ?? '';
  if (!uid) errs.push(fieldError.required('metadata.uid', ''));
  const labels = spec.template?.metadata?.labels;
  errs.push(...hasLabel(labels, LEGACY_CONTROLLER_UID_LABEL, uid), ...hasLabel(labels, LEGACY_JOB_NAME_LABEL, name));
  errs.push(...hasLabel(labels, JOB_CONTROLLER_UID_LABEL, uid), ...hasLabel(labels, JOB_NAME_LABEL, name));
  const expected = { [JOB_CONTROLLER_UID_LABEL]: uid, [JOB_NAME_LABEL]: name, [LEGACY_CONTROLLER_UID_LABEL]: uid, [LEGACY_JOB_NAME_LABEL]: name };
  if (isSelectorConvertible(spec.selector) && !selectorMatches(spec.selector, expected)) {
    errs.push(invalidRendered('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
  }
  return errs;
}

/** ValidateJobSpec: the common spec rules plus a required selector that selects the template. */
export function validateJobSpec(spec: unknown): FieldError[] {
  if (!isObject(spec)) return [fieldError.required('spec', '')];
  const errs = validateJobSpecCommon(spec, 'spec');
  if (!isObject(spec.selector)) errs.push(fieldError.required('spec.selector', ''));
  else {
    errs.push(...validateLabelSelector(spec.selector, 'spec.selector'));
    const labels = spec.template?.metadata?.labels;
    if (isSelectorConvertible(spec.selector) && !selectorMatches(spec.selector as LabelSelector, labels)) {
      errs.push(selectorMismatch('spec.template.metadata.labels', labels));
    }
  }
  return errs;
}

export const jobStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    if (!isObject(obj.spec)) obj.spec = {};
    defaultJobSpec(obj.spec);
    defaultPodTemplateSpec(obj.spec.template);
    const tplLabels = obj.spec.template?.metadata?.labels;
    if (isObject(tplLabels) && Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = { ...tplLabels };
  },

  prepareForCreate(obj: KubeObject): void {
    obj.status = {};
    if (obj.spec.manualSelector !== true) generateSelector(obj);
    // Kubernetes defaults a Job's labels from its template again when reading it back; do it once here.
    const tplLabels = obj.spec.template?.metadata?.labels;
    if (isObject(tplLabels) && Object.keys(obj.metadata.labels ?? {}).length === 0) obj.metadata.labels = { ...tplLabels };
  },

  validate(obj: KubeObject): FieldError[] {
    const errs = [...validateGeneratedSelector(obj), ...validateJobSpec(obj.spec)];
    const spec: Rec = isObject(obj.spec) ? obj.spec : {};
    if (spec.completionMode === 'Indexed' && typeof spec.completions === 'number' && spec.completions > 0) {
      const host = `${obj.metadata.name}-${spec.completions - 1}`;
      if (host.length > 63 || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(host)) {
        errs.push(fieldError.invalid('metadata.name', obj.metadata.name, `will not able to create pod with invalid DNS label: ${host}`));
      }
    }
    return errs;
  },

  validateUpdate(obj: KubeObject, old: KubeObject): FieldError[] {
    const spec: Rec = isObject(obj.spec) ? obj.spec : {};
    const oldSpec: Rec = isObject(old.spec) ? old.spec : {};
    const errs: FieldError[] = [];
    for (const f of ['completions', 'completionMode', 'podFailurePolicy', 'backoffLimitPerIndex', 'managedBy', 'successPolicy']) {
      if (!jsonEqual(spec[f], oldSpec[f])) errs.push(fieldError.immutable(`spec.${f}`, spec[f]));
    }
    if (!jsonEqual(spec.selector, oldSpec.selector)) errs.push(invalidRendered('spec.selector', goLabelSelector(spec.selector), 'field is immutable'));
    let oldTemplate: Rec = oldSpec.template;
    // A suspended Job that never started may have its scheduling directives changed.
    if (spec.suspend === true && !old.status?.startTime && isObject(oldTemplate) && isObject(spec.template)) {
      oldTemplate = clone(oldTemplate);
      const t: Rec = spec.template;
      oldTemplate.metadata = { ...(oldTemplate.metadata ?? {}), labels: t.metadata?.labels, annotations: t.metadata?.annotations };
      if (isObject(oldTemplate.spec)) {
        for (const f of ['nodeSelector', 'affinity', 'tolerations', 'schedulingGates']) oldTemplate.spec[f] = t.spec?.[f];
      }
    }
    if (!jsonEqual(spec.template, oldTemplate)) errs.push(fieldError.immutable('spec.template', spec.template));
    return errs;
  },

  validateStatusUpdate(obj: KubeObject): FieldError[] {
    const st: Rec = isObject(obj.status) ? obj.status : {};
    const errs: FieldError[] = [];
    for (const f of ['active', 'succeeded', 'failed', 'ready', 'terminating']) errs.push(...nonNegative(st[f], `status.${f}`));
    return errs;
  },
};
