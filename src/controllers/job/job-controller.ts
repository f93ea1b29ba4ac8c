/**
 * The Job controller (pkg/controller/job): runs pods until `completions` succeed (or, for an Indexed
 * Job, every index has), at most `parallelism` at a time; retries failures with exponential back-off
 * up to `backoffLimit`; fails past `activeDeadlineSeconds`; suspends and resumes; deletes finished
 * Jobs after `ttlSecondsAfterFinished` (the TTL-after-finished controller, folded in here).
 *
 * Finished pods are counted exactly once through the `batch.kubernetes.io/job-tracking` finalizer
 * and `status.uncountedTerminatedPods`: record the uids, remove the finalizers, then move them into
 * `succeeded`/`failed`. Reconcile reads the Job from the API (one object; its status writes carry its
 * resourceVersion) and its pods from the shared pod informer by controller uid, as upstream's
 * getPodsForJob does — listing them from the API cost the API server 320–525 ms a sync at 20,000 pods
 * in a namespace. A cache lags the controller's own writes, so, as upstream: creations and deletions
 * it still waits to see (Expectations) hold back further creates and deletes, and pods whose
 * finalizer it removed (`finalizerRemovals`) are not counted again while the cache still shows it.
 *
 * Pods no Job counts any more — their Job deleted, finished or going, or the pod orphaned — lose the
 * finalizer through a second queue (job-orphan-pods.ts), or they would stay Terminating forever.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import { keyOf, splitKey, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import {
  CONTROLLER_UID_INDEX, Expectations, compareForDeletion, controllerUidIndex, isPodActive, isPodReady, newControllerRef,
  ownedPodHandlers, podFromTemplate, controllerEvents, type ControllerEvents, type SharedEventRecorder,
} from '../controller-utils.ts';
import { realClock, type Clock } from '../cronjob/clock.ts';
import {
  COMPLETION_INDEX, DEFAULT_BACKOFF, JOBS, JOB_TRACKING_FINALIZER, backoffDelayMs, completionIndexOf, deadlineRemainingMs, finishedAt,
  finishedType, formatIndexes, indexesToCreate, isPodFailedForJob, parseIndexes, setCondition, wantedActive, type JobCondition,
} from './job-policy.ts';
import { rfc3339 } from '../../apis/time.ts';
import { JobOrphanPods } from './job-orphan-pods.ts';
import { hasTrackingFinalizer, removeTrackingFinalizer } from './tracking-finalizer.ts';

export { JOBS } from './job-policy.ts';
const COMPONENT = 'job-controller';

/** Options for {@link JobController}. */
export interface JobControllerOptions {
  /** Pod back-off; default 10 s doubling to 6 min. */
  backoff?: { baseMs: number; maxMs: number };
  clock?: Clock;
  /** The controller manager's event recorder; default one of its own. */
  recorder?: SharedEventRecorder;
}

type Rec = Record<string, any>;

