/**
 * Releases the job-tracking finalizer of pods no Job will count any more (pkg/controller/job: the
 * orphan queue, syncOrphanPod and cleanupPodFinalizers): pods without a controller (orphaned by a
 * `--cascade=orphan` delete), and pods whose Job is gone — deleted, or its name now holding another
 * Job — finished, or being deleted. Without this, the pods of a deleted Job stay Terminating forever
 * and so does their namespace.
 *
 * Its own queue of pod keys on the shared reconcile loop, as upstream keeps an orphan queue beside
 * the Job queue: pod events queue pods that hold the finalizer without a live Job in the cache, and a
 * Job going queues all its pods (they may never change again). Reconcile re-reads the pod and its
 * Job from the API, so a cache that has not seen a new Job yet never strips its pods.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { runController, type RunningController } from '../../client/controller.ts';
import { keyOf, splitKey, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { CONTROLLER_UID_INDEX, controllerRefOf, controllerUidIndex } from '../controller-utils.ts';
import { JOBS, finishedType } from './job-policy.ts';
import { hasTrackingFinalizer, removeTrackingFinalizer } from './tracking-finalizer.ts';

/** A Job that still counts its pods: not finished, not being deleted. */
function counting(job: KubeObject | undefined, uid: string): boolean {
  return !!job && job.metadata.uid === uid && !job.metadata.deletionTimestamp && !finishedType(job);
}

/** The orphan-pod reconciler; see the file comment. */
export class JobOrphanPods implements Reconciler {
  readonly name = 'job-orphan-pods';
  readonly queue = new RateLimitedQueue();
  private readonly jobs: SharedInformer;
  private readonly pods: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger) {
    this.jobs = factory.forResource(JOBS);
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
    const check = (pod: KubeObject) => { if (hasTrackingFinalizer(pod) && !this.countedByCachedJob(pod)) this.queue.add(keyOf(pod)); };
    this.pods.addHandlers({ add: check, update: (_old, pod) => check(pod) });
    const release = (job: KubeObject) => {
      for (const pod of this.pods.byIndex(CONTROLLER_UID_INDEX, job.metadata.uid!)) if (hasTrackingFinalizer(pod)) this.queue.add(keyOf(pod));
    };
    this.jobs.addHandlers({
      delete: release,
      update: (old, job) => { if (!counting(job, job.metadata.uid!) && counting(old, old.metadata.uid!)) release(job); },
    });
  }

  /** Starts `workers` reconcile loops. */
  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  /** The pod's controller is a Job the cache holds and that still counts it — or not a Job at all. */
  private countedByCachedJob(pod: KubeObject): boolean {
    const ref = controllerRefOf(pod);
    if (!ref) return false;
    if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return true;
    return counting(this.jobs.get(`${pod.metadata.namespace}/${ref.name}`), ref.uid);
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const { namespace, name } = splitKey(key);
    let pod: KubeObject;
    try {
      pod = await this.client.get(R.pods, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (!hasTrackingFinalizer(pod)) return;
    const ref = controllerRefOf(pod);
    if (ref) {
      // Another controller's pod: not ours to release.
      if (ref.kind !== 'Job' || ref.apiVersion !== 'batch/v1') return;
      let job: KubeObject | undefined;
      try {
        job = await this.client.get(JOBS, namespace, ref.name);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      if (counting(job, ref.uid)) return;
    }
    await removeTrackingFinalizer(this.client, pod);
    this.log?.debug('released the job-tracking finalizer of a pod no Job counts', { pod: key });
  }
}
