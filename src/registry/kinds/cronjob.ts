/**
 * CronJobs (pkg/registry/batch/cronjob/strategy.go): concurrencyPolicy Allow, suspend false, history
 * limits 3/1; schedule syntax (robfig/cron standard), timeZone, job template rules, name length.
 */
import type { KubeObject } from '../../apis/object.ts';
import { isObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { defaultPodTemplateSpec } from '../defaults/pod-spec.ts';
import { goLabelSelector, invalidRendered, nonNegative } from '../validation/fields.ts';
import { validateLabels } from '../validation/label-selector.ts';
import { validateJobSpecCommon } from '../validation/job-spec.ts';
import { cronScheduleError, timeZoneError } from '../validation/cron-schedule.ts';

type Rec = Record<string, any>;

const CONCURRENCY = ['Allow', 'Forbid', 'Replace'];
/** Job names get an 11-character `-<timestamp>` suffix and must stay within 63 characters. */
const MAX_NAME = 52;

/** validateCronJobSpec; `oldSpec` is given on update (a TZ= schedule may then be kept). */
export function validateCronJobSpec(spec: unknown, oldSpec?: Rec): FieldError[] {
  if (!isObject(spec)) return [fieldError.required('spec', '')];
  const errs: FieldError[] = [];
  const schedule = spec.schedule;
  if (typeof schedule !== 'string' || schedule === '') errs.push(fieldError.required('spec.schedule', ''));
  else {
    const msg = cronScheduleError(schedule);
    if (msg) errs.push(fieldError.invalid('spec.schedule', schedule, msg));
    const allowTZ = typeof oldSpec?.schedule === 'string' && oldSpec.schedule.includes('TZ');
    if (allowTZ && schedule.includes('TZ') && spec.timeZone != null) {
      errs.push(fieldError.invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule'));
    } else if (!allowTZ && schedule.includes('TZ')) {
      errs.push(fieldError.invalid('spec.schedule', schedule, 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead'));
    }
  }
  errs.push(...nonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  if (spec.timeZone !== undefined && spec.timeZone !== null && (oldSpec === undefined || oldSpec.timeZone !== spec.timeZone)) {
    const msg = typeof spec.timeZone === 'string' ? timeZoneError(spec.timeZone) : 'must be a string';
    if (msg) errs.push(fieldError.invalid('spec.timeZone', spec.timeZone, msg));
  }
  const cp = spec.concurrencyPolicy;
  if (!cp) errs.push(fieldError.required('spec.concurrencyPolicy', ''));
  else if (!CONCURRENCY.includes(cp)) errs.push(fieldError.notSupported('spec.concurrencyPolicy', cp, CONCURRENCY));

  const jt: Rec = isObject(spec.jobTemplate) ? spec.jobTemplate : {};
  errs.push(...validateLabels(jt.metadata?.labels, 'spec.jobTemplate.metadata.labels'));
  errs.push(...validateJobSpecCommon(jt.spec, 'spec.jobTemplate.spec'));
  if (isObject(jt.spec) && jt.spec.selector !== undefined && jt.spec.selector !== null) {
    errs.push(invalidRendered('spec.jobTemplate.spec.selector', goLabelSelector(jt.spec.selector), '`selector` will be auto-generated'));
  }
  if (isObject(jt.spec) && jt.spec.manualSelector === true) {
    errs.push(fieldError.notSupported('spec.jobTemplate.spec.manualSelector', true, ['nil', 'false']));
  }
  errs.push(...nonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...nonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  return errs;
}

export const cronJobStrategy: Strategy = {
  defaults(obj: KubeObject): void {
    if (!isObject(obj.spec)) obj.spec = {};
    const spec: Rec = obj.spec;
    spec.concurrencyPolicy ||= 'Allow';
    spec.suspend ??= false;
    spec.successfulJobsHistoryLimit ??= 3;
    spec.failedJobsHistoryLimit ??= 1;
    if (isObject(spec.jobTemplate) && isObject(spec.jobTemplate.spec)) defaultPodTemplateSpec(spec.jobTemplate.spec.template);
  },

  prepareForCreate(obj: KubeObject): void {
    obj.status = {};
  },

  validate(obj: KubeObject): FieldError[] {
    const errs = validateCronJobSpec(obj.spec);
    // Checked on every write here (Kubernetes checks on create only); longer names cannot create Jobs.
    const name = obj.metadata.name ?? '';
    if (name.length > MAX_NAME) errs.push(fieldError.invalid('metadata.name', name, `must be no more than ${MAX_NAME} characters`));
    return errs;
  },
};
