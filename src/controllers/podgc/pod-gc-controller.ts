/**
 * Pod garbage collection (pkg/controller/podgc/gc_controller.go): every 20 s one pass over the pod
 * and node caches force-deletes the pods nobody else will ever finish:
 *  - terminated pods (Succeeded/Failed) above `--terminated-pod-gc-threshold` (12,500), evicted
 *    ones first, then the oldest;
 *  - terminating pods on a NotReady node tainted `node.kubernetes.io/out-of-service` (the user's
 *    word that the machine is off: Kubernetes' non-graceful node shutdown);
 *  - orphans: pods bound to a node that no longer exists — after the node has been missing from the
 *    cache for 40 s and a live GET confirms it is gone (a node cache behind a new node's creation
 *    must not cost its pods);
 *  - terminating pods that were never scheduled.
 * A pod not yet terminal is first patched to phase Failed (an orphan with condition DisruptionTarget,
 * reason DeletionByPodGC), since no agent will ever report its end; then deleted with grace 0 and its
 * uid as precondition, so a pod re-created under the same name survives.
 *
 *   tick (queue key, re-added every period) ─▶ pass over informer indexes ─▶ status patch + delete
 *
 * A pass reads indexes, not every pod: the nodes pods are bound to (spec.nodeName, shared with the
 * node-lifecycle and fencing controllers) and the pods this controller may act on by node (terminated,
 * or terminating while never scheduled). A walk of 150,000 cached pods held the API server's event
 * loop ~0.5 s every 20 s (bench scale, 2026-12-07).
 */
