/**
 * The HorizontalPodAutoscaler controller (pkg/controller/podautoscaler/horizontal.go): every 15 s
 * per HPA it reads the target's scale, the pods its selector picks and their metrics, computes
 * the replicas each Resource metric asks for (replica-calculator.ts), takes the largest, applies
 * stabilization and the scaling policies (behavior.ts), rescales the target, and writes status —
 * current/desired replicas, current metrics, the AbleToScale, ScalingActive and ScalingLimited
 * conditions — with SuccessfulRescale / Failed… events as upstream words them.
 *
 * The target's scale is read and written through its scale subresource (scale-client.ts): any
 * served kind with one — Deployments, ReplicaSets, StatefulSets, ReplicationControllers, custom
 * resources whose CRD declares `subresources.scale` — and the pods are those of the Scale's
 * status.selector, as upstream, read from the shared pod informer through the label index (the
 * smallest bucket of the selector's equality pairs, label-index.ts) — upstream's podLister walks the
 * namespace; listing them from the API cost the API server the same walk and their encoding every
 * 15 s per HPA. Reading pods only, a lagging cache costs one sync's accuracy, never a double write.
 */
import type { KubeObject } from '../../apis/object.ts';
import { parseQuantity } from '../../apis/quantity.ts';
import { rfc3339 } from '../../apis/time.ts';
import { R, type Client, type ResourceRef } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import { keyOf, splitKey, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { controllerEvents, type ControllerEvents, type SharedEventRecorder } from '../controller-utils.ts';
import { LABEL_INDEX, labelIndex, selectedBy } from '../label-index.ts';
import { parseLabelSelector } from '../../apis/selectors/label-selector.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { realClock, type Clock } from '../cronjob/clock.ts';
import { emptyHistory, normalizeReplicas, recordScale, type Behavior, type ScalingHistory } from './behavior.ts';
import { calcResourceReplicas, type CalcPod, type PodMetric } from './replica-calculator.ts';
import type { ScaleClient } from './scale-client.ts';

export const HPAS: ResourceRef = { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' };
const COMPONENT = 'horizontal-pod-autoscaler';
/** --horizontal-pod-autoscaler-sync-period. */
export const SYNC_PERIOD_MS = 15_000;

/** The pods of `namespace` a Scale's status.selector (string form) picks, from an informer with LABEL_INDEX. */
export function podsSelected(pods: SharedInformer, namespace: string, selector: string): KubeObject[] {
  const sel = parseLabelSelector(selector);
  // Pairs every selected pod carries: `k=v`, `k==v`, `k in (v)`.
  const required: Record<string, string> = {};
  for (const r of sel.requirements) {
    if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) required[r.key] = r.values[0];
  }
  return selectedBy(pods, namespace, required, (p) => sel.matches(p.metadata.labels));
}

/** PodMetrics (metrics.k8s.io/v1beta1 objects) of a namespace's pods matching a selector. */
export type PodMetricsSource = (namespace: string, labelSelector: string) => Promise<KubeObject[]>;

export interface HorizontalControllerOptions {
  metrics: PodMetricsSource;
  /** The targets' scale subresource (scale-client.ts registryScales). */
  scales: ScaleClient;
  clock?: Clock;
  recorder?: SharedEventRecorder;
  syncPeriodMs?: number;
}

type Rec = Record<string, any>;
interface Condition { type: string; status: 'True' | 'False'; reason: string; message: string; lastTransitionTime?: string }

class ScaleError extends Error {
  constructor(readonly reason: string, message: string) { super(message); }
}

function windowMs(w: unknown): number {
  const m = typeof w === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(w) : null;
  if (!m) return 0;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

/** A pod's usage of `resource` from its PodMetrics: milli-cores for cpu, bytes otherwise. */
function usageOf(pm: KubeObject, resource: string): number {
  let sum = 0;
  for (const c of (pm.containers ?? []) as Rec[]) {
    const q = c.usage?.[resource];
    if (q !== undefined) sum += parseQuantity(q) * (resource === 'cpu' ? 1000 : 1);
  }
  return sum;
}

/** The pod's request of `resource` over its containers (milli for cpu); undefined if one has none. */
function requestOf(pod: KubeObject, resource: string): number | undefined {
  let sum = 0;
  for (const c of (pod.spec?.containers ?? []) as Rec[]) {
    const q = c.resources?.requests?.[resource];
    if (q === undefined) return undefined;
    sum += parseQuantity(q) * (resource === 'cpu' ? 1000 : 1);
  }
  return sum;
}

function calcPod(pod: KubeObject, resource: string): CalcPod {
  const ready = (pod.status?.conditions ?? []).find((c: Rec) => c.type === 'Ready');
  return {
    name: pod.metadata.name!, phase: pod.status?.phase, deleting: !!pod.metadata.deletionTimestamp,
    startTime: pod.status?.startTime ? Date.parse(pod.status.startTime) : undefined,
    ready: ready ? { status: ready.status === 'True', lastTransitionTime: Date.parse(ready.lastTransitionTime ?? '') || 0 } : undefined,
    request: requestOf(pod, resource),
  };
}

export class HorizontalController implements Reconciler {
  readonly name = 'horizontal-pod-autoscaler';
  readonly queue = new RateLimitedQueue();
  private readonly histories = new Map<string, ScalingHistory>();
  /** The pending resync of each HPA: one per key (its own status writes re-queue it too, and must not add more). */
  private readonly resyncs = new Map<string, NodeJS.Timeout>();
  private readonly clock: Clock;
  private readonly events: ControllerEvents;
  private readonly syncPeriodMs: number;
  private readonly pods: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log: Logger | undefined, private readonly opts: HorizontalControllerOptions) {
    this.clock = opts.clock ?? realClock;
    this.syncPeriodMs = opts.syncPeriodMs ?? SYNC_PERIOD_MS;
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    const handlers = enqueueHandlers(this.queue);
    factory.forResource(HPAS).addHandlers({ ...handlers, delete: (o) => { this.forget(keyOf(o)); handlers.delete?.(o); } });
    // Read, not watched for changes: an HPA looks at its pods every sync period, as upstream.
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(LABEL_INDEX, labelIndex);
  }

  run(workers = 1): RunningController {
    const running = runController(this, this.queue, { workers, log: this.log });
    return { stop: async () => { for (const k of [...this.resyncs.keys()]) this.forget(k); await running.stop(); } };
  }

  private forget(key: string): void {
    this.histories.delete(key);
    clearTimeout(this.resyncs.get(key));
    this.resyncs.delete(key);
  }

  /** Looks at the HPA again after the sync period, unless that is already due. */
  private scheduleResync(key: string): void {
    if (this.resyncs.has(key)) return;
    const t = setTimeout(() => { this.resyncs.delete(key); this.queue.add(key); }, this.syncPeriodMs);
    t.unref();
    this.resyncs.set(key, t);
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const { namespace, name } = splitKey(key);
    let hpa: KubeObject;
    try {
      hpa = await this.client.get(HPAS, namespace, name);
    } catch (err) {
      if (isNotFound(err)) { this.forget(key); return; }
      throw err;
    }
    if (hpa.metadata.deletionTimestamp) return;
    // Every HPA is looked at again after the sync period, whatever happens now.
    this.scheduleResync(key);
    await this.sync(key, hpa);
  }

  private targetRef(hpa: KubeObject): ResourceRef {
    const ref: Rec = hpa.spec?.scaleTargetRef ?? {};
    const apiVersion = typeof ref.apiVersion === 'string' ? ref.apiVersion : '';
    const resolved = this.opts.scales.resolve(apiVersion, ref.kind);
    const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : '';
    if (!resolved) throw new ScaleError('FailedGetScale', `the HPA controller was unable to get the target's current scale: no matches for kind "${ref.kind}" in group "${group}"`);
    return resolved;
  }

  private async sync(key: string, hpa: KubeObject): Promise<void> {
    const ns = hpa.metadata.namespace!;
    const spec: Rec = hpa.spec ?? {};
    const now = this.clock.now();
    const status: Rec = structuredClone(hpa.status ?? {});
    const before = JSON.stringify(status);
    const conditions: Condition[] = [];
    const setStatus = async () => {
      status.observedGeneration = hpa.metadata.generation;
      status.conditions = mergeConditions(hpa.status?.conditions ?? [], conditions, rfc3339(new Date(now)));
      if (JSON.stringify(status) === before) return;
      await this.client.update(HPAS, ns, { ...hpa, status }, 'status');
    };
    let scale: KubeObject;
    let ref: ResourceRef;
    try {
      ref = this.targetRef(hpa);
      scale = await this.opts.scales.get(ref, ns, spec.scaleTargetRef?.name);
    } catch (err) {
      const message = err instanceof ScaleError ? err.message : `the HPA controller was unable to get the target's current scale: ${(err as Error).message}`;
      conditions.push({ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message });
      void this.events.event(hpa, 'Warning', 'FailedGetScale', message);
      await setStatus();
      return;
    }
    const current: number = scale.spec?.replicas ?? 0;
    status.currentReplicas = scale.status?.replicas ?? 0;
    const minReplicas: number = spec.minReplicas ?? 1;
    const maxReplicas: number = spec.maxReplicas;
    let desired = current;
    let reason = '';
    let metricsOk = true;
    let history = this.histories.get(key);
    if (!history) this.histories.set(key, (history = emptyHistory()));
    if (current === 0 && minReplicas !== 0) {
      conditions.push({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
      desired = 0;
    } else if (current > maxReplicas) {
      desired = maxReplicas;
      reason = 'Current number of replicas above Spec.MaxReplicas';
    } else if (current < minReplicas) {
      desired = minReplicas;
      reason = 'Current number of replicas below Spec.MinReplicas';
    } else {
      const computed = await this.computeReplicas(hpa, scale.status?.selector ?? '', current, now, status);
      if (computed.error) {
        metricsOk = false;
        conditions.push({ type: 'ScalingActive', status: 'False', reason: computed.error.reason, message: computed.error.message });
        void this.events.event(hpa, 'Warning', computed.error.reason, computed.error.message);
      } else {
        conditions.push({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${computed.metricName}` });
        const n = normalizeReplicas({ current, desired: computed.replicas, minReplicas, maxReplicas, behavior: spec.behavior as Behavior | undefined, history, now });
        desired = n.replicas;
        conditions.push({ type: 'ScalingLimited', status: n.limited.status ? 'True' : 'False', reason: n.limited.reason, message: n.limited.message });
        if (n.stabilized && desired === current) conditions.push({ type: 'AbleToScale', status: 'True', reason: n.stabilized.reason, message: n.stabilized.message });
        reason = desired > current ? `${computed.metricName} above target` : 'All metrics below target';
      }
    }
    status.desiredReplicas = desired;
    if (!metricsOk || desired === current) {
      if (!conditions.some((c) => c.type === 'AbleToScale')) conditions.push({ type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
      await setStatus();
      return;
    }
    try {
      // As upstream: the Scale as read, resourceVersion included — a target changed meanwhile is a conflict, retried.
      await this.opts.scales.update(ref, ns, { ...scale, spec: { ...scale.spec, replicas: desired } });
    } catch (err) {
      const message = `New size: ${desired}; reason: ${reason}; error: ${(err as Error).message}`;
      void this.events.event(hpa, 'Warning', 'FailedRescale', message);
      conditions.push({ type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${(err as Error).message}` });
      await setStatus();
      throw err;
    }
    recordScale(history, current, desired, spec.behavior as Behavior | undefined, now);
    this.log?.info('rescaled', { hpa: key, from: current, to: desired, reason });
    void this.events.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
    conditions.push({ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desired}` });
    status.lastScaleTime = rfc3339(new Date(now));
    await setStatus();
  }

  /** The largest replica count the metrics ask for, with status.currentMetrics; or the error of the last failing metric. */
  private async computeReplicas(hpa: KubeObject, selector: string, current: number, now: number, status: Rec): Promise<{ replicas: number; metricName: string; error?: undefined } | { error: { reason: string; message: string } }> {
    if (!selector) return { error: { reason: 'InvalidSelector', message: 'the HPA target\'s scale is missing a selector' } };
    const ns = hpa.metadata.namespace!;
    let best: { replicas: number; metricName: string } | undefined;
    let lastError: { reason: string; message: string } | undefined;
    const currentMetrics: Rec[] = [];
    let pods: KubeObject[] | undefined;
    let podMetrics: KubeObject[] | undefined;
    for (const m of (hpa.spec?.metrics ?? []) as Rec[]) {
      if (m.type !== 'Resource' || !m.resource?.name) {
        lastError = { reason: 'FailedGetExternalMetric', message: `the HPA controller supports Resource metrics only (got ${m.type})` };
        continue;
      }
      const resource: string = m.resource.name;
      const t: Rec = m.resource.target ?? {};
      try {
        pods ??= podsSelected(this.pods, ns, selector);
        podMetrics ??= await this.opts.metrics(ns, selector);
        const byName = new Map<string, PodMetric>();
        for (const pm of podMetrics) {
          byName.set(pm.metadata.name!, { value: usageOf(pm, resource), timestamp: Date.parse(pm.timestamp) || now, windowMs: windowMs(pm.window) });
        }
        if (!byName.size) throw new Error(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
        const utilization = t.type === 'Utilization';
        const r = calcResourceReplicas({
          currentReplicas: current, pods: pods.map((p) => calcPod(p, resource)), metrics: byName, resource, now,
          ...(utilization ? { targetUtilization: t.averageUtilization ?? 80 } : { targetAverage: parseQuantity(t.averageValue ?? '0') * (resource === 'cpu' ? 1000 : 1) }),
        });
        const avg = resource === 'cpu' ? `${Math.round(r.rawAverage)}m` : String(Math.round(r.rawAverage));
        currentMetrics.push({ type: 'Resource', resource: { name: resource, current: { ...(utilization ? { averageUtilization: r.utilization } : {}), averageValue: avg } } });
        const metricName = utilization ? `${resource} resource utilization (percentage of request)` : `${resource} resource`;
        if (!best || r.replicas > best.replicas) best = { replicas: r.replicas, metricName };
      } catch (err) {
        lastError = { reason: 'FailedGetResourceMetric', message: `failed to get ${resource} utilization: ${(err as Error).message}` };
        currentMetrics.push({ type: '' });
      }
    }
    status.currentMetrics = currentMetrics.filter((c) => c.type);
    if (!status.currentMetrics.length) delete status.currentMetrics;
    // As upstream: one failing metric makes no scale-down decision (a partial view could shrink too far).
    if (lastError && (!best || best.replicas < current)) return { error: lastError };
    return best ?? { error: lastError ?? { reason: 'FailedComputeMetricsReplicas', message: 'no metrics to compute a replica count from' } };
  }
}

/** The new conditions with lastTransitionTime kept when the status did not change; others kept as they were. */
function mergeConditions(old: Condition[], fresh: Condition[], now: string): Condition[] {
  const out = [...old.filter((o) => !fresh.some((f) => f.type === o.type))];
  for (const f of fresh) {
    const prev = old.find((o) => o.type === f.type);
    out.push({ ...f, lastTransitionTime: prev && prev.status === f.status ? prev.lastTransitionTime : now });
  }
  const order = ['AbleToScale', 'ScalingActive', 'ScalingLimited'];
  return out.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
}
