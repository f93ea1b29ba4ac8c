/**
 * The disruption controller's second queue (pkg/controller/disruption: stalePodDisruptionQueue,
 * syncStalePodDisruption): the eviction subresource marks a pod DisruptionTarget=True before deleting
 * it; when the delete then did not happen (a conflict, a refused precondition) the pod would carry
 * the condition forever. Two minutes after the condition's transition, a pod still not deleting
 * gets it set to False. Conditions the kubelet sets (TerminationByKubelet) and terminal pods are
 * left alone, as upstream leaves them.
 */
import type { KubeObject } from '../../apis/object.ts';
import { DISRUPTION_TARGET } from '../../apis/pod-disruption-budget.ts';
import { rfc3339 } from '../../apis/time.ts';
import { R, type Client } from '../../client/client.ts';
import { runController, type RunningController } from '../../client/controller.ts';
import { keyOf, splitKey, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import type { Clock } from '../cronjob/clock.ts';

/** stalePodDisruptionTimeout. */
export const STALE_DISRUPTION_TIMEOUT_MS = 2 * 60_000;

type PodCondition = { type: string; status: string; reason?: string; lastTransitionTime?: string };

/** nonTerminatingPodHasStaleDisruptionCondition: ms until the condition is stale (0: now), or undefined. */
export function staleConditionWait(pod: KubeObject, now: number): number | undefined {
  if (pod.metadata.deletionTimestamp) return undefined;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return undefined;
  const c: PodCondition | undefined = (pod.status?.conditions ?? []).find((x: PodCondition) => x.type === DISRUPTION_TARGET);
  if (!c || c.status !== 'True' || c.reason === 'TerminationByKubelet') return undefined;
  const since = Date.parse(c.lastTransitionTime ?? '');
  return Math.max(0, (Number.isFinite(since) ? since : 0) + STALE_DISRUPTION_TIMEOUT_MS - now);
}

/** The stale-condition reconciler (keys `namespace/name` of pods). */
export class StaleDisruptionConditions implements Reconciler {
  readonly name = 'disruption-stale-conditions';
  readonly queue = new RateLimitedQueue();

  constructor(private readonly client: Client, private readonly pods: SharedInformer, private readonly clock: Clock, private readonly log?: Logger) {
    const check = (pod: KubeObject) => {
      const wait = staleConditionWait(pod, this.clock.now());
      if (wait !== undefined) this.queue.addAfter(keyOf(pod), wait);
    };
    pods.addHandlers({ add: check, update: (_old, pod) => check(pod) });
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const cached = this.pods.get(key);
    if (!cached) return;
    const wait = staleConditionWait(cached, this.clock.now());
    if (wait === undefined) return;
    if (wait > 0) { this.queue.addAfter(key, wait); return; }
    const pod = structuredClone(cached);
    // UpdatePodCondition with a bare {DisruptionTarget, False}: reason and message go, the time moves.
    pod.status.conditions = pod.status.conditions.map((c: PodCondition) => (c.type === DISRUPTION_TARGET
      ? { type: DISRUPTION_TARGET, status: 'False', lastProbeTime: null, lastTransitionTime: rfc3339(this.clock.now()) } : c));
    const { namespace, name } = splitKey(key);
    try {
      await this.client.update(R.pods, namespace, pod, 'status');
      this.log?.info('reset a stale DisruptionTarget condition to False', { pod: `${namespace}/${name}` });
    } catch (err) {
      // A conflict retries the key on the newer pod.
      if (!isNotFound(err)) throw err;
    }
  }
}
