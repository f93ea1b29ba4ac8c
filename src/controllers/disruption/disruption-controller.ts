/**
 * The disruption controller (pkg/controller/disruption/disruption.go): keeps every
 * PodDisruptionBudget's status — expected and healthy pods, how many may be disrupted now, the
 * evictions approved but not yet seen, the DisruptionAllowed condition — which the eviction
 * subresource (registry/pod-eviction.ts) reads and decrements.
 *
 *   PDB events ─────────────────┐
 *   pod events ─▶ PDBs selecting it (old and new labels) ─▶ queue ─▶ reconcile(ns/pdb)
 *                                                                    pods of the PDB (cache: label index)
 *                                                                    expected/desired (disruption-policy.ts,
 *                                                                      controllers' scales: controller-scales.ts)
 *                                                                    disruptedPods still pending ─▶ recheck when one expires
 *                                                                    status PUT at the cached resourceVersion
 *                                                                    failure ─▶ failSafe: 0 allowed, SyncFailed
 *
 * The status write is conditional on the resourceVersion the cache holds: an eviction that took a
 * disruption meanwhile makes it conflict, and the key is retried with the newer budget — a sync
 * never hands back a disruption an eviction has just taken. Pods with a stale DisruptionTarget
 * condition are the second queue's (stale-disruption-conditions.ts).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import { budgetSelects, type BudgetStatus } from '../../apis/pod-disruption-budget.ts';
import { formatLabelSelector } from '../../apis/selectors/label-selector-spec.ts';
import type { Client, ResourceRef } from '../../client/client.ts';
import { R } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import { keyOf, splitKey, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { APPS, controllerEvents, type ControllerEvents, type SharedEventRecorder } from '../controller-utils.ts';
import { LABEL_INDEX, SELECTOR_INDEX, labelIndex, selectedBy, selectorIndex, selectorsFor } from '../label-index.ts';
import { realClock, type Clock } from '../cronjob/clock.ts';
import { STATEFULSETS } from '../statefulset/statefulset-controller.ts';
import { scaleFinder } from './controller-scales.ts';
import {
  DELETION_TIMEOUT_MS, countHealthy, disruptedPodMap, expectedPodCount, failSafeStatus, nextStatus, type ScaleFinder,
} from './disruption-policy.ts';
import { StaleDisruptionConditions } from './stale-disruption-conditions.ts';

export const PDBS: ResourceRef = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };
/** The events' source, as kube-controller-manager's disruption controller names itself. */
const COMPONENT = 'controllermanager';

/** Options for {@link DisruptionController}. */
export interface DisruptionControllerOptions {
  clock?: Clock;
  recorder?: SharedEventRecorder;
  /** The served resources, to tell an owner without scale from an unknown kind; default: the three workload kinds. */
  resources?: readonly ResourceInfo[];
}

/** The label pairs every pod a budget selects carries (its selector's matchLabels), for selectedBy. */
function matchLabelsOf(pdb: KubeObject): Record<string, string> | undefined {
  const m = pdb.spec?.selector?.matchLabels;
  return m && typeof m === 'object' && !Array.isArray(m) ? m : undefined;
}

/** Budgets by one pair of their matchLabels; those without (`{}`, expressions only) under `*`. */
const budgetSelectorIndex = selectorIndex((pdb) => matchLabelsOf(pdb) ?? {});

