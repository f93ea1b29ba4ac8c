/**
 * `kubectl get` columns for jobs and cronjobs (printers.go printJob / printCronJob), plus the Job
 * field selector `status.successful`.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { FieldGetter, TableConvertor } from '../types.ts';
import { formatLabelSelector } from '../../apis/selectors/label-selector-spec.ts';
import { humanDuration, translateTimestampSince } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, age, boolPtr, col, conditionStatus, containerCells, int } from './format.ts';

const CONTAINERS = col('Containers', 'string', true, 'Names of each container in the template.');
const IMAGES = col('Images', 'string', true, 'Images referenced by each container in the template.');
const SELECTOR = col('Selector', 'string', true, 'A label query over pods that should match the pod count.');

const hasCondition = (job: KubeObject, type: string): boolean => conditionStatus(job.status?.conditions, type) === 'True';

/** The STATUS cell of a Job. */
export function jobStatus(job: KubeObject): string {
  if (hasCondition(job, 'Complete')) return 'Complete';
  if (hasCondition(job, 'Failed')) return 'Failed';
  if (job.metadata.deletionTimestamp) return 'Terminating';
  if (hasCondition(job, 'Suspended')) return 'Suspended';
  if (hasCondition(job, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

function completions(job: KubeObject): string {
  const succeeded = int(job.status?.succeeded);
  if (typeof job.spec?.completions === 'number') return `${succeeded}/${job.spec.completions}`;
  const parallelism = int(job.spec?.parallelism);
  return parallelism > 1 ? `${succeeded}/1 of ${parallelism}` : `${succeeded}/1`;
}

function jobDuration(job: KubeObject, now: Date): string {
  const start = Date.parse(job.status?.startTime ?? '');
  if (Number.isNaN(start)) return '';
  const end = Date.parse(job.status?.completionTime ?? '');
  return humanDuration((Number.isNaN(end) ? now.getTime() : end) - start);
}

export const jobTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', false, 'Status of the job.'),
    col('Completions', 'string', false, 'The number of pods which reached phase Succeeded.'),
    col('Duration', 'string', false, 'Time required to complete the job.'),
    AGE_COLUMN, CONTAINERS, IMAGES, SELECTOR,
  ],
  cells(job, now) {
    const [names, images] = containerCells(job.spec?.template?.spec?.containers);
    return [
      job.metadata.name, jobStatus(job), completions(job), jobDuration(job, now), age(job, now),
      names, images, formatLabelSelector(job.spec?.selector),
    ];
  },
};

/** Job fields selectable beyond metadata (JobToSelectableFields). */
export const jobFieldSelectors: Record<string, FieldGetter> = {
  'status.successful': (job) => String(int(job.status?.succeeded)),
};

export const cronJobTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Schedule', 'string', false, 'The schedule in Cron format.'),
    col('Timezone', 'string', false, 'The time zone name for the given schedule.'),
    col('Suspend', 'boolean', false, 'This flag tells the controller to suspend subsequent executions.'),
    col('Active', 'integer', false, 'A list of pointers to currently running jobs.'),
    col('Last Schedule', 'string', false, 'Information when was the last time the job was successfully scheduled.'),
    AGE_COLUMN, CONTAINERS, IMAGES, SELECTOR,
  ],
  cells(cj, now) {
    const jobSpec = cj.spec?.jobTemplate?.spec;
    const [names, images] = containerCells(jobSpec?.template?.spec?.containers);
    const last = cj.status?.lastScheduleTime ? translateTimestampSince(cj.status.lastScheduleTime, now) : '<none>';
    return [
      cj.metadata.name, cj.spec?.schedule ?? '', cj.spec?.timeZone ?? '<none>', boolPtr(cj.spec?.suspend),
      Array.isArray(cj.status?.active) ? cj.status.active.length : 0, last, age(cj, now),
      names, images, formatLabelSelector(jobSpec?.selector),
    ];
  },
};
