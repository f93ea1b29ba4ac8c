/**
 * The CronJob controller (pkg/controller/cronjob/cronjob_controllerv2.go): creates a Job for each
 * schedule time (`<cronjob>-<minutes since epoch>`), honouring suspend, startingDeadlineSeconds,
 * concurrencyPolicy (Allow / Forbid / Replace) and the history limits; keeps status.active,
 * lastScheduleTime and lastSuccessfulTime; requeues itself for the next schedule time. "Now" comes
 * from an injectable clock.
 *
 * The CronJob is read from the API (one object, so lastScheduleTime is never stale: a schedule time
 * is never run twice); its Jobs from the shared Job informer by controller uid — upstream lists the
 * namespace's Jobs from its lister and filters them; listing them from the API walked every Job of
 * the namespace. A Job in status.active that the lagging cache does not hold yet is looked up in the
 * API before it is called missing, as upstream does.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Client, ResourceRef } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import { splitKey, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import {
  CONTROLLER_UID_INDEX, controllerEvents, controllerRefOf, controllerUidIndex, newControllerRef, type ControllerEvents, type SharedEventRecorder,
} from '../controller-utils.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { JOBS } from '../job/job-controller.ts';
import { finishedType } from '../job/job-policy.ts';
import { realClock, type Clock } from './clock.ts';
import { TOO_MANY_MISSED, jobNameFor, mostRecentScheduleTime, parseSchedule } from './cron-schedule.ts';
import { rfc3339 } from '../../apis/time.ts';

/** batch/v1 CronJobs. */
export const CRONJOBS: ResourceRef = { group: 'batch', version: 'v1', resource: 'cronjobs' };
/** The annotation on a Job giving the schedule time it was created for. */
export const SCHEDULED_TIMESTAMP = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const COMPONENT = 'cronjob-controller';

type Rec = Record<string, any>;
type JobRef = { apiVersion?: string; kind?: string; name: string; namespace?: string; uid?: string; resourceVersion?: string };