/** The budgets reconciler (keys `namespace/name` of PDBs); see the file comment. */
export class DisruptionController implements Reconciler {
  readonly name = 'disruption';
  readonly queue = new RateLimitedQueue();
  /** The second queue: pods whose DisruptionTarget condition outlived their eviction. */
  readonly stale: StaleDisruptionConditions;
  private readonly pdbs: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly findScale: ScaleFinder;
  private readonly clock: Clock;
  private readonly events: ControllerEvents;
  /** Pods seen deleting or deleted, by `ns/name`: their uids and when (see ReplacedSince). */
  private readonly gone = new Map<string, { uid: string; at: number }[]>();

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: DisruptionControllerOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    this.pdbs = factory.forResource(PDBS);
    this.pdbs.addIndex(SELECTOR_INDEX, budgetSelectorIndex);
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(LABEL_INDEX, labelIndex);
    const caches = { replicasets: factory.forResource(APPS.replicasets), deployments: factory.forResource(APPS.deployments), statefulsets: factory.forResource(STATEFULSETS) };
    this.findScale = scaleFinder(caches, opts.resources ?? []);
    this.pdbs.addHandlers(enqueueHandlers(this.queue));
    const podHandlers = enqueueHandlers(this.queue, (pod) => this.budgetsOf(pod).map(keyOf));
    this.pods.addHandlers({
      add: (pod) => { podHandlers.add!(pod); this.warnIfShared(pod); },
      update: (old, pod) => {
        podHandlers.update!(old, pod);
        if (pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) this.sawGo(pod);
        if (JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels)) this.warnIfShared(pod);
      },
      delete: (pod) => { podHandlers.delete!(pod); this.sawGo(pod); },
    });
    this.stale = new StaleDisruptionConditions(client, this.pods, this.clock, log);
  }

  /** Starts `workers` reconcile loops on the budget queue, and one on the stale-condition queue. */
  run(workers = 2): RunningController {
    const loops = [runController(this, this.queue, { workers, log: this.log }), this.stale.run(1)];
    return { async stop() { await Promise.all(loops.map((l) => l.stop())); } };
  }

  /** The cached budgets that select `pod`. */
  private budgetsOf(pod: KubeObject): KubeObject[] {
    return selectorsFor(this.pdbs, pod, (pdb) => budgetSelects(pdb, pod));
  }

  /** getPdbForPod's warning: the eviction subresource refuses pods with several budgets. */
  private warnIfShared(pod: KubeObject): void {
    const budgets = this.budgetsOf(pod);
    if (budgets.length < 2) return;
    const msg = `Pod "${pod.metadata.namespace}"/"${pod.metadata.name}" matches multiple PodDisruptionBudgets.  Chose "${budgets[0].metadata.name}" arbitrarily.`;
    void this.events.event(pod, 'Warning', 'MultiplePodDisruptionBudgets', msg);
  }

  /** Remembers a pod incarnation going, for the same-name replacement rule. */
  private sawGo(pod: KubeObject): void {
    const key = keyOf(pod);
    const now = this.clock.now();
    const seen = (this.gone.get(key) ?? []).filter((g) => now - g.at < DELETION_TIMEOUT_MS && g.uid !== pod.metadata.uid);
    seen.push({ uid: pod.metadata.uid!, at: now });
    this.gone.set(key, seen);
    // Bounded: forget what no pending eviction can still be about.
    if (this.gone.size > 10_000) for (const [k, v] of this.gone) if (v.every((g) => now - g.at >= DELETION_TIMEOUT_MS)) this.gone.delete(k);
  }

  /**
   * Whether `pod` is a later pod of its name than the one evicted at `since` (second-truncated): it
   * was created no earlier than the eviction, and a pod of that name with another uid was seen going
   * after it.
   */
  private replacedSince = (pod: KubeObject, since: number): boolean =>
    Date.parse(pod.metadata.creationTimestamp ?? '') >= since
    && (this.gone.get(keyOf(pod)) ?? []).some((g) => g.uid !== pod.metadata.uid && g.at >= since);

  async reconcile(key: ObjectKey): Promise<void> {
    const cached = this.pdbs.get(key);
    if (!cached) return;
    const pdb = structuredClone(cached);
    try {
      await this.sync(key, pdb);
    } catch (err) {
      // A conflict is a newer budget (an eviction, a spec change): retried without failing safe.
      if (isConflict(err) || isNotFound(err)) throw err;
      this.log?.warn('failed to sync PodDisruptionBudget', { pdb: key, error: (err as Error).message });
      await this.writeStatus(pdb, failSafeStatus(pdb, (err as Error).message, this.clock.now()));
      throw err;
    }
  }

  private async sync(key: ObjectKey, pdb: KubeObject): Promise<void> {
    const { namespace } = splitKey(key);
    // By the label index (the selector's matchLabels), not a walk of the namespace; budgetSelects decides.
    const pods = selectedBy(this.pods, namespace ?? '', matchLabelsOf(pdb), (p) => budgetSelects(pdb, p));
    if (pods.length === 0) void this.events.event(pdb, 'Normal', 'NoPods', 'No matching pods found');
    let counts: ReturnType<typeof expectedPodCount>;
    try {
      counts = expectedPodCount(pdb, pods, this.findScale);
    } catch (err) {
      void this.events.event(pdb, 'Warning', 'CalculateExpectedPodCountFailed', `Failed to calculate the number of expected pods: ${(err as Error).message}`);
      throw err;
    }
    if (counts.unmanaged.length) {
      void this.events.event(pdb, 'Warning', 'UnmanagedPods', `Pods selected by this PodDisruptionBudget (selector: ${formatLabelSelector(pdb.spec?.selector)}) were found to be unmanaged. As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. To account for these pods please set ".spec.minAvailable" field of the PDB to an integer value.`);
    }
    const now = this.clock.now();
    const { disrupted, recheckAt, expired } = disruptedPodMap(pdb, pods, now, this.replacedSince);
    for (const pod of expired) {
      void this.events.event(pod, 'Warning', 'NotDeleted', `Pod was expected by PDB ${pdb.metadata.namespace}/${pdb.metadata.name} to be deleted but it wasn't`);
    }
    const status = nextStatus(pdb, { currentHealthy: countHealthy(pods, disrupted, now), desiredHealthy: counts.desiredHealthy, expected: counts.expected, disrupted }, now);
    if (status) await this.writeStatus(pdb, status);
    // At most one wake-up per key is kept: the earliest.
    if (recheckAt !== undefined) this.queue.addAfter(key, Math.max(0, recheckAt - now) + 50);
  }

  /** UpdateStatus at the cached resourceVersion (a conflict retries the key with the newer budget). */
  private async writeStatus(pdb: KubeObject, status: BudgetStatus): Promise<void> {
    await this.client.update(PDBS, pdb.metadata.namespace, { ...pdb, status }, 'status');
  }
}