import type { KubeObject } from '../../apis/object.ts';
import { rfc3339 } from '../../apis/time.ts';
import { TAINT_OUT_OF_SERVICE } from '../../apis/well-known.ts';
import { R, type Client } from '../../client/client.ts';
import { runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isConflict, isInvalid, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { POD_NODE_NAME_INDEX, podNodeNameIndex } from '../controller-utils.ts';

/** kube-controller-manager's --terminated-pod-gc-threshold default. */
export const DEFAULT_TERMINATED_POD_GC_THRESHOLD = 12_500;

export interface PodGcOptions {
  /** Terminated pods kept; above it the oldest go. 0 or less: never by count. Default 12,500. */
  terminatedPodThreshold?: number;
  /** Between passes; default 20 s (upstream's gcCheckPeriod). */
  periodMs?: number;
  /** How long a node must be missing before its pods are orphans; default 40 s (quarantineTime). */
  quarantineMs?: number;
  now?: () => number;
}

const TICK: ObjectKey = 'pass';

/** The pod index of what a pass may act on without a node in question: its two values below. */
const POD_GC_INDEX = 'podGC';
const TERMINATED = 'terminated';
const TERMINATING_UNSCHEDULED = 'terminatingUnscheduled';
function podGcIndex(pod: KubeObject): string[] {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return [TERMINATED];
  return pod.metadata.deletionTimestamp && !pod.spec?.nodeName ? [TERMINATING_UNSCHEDULED] : [];
}

export class PodGcController implements Reconciler {
  readonly name = 'pod-garbage-collector';
  readonly queue = new RateLimitedQueue();
  private readonly pods: SharedInformer;
  private readonly nodes: SharedInformer;
  /** Node name → when a pod was first seen bound to it while it was not in the cache. */
  private readonly missingSince = new Map<string, number>();
  private readonly threshold: number;
  private readonly periodMs: number;
  private readonly quarantineMs: number;
  private readonly now: () => number;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: PodGcOptions = {}) {
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(POD_NODE_NAME_INDEX, podNodeNameIndex);
    this.pods.addIndex(POD_GC_INDEX, podGcIndex);
    this.nodes = factory.forResource(R.nodes);
    this.threshold = opts.terminatedPodThreshold ?? DEFAULT_TERMINATED_POD_GC_THRESHOLD;
    this.periodMs = opts.periodMs ?? 20_000;
    this.quarantineMs = opts.quarantineMs ?? 40_000;
    this.now = opts.now ?? Date.now;
  }

  run(workers = 1): RunningController {
    const running = runController(this, this.queue, { workers: 1, log: this.log });
    this.queue.add(TICK);
    void workers;
    return running;
  }

  /** A failed deletion is logged and tried again on the next pass, as upstream does (no back-off loop). */
  async reconcile(_key: ObjectKey): Promise<void> {
    try {
      const failed = await this.pass();
      if (failed.length) this.log?.warn('pod GC could not delete some pods; next pass in 20 s', { failed: failed.length, error: String(failed[0]) });
    } finally {
      this.queue.addAfter(TICK, this.periodMs);
    }
  }

  /** One pass; every deletion is tried. Returns the errors of those that failed. */
  async pass(): Promise<unknown[]> {
    const errors: unknown[] = [];
    const run = async (pod: KubeObject, why: string, condition?: Record<string, string>) => {
      try {
        await this.failAndDelete(pod, condition);
        this.log?.info('force-deleted a pod', { pod: `${pod.metadata.namespace}/${pod.metadata.name}`, why });
      } catch (err) {
        // Gone, or re-created under the same name (the uid precondition): nothing of ours to delete.
        if (!isNotFound(err) && !isConflict(err) && !isInvalid(err)) errors.push(err);
      }
    };
    for (const pod of this.overThreshold()) await run(pod, 'terminated pods over the threshold');
    // The nodes with pods, as the pass starts (the deletions above and below await).
    const boundTo = this.pods.indexValues(POD_NODE_NAME_INDEX);
    for (const node of boundTo.filter((n) => this.outOfService(n))) {
      for (const pod of this.pods.byIndex(POD_NODE_NAME_INDEX, node)) {
        if (pod.metadata.deletionTimestamp) await run(pod, 'terminating on an out-of-service node');
      }
    }
    for (const node of await this.deletedNodes(boundTo)) {
      for (const pod of this.pods.byIndex(POD_NODE_NAME_INDEX, node)) {
        await run(pod, 'its node no longer exists', { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
      }
    }
    for (const pod of this.pods.byIndex(POD_GC_INDEX, TERMINATING_UNSCHEDULED)) await run(pod, 'terminating and never scheduled');
    return errors;
  }

  private overThreshold(): KubeObject[] {
    if (this.threshold <= 0) return [];
    const terminated = this.pods.byIndex(POD_GC_INDEX, TERMINATED);
    const excess = terminated.length - this.threshold;
    if (excess <= 0) return [];
    return terminated.sort(byEvictionThenAge).slice(0, excess);
  }

  private outOfService(nodeName: string | undefined): boolean {
    const node = nodeName ? this.nodes.get(nodeName) : undefined;
    if (!node) return false;
    const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
    return ready?.status !== 'True' && (node.spec?.taints ?? []).some((t: any) => t.key === TAINT_OUT_OF_SERVICE);
  }

  /** Of the nodes pods are bound to, those missing for the quarantine that a live GET says are gone. */
  private async deletedNodes(boundTo: readonly string[]): Promise<Set<string>> {
    const now = this.now();
    const bound = new Set<string>();
    for (const node of boundTo) {
      if (this.nodes.get(node)) continue;
      bound.add(node);
      if (!this.missingSince.has(node)) this.missingSince.set(node, now);
    }
    const gone = new Set<string>();
    for (const [node, since] of this.missingSince) {
      if (!bound.has(node)) { this.missingSince.delete(node); continue; }
      if (now - since < this.quarantineMs) continue;
      try {
        await this.client.get(R.nodes, undefined, node);
        this.missingSince.delete(node); // it exists: the cache was behind
      } catch (err) {
        if (isNotFound(err)) gone.add(node);
        else this.log?.warn('pod GC could not check a missing node', { node, error: String(err) });
      }
    }
    return gone;
  }

  private async failAndDelete(pod: KubeObject, condition?: Record<string, string>): Promise<void> {
    const { namespace, name, uid } = pod.metadata;
    const phase = pod.status?.phase;
    if (phase !== 'Succeeded' && phase !== 'Failed') {
      const status: Record<string, unknown> = { phase: 'Failed' };
      if (condition) {
        const others = ((pod.status?.conditions ?? []) as any[]).filter((c) => c.type !== condition.type);
        status.conditions = [...others, { ...condition, lastTransitionTime: rfc3339(this.now()) }];
      }
      // The uid in the patch is a precondition: a pod re-created under this name is not touched.
      await this.client.patch(R.pods, namespace, name!, 'merge', { metadata: { uid }, status }, 'status');
    }
    await this.client.delete(R.pods, namespace, name!, { gracePeriodSeconds: 0, preconditions: { uid } });
  }
}

function isEvicted(pod: KubeObject): boolean {
  return pod.status?.phase === 'Failed' && pod.status?.reason === 'Evicted';
}

/** Evicted pods first, then by creation time, then by name (upstream's byEvictionAndCreationTimestamp). */
function byEvictionThenAge(a: KubeObject, b: KubeObject): number {
  const ea = isEvicted(a), eb = isEvicted(b);
  if (ea !== eb) return ea ? -1 : 1;
  const ta = a.metadata.creationTimestamp ?? '', tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  return (a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1;
}
