/**
 * The Job controller's pure decisions (pkg/controller/job/job_controller.go, indexed_job_utils.go):
 * pod back-off, how many pods to run, which completion indexes still need a pod, the compact
 * `completedIndexes` form, finished/deadline checks and condition updates.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ResourceRef } from '../../client/client.ts';

/** batch/v1 Jobs. */
export const JOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'jobs' };

/** The pod annotation and label carrying an Indexed Job pod's completion index. */
export const COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** The finalizer that keeps a Job's finished pods until they are counted in its status. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';

/** A Job condition as in status.conditions. */
export interface JobCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string;
  lastTransitionTime?: string;
}

/** Default back-off between a Job's pod retries: 10 s doubling, at most 6 minutes. */
export const DEFAULT_BACKOFF = { baseMs: 10_000, maxMs: 360_000 };

/** The delay before creating a replacement after `failures` failed pods (0 for none). */
export function backoffDelayMs(failures: number, b: { baseMs: number; maxMs: number } = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  return Math.min(b.maxMs, b.baseMs * 2 ** Math.min(failures - 1, 30));
}

/** A pod's completion index from its annotation (or label); undefined if missing or malformed. */
export function completionIndexOf(pod: KubeObject): number | undefined {
  const v = pod.metadata.annotations?.[COMPLETION_INDEX] ?? pod.metadata.labels?.[COMPLETION_INDEX];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Parses `1,3-5` into a set of indexes. */
export function parseIndexes(s: string | undefined): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-').map(Number);
    for (let i = a; i <= (b ?? a); i++) out.add(i);
  }
  return out;
}

/** Formats indexes as ascending intervals: `1,3-5`. */
export function formatIndexes(set: Iterable<number>): string {
  const xs = [...new Set(set)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; i++) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j;
  }
  return parts.join(',');
}

/**
 * How many pods a NonIndexed Job should have active: at most parallelism and no more than the
 * completions still needed; with no completions set (work queue), none new once one succeeded.
 */
export function wantedActive(spec: { parallelism?: number; completions?: number | null }, succeeded: number, active: number): number {
  const parallelism = spec.parallelism ?? 1;
  if (spec.completions == null) return succeeded > 0 ? Math.min(active, parallelism) : parallelism;
  return Math.max(0, Math.min(parallelism, spec.completions - succeeded));
}

/** Indexes below `completions` that have neither succeeded nor an active pod, lowest first, at most `room`. */
export function indexesToCreate(completions: number, succeeded: Set<number>, active: Set<number>, room: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < completions && out.length < room; i++) if (!succeeded.has(i) && !active.has(i)) out.push(i);
  return out;
}

/** The Job's finished condition type (Complete or Failed) when one is True. */
export function finishedType(job: KubeObject): 'Complete' | 'Failed' | undefined {
  for (const c of (job.status?.conditions ?? []) as JobCondition[]) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

/** When the Job finished: completionTime, else the finished condition's transition time. */
export function finishedAt(job: KubeObject): number | undefined {
  if (job.status?.completionTime) return Date.parse(job.status.completionTime);
  const c = ((job.status?.conditions ?? []) as JobCondition[]).find((x) => (x.type === 'Complete' || x.type === 'Failed') && x.status === 'True');
  return c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : undefined;
}

/** Milliseconds until activeDeadlineSeconds passes (≤ 0: passed); undefined without a deadline or start. */
export function deadlineRemainingMs(job: KubeObject, nowMs: number): number | undefined {
  const ads = job.spec?.activeDeadlineSeconds;
  const start = job.status?.startTime;
  if (ads == null || !start) return undefined;
  return Date.parse(start) + ads * 1000 - nowMs;
}

/**
 * Sets a condition (returns a new list): a changed status moves lastTransitionTime; the same status
 * with the same reason and message leaves the list as it is.
 */
export function setCondition(conds: JobCondition[] | undefined, c: JobCondition, now: string): JobCondition[] {
  const list = [...(conds ?? [])];
  const i = list.findIndex((x) => x.type === c.type);
  if (i < 0) return [...list, { ...c, lastProbeTime: now, lastTransitionTime: now }];
  const old = list[i];
  if (old.status === c.status && old.reason === c.reason && old.message === c.message) return list;
  list[i] = { ...old, ...c, lastProbeTime: now, lastTransitionTime: old.status === c.status ? old.lastTransitionTime : now };
  return list;
}

/** Whether a pod counts as failed for a Job: phase Failed, or deleted before it succeeded. */
export function isPodFailedForJob(pod: KubeObject): boolean {
  if (pod.status?.phase === 'Failed') return true;
  return !!pod.metadata.deletionTimestamp && pod.status?.phase !== 'Succeeded';
}
