/**
 * JobSpec validation shared by Jobs and CronJob job templates (validateJobSpec in
 * pkg/apis/batch/validation): counts, completion mode, pod replacement policy, the pod template and its
 * restartPolicy (OnFailure or Never).
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isObject } from '../../apis/object.ts';
import { validatePodTemplateSpec } from './pod-spec.ts';
import { nonNegative } from './fields.ts';

type Rec = Record<string, any>;

const MAX_INDEXED_PARALLELISM = 100000;
const REPLACEMENT_POLICIES = ['Failed', 'TerminatingOrFailed'];

/** Validates a JobSpec at `path` without its selector (the caller checks that). */
export function validateJobSpecCommon(spec: unknown, path: string): FieldError[] {
  if (!isObject(spec)) return [fieldError.required(path, '')];
  const errs: FieldError[] = [];
  for (const f of ['parallelism', 'completions', 'activeDeadlineSeconds', 'backoffLimit', 'ttlSecondsAfterFinished', 'backoffLimitPerIndex', 'maxFailedIndexes']) {
    errs.push(...nonNegative(spec[f], `${path}.${f}`));
  }
  const mode = spec.completionMode;
  if (mode !== undefined && mode !== null) {
    if (mode !== 'NonIndexed' && mode !== 'Indexed') errs.push(fieldError.notSupported(`${path}.completionMode`, mode, ['NonIndexed', 'Indexed']));
    if (mode === 'Indexed') {
      if (spec.completions === undefined || spec.completions === null) errs.push(fieldError.required(`${path}.completions`, 'when completion mode is Indexed'));
      if (typeof spec.parallelism === 'number' && spec.parallelism > MAX_INDEXED_PARALLELISM) {
        errs.push(fieldError.invalid(`${path}.parallelism`, spec.parallelism, `must be less than or equal to ${MAX_INDEXED_PARALLELISM} when completion mode is Indexed`));
      }
    }
  }
  if (mode !== 'Indexed') {
    for (const f of ['backoffLimitPerIndex', 'maxFailedIndexes', 'successPolicy']) {
      if (spec[f] !== undefined && spec[f] !== null) errs.push(fieldError.invalid(`${path}.${f}`, spec[f], 'requires indexed completion mode'));
    }
  }
  const rp = spec.podReplacementPolicy;
  if (rp !== undefined && rp !== null) {
    if (isObject(spec.podFailurePolicy)) {
      if (rp !== 'Failed') errs.push(fieldError.notSupported(`${path}.podReplacementPolicy`, rp, ['Failed']));
    } else if (!REPLACEMENT_POLICIES.includes(rp)) {
      errs.push(fieldError.notSupported(`${path}.podReplacementPolicy`, rp, REPLACEMENT_POLICIES));
    }
  }
  errs.push(...validatePodTemplateSpec(spec.template, `${path}.template`));
  const restart = isObject(spec.template) && isObject(spec.template.spec) ? spec.template.spec.restartPolicy : undefined;
  const rpPath = `${path}.template.spec.restartPolicy`;
  if (restart === 'Always' || !restart) {
    errs.push(fieldError.required(rpPath, 'valid values: "OnFailure", "Never"'));
  } else if (restart !== 'OnFailure' && restart !== 'Never') {
    errs.push(fieldError.notSupported(rpPath, restart, ['OnFailure', 'Never']));
  } else if (isObject(spec.podFailurePolicy) && restart !== 'Never') {
    errs.push(fieldError.invalid(rpPath, restart, 'only "Never" is supported when podFailurePolicy is specified'));
  }
  return errs;
}

/** SetDefaults_Job's spec part (no selector generation; that happens on create). */
export function defaultJobSpec(spec: Rec): void {
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  spec.parallelism ??= 1;
  spec.backoffLimit ??= spec.backoffLimitPerIndex != null ? 2147483647 : 6;
  spec.completionMode ??= 'NonIndexed';
  spec.suspend ??= false;
  spec.podReplacementPolicy ??= isObject(spec.podFailurePolicy) ? 'Failed' : 'TerminatingOrFailed';
  if (isObject(spec.podFailurePolicy) && Array.isArray(spec.podFailurePolicy.rules)) {
    for (const rule of spec.podFailurePolicy.rules) {
      for (const c of Array.isArray(rule?.onPodConditions) ? rule.onPodConditions : []) if (isObject(c)) c.status ??= 'True';
    }
  }
}