/** The Job reconciler; see the file comment. */
export class JobController implements Reconciler {
  readonly name = 'job';
  readonly queue = new RateLimitedQueue();
  private readonly clock: Clock;
  /** Per Job uid: when the latest failure was counted (drives the back-off). */
  private readonly lastFailure = new Map<string, number>();
  /** Pods this controller deleted (suspend, excess): not counted as failures. */
  private readonly deletedByUs = new Set<string>();
  /** The second queue: pods whose Job no longer counts them. */
  readonly orphans: JobOrphanPods;
  private readonly events: ControllerEvents;
  private readonly pods: SharedInformer;
  /** Pod creations and deletions each Job waits to see in the pod cache (upstream's expectations). */
  readonly expectations = new Expectations();
  /**
   * Uids of pods whose tracking finalizer this controller removed and the cache does not yet show
   * removed (upstream's finalizerExpectations): already counted, never counted again.
   */
  private readonly finalizerRemovals = new Set<string>();

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, private readonly opts: JobControllerOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    factory.forResource(JOBS).addHandlers(enqueueHandlers(this.queue));
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
    this.pods.addHandlers(ownedPodHandlers('Job', this.expectations, this.queue, {
      update: (_old, pod) => { if (!hasTrackingFinalizer(pod)) this.finalizerRemovals.delete(pod.metadata.uid!); },
      delete: (pod) => { this.finalizerRemovals.delete(pod.metadata.uid!); },
    }));
    this.orphans = new JobOrphanPods(client, factory, log);
  }

  /** Starts `workers` reconcile loops on the Job queue, and one on the orphan-pod queue. */
  run(workers = 2): RunningController {
    const loops = [runController(this, this.queue, { workers, log: this.log }), this.orphans.run(1)];
    return { async stop() { await Promise.all(loops.map((l) => l.stop())); } };
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const { namespace, name } = splitKey(key);
    let job: KubeObject;
    try {
      job = await this.client.get(JOBS, namespace, name);
    } catch (err) {
      if (isNotFound(err)) { this.expectations.delete(key); return; }
      throw err;
    }
    // Going: its pods are released by the orphan-pod queue (job-orphan-pods.ts).
    if (job.metadata.deletionTimestamp) return;
    const uid = job.metadata.uid!;
    // Before the pods are read: a creation observed in between only makes this sync wait for nothing.
    const satisfied = this.expectations.satisfied(key);
    // The Job's own pods by controller uid (a reference never crosses namespaces).
    const pods = this.pods.byIndex(CONTROLLER_UID_INDEX, uid).filter((p) => p.metadata.namespace === namespace);
    if (finishedType(job)) { await this.finished(key, job, pods); return; }

    job = await this.countFinishedPods(job, pods);
    const now = this.clock.now();
    const spec: Rec = job.spec;
    const st: Rec = structuredClone(job.status ?? {});
    const before = JSON.stringify(st);
    let active = pods.filter(isPodActive);
    const indexed = spec.completionMode === 'Indexed';
    const succeeded: number = st.succeeded ?? 0;
    const failed: number = st.failed ?? 0;

    if (spec.suspend === true) {
      if (satisfied) await this.deletePods(job, active, key);
      const wasSuspended = (st.conditions ?? []).some((c: JobCondition) => c.type === 'Suspended' && c.status === 'True');
      st.conditions = setCondition(st.conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, rfc3339(now));
      st.active = 0;
      st.ready = 0;
      if (!wasSuspended) void this.events.event(job, 'Normal', 'Suspended', 'Job suspended');
      await this.writeStatus(job, st, before);
      return;
    }
    if ((st.conditions ?? []).some((c: JobCondition) => c.type === 'Suspended' && c.status === 'True')) {
      st.conditions = setCondition(st.conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, rfc3339(now));
      st.startTime = rfc3339(now);
      void this.events.event(job, 'Normal', 'Resumed', 'Job resumed');
    }
    st.startTime ??= rfc3339(now);

    const completed = parseIndexes(st.completedIndexes);
    const remaining = deadlineRemainingMs({ ...job, status: st }, now);
    let failure: { reason: string; message: string } | undefined;
    if (failed > (spec.backoffLimit ?? 6)) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    else if (remaining !== undefined && remaining <= 0) failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
    const complete = !failure && (indexed
      ? completed.size >= (spec.completions ?? 0)
      : spec.completions != null ? succeeded >= spec.completions : succeeded > 0 && active.length === 0);

    if (failure || complete) {
      await this.deletePods(job, active);
      const t = rfc3339(now);
      if (failure) {
        st.conditions = setCondition(st.conditions, { type: 'FailureTarget', status: 'True', ...failure }, t);
        st.conditions = setCondition(st.conditions, { type: 'Failed', status: 'True', ...failure }, t);
        void this.events.event(job, 'Warning', failure.reason, failure.message);
      } else {
        const reason = { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' };
        st.conditions = setCondition(st.conditions, { type: 'SuccessCriteriaMet', status: 'True', ...reason }, t);
        st.conditions = setCondition(st.conditions, { type: 'Complete', status: 'True', ...reason }, t);
        st.completionTime = t;
        void this.events.event(job, 'Normal', 'Completed', 'Job completed');
      }
      st.active = 0;
      st.ready = 0;
      await this.writeStatus(job, st, before);
      this.lastFailure.delete(uid);
      return;
    }

    // Back-off: no replacements until the delay after the latest failure has passed.
    const last = this.lastFailure.get(uid);
    const wait = failed > 0 && last !== undefined ? backoffDelayMs(failed, this.opts.backoff ?? DEFAULT_BACKOFF) - (now - last) : 0;
    // With creations or deletions not yet seen in the cache, its pods are not the whole story: no
    // creates or deletes until they are (the pod events that satisfy them queue the Job again).
    if (satisfied) {
      active = indexed
        ? await this.syncIndexed(key, job, active, completed, wait > 0)
        : await this.syncNonIndexed(key, job, active, succeeded, wait > 0);
    }
    if (wait > 0) this.queue.addAfter(key, wait);
    st.active = active.length;
    st.ready = active.filter(isPodReady).length;
    st.terminating = pods.filter((p) => p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
    await this.writeStatus(job, st, before);
    if (remaining !== undefined) this.queue.addAfter(key, Math.max(1, remaining));
  }

  /** Creates or deletes pods towards the wanted active count (NonIndexed). */
  private async syncNonIndexed(key: ObjectKey, job: KubeObject, active: KubeObject[], succeeded: number, backingOff: boolean): Promise<KubeObject[]> {
    const want = wantedActive(job.spec, succeeded, active.length);
    if (active.length > want) {
      const excess = [...active].sort(compareForDeletion).slice(0, active.length - want);
      await this.deletePods(job, excess, key);
      return active.filter((p) => !excess.includes(p));
    }
    if (backingOff || active.length >= want) return active;
    const created = await this.createPods(key, job, Array.from({ length: want - active.length }, () => undefined));
    return [...active, ...created];
  }

  /** One active pod per index not yet succeeded, at most parallelism; duplicates and strays deleted. */
  private async syncIndexed(key: ObjectKey, job: KubeObject, active: KubeObject[], completed: Set<number>, backingOff: boolean): Promise<KubeObject[]> {
    const completions: number = job.spec.completions ?? 0;
    const keep = new Map<number, KubeObject>();
    const extra: KubeObject[] = [];
    for (const p of active) {
      const i = completionIndexOf(p);
      if (i === undefined || i >= completions || completed.has(i) || keep.has(i)) extra.push(p);
      else keep.set(i, p);
    }
    if (extra.length) await this.deletePods(job, extra, key);
    const kept = [...keep.values()];
    if (backingOff) return kept;
    const room = (job.spec.parallelism ?? 1) - kept.length;
    const indexes = indexesToCreate(completions, completed, new Set(keep.keys()), room);
    if (indexes.length) kept.push(...await this.createPods(key, job, indexes));
    return kept;
  }

  /** Creates one pod per entry (an index, or undefined for NonIndexed), each expected in the cache first. */
  private async createPods(key: ObjectKey, job: KubeObject, indexes: Array<number | undefined>): Promise<KubeObject[]> {
    this.expectations.expectCreations(key, indexes.length);
    const made: KubeObject[] = [];
    try {
      for (const i of indexes) made.push(await this.createPod(job, i));
    } finally {
      // Creations that never happened will never be observed.
      this.expectations.lowerCreations(key, indexes.length - made.length);
    }
    return made;
  }

  private async createPod(job: KubeObject, index?: number): Promise<KubeObject> {
    const pod = podFromTemplate(job.spec.template, job, newControllerRef(job, 'batch/v1', 'Job'));
    pod.metadata.finalizers = [...(pod.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER];
    if (index !== undefined) {
      pod.metadata.generateName = `${job.metadata.name}-${index}-`;
      pod.metadata.annotations = { ...pod.metadata.annotations, [COMPLETION_INDEX]: String(index) };
      pod.metadata.labels = { ...pod.metadata.labels, [COMPLETION_INDEX]: String(index) };
      pod.spec.hostname ??= `${job.metadata.name}-${index}`;
      const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.annotations['${COMPLETION_INDEX}']` } } };
      for (const c of [...(pod.spec.initContainers ?? []), ...(pod.spec.containers ?? [])]) {
        c.env = [...(c.env ?? []).filter((e: { name: string }) => e.name !== env.name), env];
      }
    }
    const made = await this.client.create(R.pods, job.metadata.namespace, pod);
    void this.events.event(job, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata.name}`);
    return made;
  }

  /**
   * Deletes `pods`; with `key`, each deletion expected in the cache first (a finished Job's last
   * deletions are not: it never manages pods again, as upstream's deleteActivePods).
   */
  private async deletePods(job: KubeObject, pods: KubeObject[], key?: ObjectKey): Promise<void> {
    if (key && pods.length) this.expectations.expectDeletions(key, pods.map(keyOf));
    for (const p of pods) {
      this.deletedByUs.add(p.metadata.uid!);
      try {
        await this.client.delete(R.pods, p.metadata.namespace, p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
        void this.events.event(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      } catch (err) {
        if (key) this.expectations.deletionObserved(key, keyOf(p));
        if (!isNotFound(err)) {
          // The rest will not be deleted now: stop waiting for them.
          if (key) for (const q of pods) this.expectations.deletionObserved(key, keyOf(q));
          throw err;
        }
      }
    }
  }

  /**
   * Counts pods that finished since the last sync, exactly once: their uids go into
   * uncountedTerminatedPods, their finalizers come off, then they move into succeeded/failed.
   */
  private async countFinishedPods(job: KubeObject, pods: KubeObject[]): Promise<KubeObject> {
    const st: Rec = structuredClone(job.status ?? {});
    const unc = { succeeded: [...(st.uncountedTerminatedPods?.succeeded ?? [])] as string[], failed: [...(st.uncountedTerminatedPods?.failed ?? [])] as string[] };
    const known = new Set([...unc.succeeded, ...unc.failed]);
    let added = false;
    for (const p of pods) {
      const uid = p.metadata.uid!;
      // Counted in an earlier sync (its finalizer removed, the cache not there yet), or not tracked.
      if (known.has(uid) || !hasTrackingFinalizer(p) || this.finalizerRemovals.has(uid)) continue;
      if (p.status?.phase === 'Succeeded') { unc.succeeded.push(uid); added = true; }
      else if (isPodFailedForJob(p) && !this.deletedByUs.has(uid)) { unc.failed.push(uid); added = true; }
      else if (p.metadata.deletionTimestamp) await this.removeFinalizer(p);
    }
    if (unc.succeeded.length + unc.failed.length === 0) return job;
    if (added) job = await this.client.update(JOBS, job.metadata.namespace, { ...job, status: { ...st, uncountedTerminatedPods: unc } }, 'status');
    const byUid = new Map(pods.map((p) => [p.metadata.uid!, p]));
    for (const uid of [...unc.succeeded, ...unc.failed]) {
      const p = byUid.get(uid);
      if (p) await this.removeFinalizer(p);
    }
    const next: Rec = structuredClone(job.status ?? {});
    next.succeeded = (next.succeeded ?? 0) + unc.succeeded.length;
    next.failed = (next.failed ?? 0) + unc.failed.length;
    if (job.spec.completionMode === 'Indexed') {
      const done = parseIndexes(next.completedIndexes);
      for (const uid of unc.succeeded) {
        const i = byUid.get(uid) && completionIndexOf(byUid.get(uid)!);
        if (typeof i === 'number' && i < (job.spec.completions ?? 0)) done.add(i);
      }
      next.completedIndexes = formatIndexes(done);
    }
    next.uncountedTerminatedPods = {};
    if (unc.failed.length) this.lastFailure.set(job.metadata.uid!, this.clock.now());
    return this.client.update(JOBS, job.metadata.namespace, { ...job, status: next }, 'status');
  }

  /** Removes the tracking finalizer, remembered until the cache shows it gone (a stale pod is skipped). */
  private async removeFinalizer(p: KubeObject): Promise<void> {
    const uid = p.metadata.uid!;
    if (this.finalizerRemovals.has(uid)) return;
    // Before the patch: its watch event may be handled before the patch's reply.
    this.finalizerRemovals.add(uid);
    let removed = false;
    try {
      await removeTrackingFinalizer(this.client, p);
      removed = true;
    } finally {
      this.deletedByUs.delete(uid);
      // Failed, or already seen gone (or the pod gone: no event may come): nothing to wait for.
      const cached = this.pods.get(keyOf(p));
      if (!removed || cached?.metadata.uid !== uid || !hasTrackingFinalizer(cached)) this.finalizerRemovals.delete(uid);
    }
  }

  /** A finished Job: release its pods' finalizers; delete it once its TTL has passed. */
  private async finished(key: ObjectKey, job: KubeObject, pods: KubeObject[]): Promise<void> {
    for (const p of pods) if (hasTrackingFinalizer(p)) await this.removeFinalizer(p);
    const ttl = job.spec.ttlSecondsAfterFinished;
    const at = finishedAt(job);
    if (ttl == null || at === undefined) return;
    const due = at + ttl * 1000 - this.clock.now();
    if (due > 0) { this.queue.addAfter(key, due); return; }
    try {
      await this.client.delete(JOBS, job.metadata.namespace, job.metadata.name!, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
      this.log?.info('deleted finished job after its TTL', { job: key });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async writeStatus(job: KubeObject, st: Rec, before: string): Promise<void> {
    if (JSON.stringify(st) === before) return;
    await this.client.update(JOBS, job.metadata.namespace, { ...job, status: st }, 'status');
  }
}