/** The CronJob reconciler; see the file comment. */
export class CronJobController implements Reconciler {
  readonly name = 'cronjob';
  readonly queue = new RateLimitedQueue();
  private readonly clock: Clock;
  private readonly events: ControllerEvents;
  private readonly jobs: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: { clock?: Clock; recorder?: SharedEventRecorder } = {}) {
    this.clock = opts.clock ?? realClock;
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    factory.forResource(CRONJOBS).addHandlers(enqueueHandlers(this.queue));
    this.jobs = factory.forResource(JOBS);
    this.jobs.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
    this.jobs.addHandlers(enqueueHandlers(this.queue, (job) => {
      const ref = controllerRefOf(job);
      return ref?.kind === 'CronJob' ? `${job.metadata.namespace}/${ref.name}` : undefined;
    }));
  }

  /** Starts `workers` reconcile loops. */
  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const { namespace, name } = splitKey(key);
    let cj: KubeObject;
    try {
      cj = await this.client.get(CRONJOBS, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (cj.metadata.deletionTimestamp) return;
    const spec: Rec = cj.spec;
    const st: Rec = structuredClone(cj.status ?? {});
    const before = JSON.stringify(st);
    const jobs = this.jobs.byIndex(CONTROLLER_UID_INDEX, cj.metadata.uid!).filter((j) => j.metadata.namespace === namespace);
    let active = this.syncActive(cj, st, jobs, await this.missingFromCache(cj, st, jobs));
    await this.cleanupHistory(cj, jobs);
    const write = () => (JSON.stringify(st) === before ? Promise.resolve() : this.client.update(CRONJOBS, namespace, { ...cj, status: st }, 'status').then(() => undefined));

    if (spec.suspend === true) { await write(); return; }
    let sched;
    try {
      sched = parseSchedule(spec.schedule, spec.timeZone);
    } catch (err) {
      void this.events.event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(spec.schedule)} : ${(err as Error).message}`);
      await write();
      return;
    }
    const now = this.clock.now();
    const next = sched.next(new Date(now)).getTime();
    const requeue = () => this.queue.addAfter(key, next - now + 100);
    const { mostRecent, missed } = mostRecentScheduleTime(sched, { creationTimestamp: cj.metadata.creationTimestamp, lastScheduleTime: st.lastScheduleTime, startingDeadlineSeconds: spec.startingDeadlineSeconds }, new Date(now));
    if (missed > TOO_MANY_MISSED) {
      void this.events.event(cj, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    if (!mostRecent) { await write(); requeue(); return; }
    const jobName = jobNameFor(name, mostRecent);
    const tooLate = spec.startingDeadlineSeconds != null && mostRecent.getTime() + spec.startingDeadlineSeconds * 1000 < now;
    if (tooLate) {
      void this.events.event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${mostRecent.toISOString()}`);
      await write(); requeue(); return;
    }
    if (jobs.some((j) => j.metadata.name === jobName) || (st.lastScheduleTime && Date.parse(st.lastScheduleTime) >= mostRecent.getTime())) {
      await write(); requeue(); return;
    }
    if (spec.concurrencyPolicy === 'Forbid' && active.length > 0) {
      void this.events.event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      await write(); requeue(); return;
    }
    if (spec.concurrencyPolicy === 'Replace') {
      for (const ref of active) {
        try {
          await this.client.delete(JOBS, namespace, ref.name, { propagationPolicy: 'Background', preconditions: ref.uid ? { uid: ref.uid } : undefined });
          void this.events.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${ref.name}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      active = [];
      st.active = [];
    }
    let made: KubeObject;
    try {
      made = await this.client.create(JOBS, namespace, this.jobFor(cj, jobName, mostRecent));
      void this.events.event(cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      made = await this.client.get(JOBS, namespace, jobName);
      if (controllerRefOf(made)?.uid !== cj.metadata.uid) { await write(); requeue(); return; }
    }
    st.active = [...active, { apiVersion: 'batch/v1', kind: 'Job', name: made.metadata.name, namespace, uid: made.metadata.uid, resourceVersion: made.metadata.resourceVersion }];
    st.lastScheduleTime = rfc3339(mostRecent.getTime());
    await write();
    requeue();
  }

  /** The Job for one schedule time, from the jobTemplate. */
  private jobFor(cj: KubeObject, name: string, at: Date): KubeObject {
    const jt: Rec = structuredClone(cj.spec.jobTemplate ?? {});
    return {
      apiVersion: 'batch/v1', kind: 'Job',
      metadata: {
        name, namespace: cj.metadata.namespace, labels: { ...(jt.metadata?.labels ?? {}) },
        annotations: { ...(jt.metadata?.annotations ?? {}), [SCHEDULED_TIMESTAMP]: rfc3339(at.getTime()) },
        ownerReferences: [newControllerRef(cj, 'batch/v1', 'CronJob')],
      },
      spec: jt.spec ?? {},
    };
  }

  /**
   * The Jobs of status.active the cache does not hold that the API still does (a Job just created,
   * its event not yet seen): those stay active. Upstream's syncCronJob GETs them the same way.
   */
  private async missingFromCache(cj: KubeObject, st: Rec, jobs: KubeObject[]): Promise<Set<JobRef>> {
    const live = new Set<JobRef>();
    for (const r of (st.active ?? []) as JobRef[]) {
      if (this.findActive(r, jobs)) continue;
      try {
        const j = await this.client.get(JOBS, cj.metadata.namespace, r.name);
        if (!r.uid || j.metadata.uid === r.uid) live.add(r);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return live;
  }

  private findActive(r: JobRef, jobs: KubeObject[]): KubeObject | undefined {
    return r.uid ? jobs.find((j) => j.metadata.uid === r.uid) : jobs.find((x) => x.metadata.name === r.name);
  }

  /**
   * Drops finished or vanished Jobs from status.active (`stillThere`: not cached yet, but in the API),
   * adds running owned ones; lastSuccessfulTime.
   */
  private syncActive(cj: KubeObject, st: Rec, jobs: KubeObject[], stillThere: Set<JobRef>): JobRef[] {
    const byUid = new Map(jobs.map((j) => [j.metadata.uid, j]));
    let active: JobRef[] = (st.active ?? []).filter((r: JobRef) => {
      if (stillThere.has(r)) return true;
      const j = r.uid ? byUid.get(r.uid) : jobs.find((x) => x.metadata.name === r.name);
      if (!j) {
        void this.events.event(cj, 'Normal', 'MissingJob', `Active job went missing: ${r.name}`);
        return false;
      }
      return true;
    });
    for (const j of jobs) {
      const done = finishedType(j);
      const inActive = active.some((r) => r.uid === j.metadata.uid);
      if (done) {
        if (inActive) {
          active = active.filter((r) => r.uid !== j.metadata.uid);
          void this.events.event(cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${done}`);
        }
        if (done === 'Complete' && j.status?.completionTime && (!st.lastSuccessfulTime || Date.parse(j.status.completionTime) > Date.parse(st.lastSuccessfulTime))) {
          st.lastSuccessfulTime = j.status.completionTime;
        }
      } else if (!inActive && !j.metadata.deletionTimestamp) {
        active.push({ apiVersion: 'batch/v1', kind: 'Job', name: j.metadata.name!, namespace: j.metadata.namespace, uid: j.metadata.uid, resourceVersion: j.metadata.resourceVersion });
      }
    }
    if (active.length || st.active) st.active = active.length ? active : undefined;
    if (st.active === undefined) delete st.active;
    return active;
  }

  /** Deletes the oldest finished Jobs beyond successfulJobsHistoryLimit / failedJobsHistoryLimit. */
  private async cleanupHistory(cj: KubeObject, jobs: KubeObject[]): Promise<void> {
    const start = (j: KubeObject) => Date.parse(j.status?.startTime ?? j.metadata.creationTimestamp ?? '') || 0;
    for (const [type, limit] of [['Complete', cj.spec.successfulJobsHistoryLimit], ['Failed', cj.spec.failedJobsHistoryLimit]] as const) {
      if (limit == null) continue;
      const done = jobs.filter((j) => finishedType(j) === type && !j.metadata.deletionTimestamp).sort((a, b) => start(a) - start(b));
      for (const j of done.slice(0, Math.max(0, done.length - limit))) {
        try {
          await this.client.delete(JOBS, j.metadata.namespace, j.metadata.name!, { propagationPolicy: 'Background', preconditions: { uid: j.metadata.uid } });
          void this.events.event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
    }
  }
}
