/**
 * How many replicas a Resource metric asks for (pkg/controller/podautoscaler/replica_calculator.go):
 * the pods are grouped as upstream does — deleted and failed pods ignored; pending pods, and for CPU
 * pods not ready yet or still in their initialization period, unready; pods without metrics missing —
 * then the usage ratio over ready pods with metrics decides, within the tolerance (0.1). When pods
 * are missing or unready the ratio is recomputed conservatively: missing pods count as using 100 %
 * of their request (target value for AverageValue) when scaling down and 0 when scaling up, unready
 * pods 0 when scaling up; a recomputed ratio that changes direction or falls inside the tolerance
 * keeps the current count.
 */

export const DEFAULT_TOLERANCE = 0.1;
/** --horizontal-pod-autoscaler-cpu-initialization-period. */
export const CPU_INITIALIZATION_PERIOD_MS = 5 * 60_000;
/** --horizontal-pod-autoscaler-initial-readiness-delay. */
export const INITIAL_READINESS_DELAY_MS = 30_000;

/** One pod as the calculator needs it. */
export interface CalcPod {
  name: string;
  phase?: string;
  deleting: boolean;
  /** status.startTime (ms), if any. */
  startTime?: number;
  /** The Ready condition: status and when it last changed (ms); absent when the pod has none. */
  ready?: { status: boolean; lastTransitionTime: number };
  /** Sum of the containers' requests of the resource (milli-units for cpu, bytes for memory); undefined when a container has none. */
  request?: number;
}

/** A pod's metric: usage (milli-cores for cpu, bytes for memory), when it was taken and over what window. */
export interface PodMetric {
  value: number;
  timestamp: number;
  windowMs: number;
}

export interface ReplicaResult {
  replicas: number;
  /** Utilization (percent of request, for Utilization targets). */
  utilization?: number;
  /** Average usage per pod with metrics (raw units). */
  rawAverage: number;
}

export class ReplicaCalcError extends Error {}

interface Grouped { readyCount: number; unready: Set<string>; missing: Set<string>; ignored: Set<string> }

function groupPods(pods: CalcPod[], metrics: Map<string, PodMetric>, resource: string, now: number): Grouped {
  const g: Grouped = { readyCount: 0, unready: new Set(), missing: new Set(), ignored: new Set() };
  for (const pod of pods) {
    if (pod.deleting || pod.phase === 'Failed') { g.ignored.add(pod.name); continue; }
    if (pod.phase === 'Pending') { g.unready.add(pod.name); continue; }
    const metric = metrics.get(pod.name);
    if (!metric) { g.missing.add(pod.name); continue; }
    if (resource === 'cpu') {
      let unready: boolean;
      const cond = pod.ready;
      if (cond === undefined || pod.startTime === undefined) unready = true;
      else if (pod.startTime + CPU_INITIALIZATION_PERIOD_MS > now) {
        // In the initialization period: unready, or ready for less than the metric's window.
        unready = !cond.status || metric.timestamp < cond.lastTransitionTime + metric.windowMs;
      } else {
        // Afterwards: unready only if it never became ready after starting.
        unready = !cond.status && pod.startTime + INITIAL_READINESS_DELAY_MS > cond.lastTransitionTime;
      }
      if (unready) { g.unready.add(pod.name); continue; }
    }
    g.readyCount++;
  }
  return g;
}

function ratioOf(metrics: Map<string, PodMetric>, requests: Map<string, number> | undefined, target: number): { ratio: number; utilization?: number; rawAverage: number } {
  let usage = 0;
  let request = 0;
  for (const [name, m] of metrics) {
    usage += m.value;
    if (requests) request += requests.get(name) ?? 0;
  }
  const rawAverage = metrics.size ? usage / metrics.size : 0;
  if (requests) {
    if (request === 0) throw new ReplicaCalcError('no metrics returned matched known pods');
    // Upstream divides integers: the ratio is over the truncated utilization.
    const utilization = Math.trunc((usage * 100) / request);
    return { ratio: utilization / target, utilization, rawAverage };
  }
  return { ratio: rawAverage / target, rawAverage };
}

/**
 * The replica count for a Resource metric. `targetUtilization` (percent of request) or
 * `targetAverage` (raw units per pod) — exactly one.
 */
export function calcResourceReplicas(args: {
  currentReplicas: number;
  pods: CalcPod[];
  metrics: Map<string, PodMetric>;
  resource: string;
  targetUtilization?: number;
  targetAverage?: number;
  now: number;
  tolerance?: number;
}): ReplicaResult {
  const { currentReplicas, pods, resource, now } = args;
  const tolerance = args.tolerance ?? DEFAULT_TOLERANCE;
  if (!pods.length) throw new ReplicaCalcError('no pods returned by selector while calculating replica count');
  const metrics = new Map([...args.metrics].filter(([n]) => pods.some((p) => p.name === n)));
  const g = groupPods(pods, metrics, resource, now);
  for (const n of [...g.ignored, ...g.unready]) metrics.delete(n);
  let requests: Map<string, number> | undefined;
  const target = args.targetUtilization ?? args.targetAverage!;
  if (args.targetUtilization !== undefined) {
    requests = new Map();
    for (const p of pods) {
      if (p.request === undefined) throw new ReplicaCalcError(`missing request for ${resource} in pod ${p.name}`);
      requests.set(p.name, p.request);
    }
  }
  if (!metrics.size) throw new ReplicaCalcError('did not receive metrics for targeted pods (pods might be unready)');
  const first = ratioOf(metrics, requests, target);
  const scaleUpWithUnready = g.unready.size > 0 && first.ratio > 1;
  if (!scaleUpWithUnready && g.missing.size === 0) {
    if (Math.abs(1 - first.ratio) <= tolerance) return { replicas: currentReplicas, utilization: first.utilization, rawAverage: first.rawAverage };
    return { replicas: Math.ceil(first.ratio * g.readyCount), utilization: first.utilization, rawAverage: first.rawAverage };
  }
  const fill = new Map(metrics);
  for (const n of g.missing) {
    const assumed = first.ratio < 1 ? (requests ? requests.get(n)! : target) : 0;
    fill.set(n, { value: assumed, timestamp: now, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const n of g.unready) fill.set(n, { value: 0, timestamp: now, windowMs: 0 });
  const second = ratioOf(fill, requests, target);
  if (Math.abs(1 - second.ratio) <= tolerance || (first.ratio < 1 && second.ratio > 1) || (first.ratio > 1 && second.ratio < 1)) {
    return { replicas: currentReplicas, utilization: first.utilization, rawAverage: first.rawAverage };
  }
  const replicas = Math.ceil(second.ratio * fill.size);
  if ((second.ratio < 1 && replicas > currentReplicas) || (second.ratio > 1 && replicas < currentReplicas)) {
    return { replicas: currentReplicas, utilization: first.utilization, rawAverage: first.rawAverage };
  }
  // The status reports the figures over pods with real metrics, as upstream.
  return { replicas, utilization: first.utilization, rawAverage: first.rawAverage };
}
