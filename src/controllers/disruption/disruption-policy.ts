/**
 * What a PodDisruptionBudget's status should say, computed from cached objects with no I/O
 * (pkg/controller/disruption/disruption.go: getExpectedPodCount, getExpectedScale, countHealthyPods,
 * buildDisruptedPodMap, updatePdbStatus, failSafe):
 *
 *   maxUnavailable (int or %) ─▶ expected = Σ scale of the pods' controllers; desired = expected − max(⌈%⌉)
 *   minAvailable int          ─▶ expected = pods selected;                    desired = minAvailable
 *   minAvailable %            ─▶ expected = Σ scale of the pods' controllers; desired = ⌈% × expected⌉
 *   healthy = Ready pods, not deleting, not in disruptedPods (an approved eviction not seen yet)
 *   disruptionsAllowed = max(0, healthy − desired), 0 while expected is 0
 */
import type { KubeObject, OwnerReference } from '../../apis/object.ts';
import {
  DISRUPTION_ALLOWED, PDB_REASONS, conditionsAreUpToDate, setCondition, updateDisruptionAllowedCondition,
  type BudgetStatus, type MetaCondition,
} from '../../apis/pod-disruption-budget.ts';
import { isPodReady } from '../controller-utils.ts';

/**
 * DeletionTimeout: how long an approved eviction counts its pod as gone before the pod must be seen
 * deleting; past it the eviction is assumed to have failed and the pod counts again.
 */
export const DELETION_TIMEOUT_MS = 2 * 60_000;

/** A controller's uid and desired replicas (controllerAndScale). */
export interface ControllerScale {
  uid: string;
  replicas: number;
}

/**
 * The scale of the controller `ref` names in `namespace`: undefined when it is not there (or is
 * another object of that name); throws when the kind cannot have a scale (no pods can be counted).
 */
export type ScaleFinder = (ref: OwnerReference, namespace: string) => ControllerScale | undefined;

/** intstr.GetScaledValueFromIntOrPercent: an int as is, `N%` of `total` rounded up or down. */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = typeof v === 'string' ? /^(\d+)%$/.exec(v) : null;
  if (!m) throw new Error(`invalid value for IntOrString: invalid value ${JSON.stringify(v)}: must be an integer or a percentage`);
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** getExpectedScale: the sum of the scales of the pods' controllers; pods without one are unmanaged. */
export function expectedScale(pods: readonly KubeObject[], find: ScaleFinder): { expected: number; unmanaged: string[] } {
  const scales = new Map<string, number>();
  const unmanaged: string[] = [];
  for (const pod of pods) {
    const ref = pod.metadata.ownerReferences?.find((r) => r.controller === true);
    if (!ref) { unmanaged.push(pod.metadata.name!); continue; }
    if (scales.has(ref.uid)) continue;
    const found = find(ref, pod.metadata.namespace!);
    if (!found) throw new Error(`found no controllers for pod "${pod.metadata.name}"`);
    scales.set(found.uid, found.replicas);
  }
  let expected = 0;
  for (const n of scales.values()) expected += n;
  return { expected, unmanaged };
}

/** getExpectedPodCount: expected pods and how many of them must stay healthy. */
export function expectedPodCount(pdb: KubeObject, pods: readonly KubeObject[], find: ScaleFinder): { expected: number; desiredHealthy: number; unmanaged: string[] } {
  const { maxUnavailable, minAvailable } = pdb.spec ?? {};
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const { expected, unmanaged } = expectedScale(pods, find);
    const desiredHealthy = Math.max(0, expected - scaledValue(maxUnavailable, expected, true));
    return { expected, desiredHealthy, unmanaged };
  }
  if (typeof minAvailable === 'number') return { expected: pods.length, desiredHealthy: minAvailable, unmanaged: [] };
  if (typeof minAvailable === 'string') {
    const { expected, unmanaged } = expectedScale(pods, find);
    return { expected, desiredHealthy: scaledValue(minAvailable, expected, true), unmanaged };
  }
  return { expected: 0, desiredHealthy: 0, unmanaged: [] };
}

/**
 * Whether the pod now named `name` is a later one than the one evicted at `since` (ms): the
 * controller saw a pod of that name with another uid go after the eviction. A StatefulSet member
 * comes back under its old name; without this its entry would hold it unhealthy for DeletionTimeout
 * whenever the controller missed the old pod's deleting state (a node finishing it at once).
 */
export type ReplacedSince = (pod: KubeObject, since: number) => boolean;

/**
 * buildDisruptedPodMap: the entries still pending — their pod exists, is not deleting yet, and the
 * timeout has not passed — with the earliest moment one expires; `expired` are the pods whose
 * eviction evidently failed (an event tells their owner).
 */
export function disruptedPodMap(pdb: KubeObject, pods: readonly KubeObject[], now: number, replaced: ReplacedSince = () => false): { disrupted: Record<string, string>; recheckAt?: number; expired: KubeObject[] } {
  const recorded: Record<string, string> = pdb.status?.disruptedPods ?? {};
  const disrupted: Record<string, string> = {};
  const expired: KubeObject[] = [];
  let recheckAt: number | undefined;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = recorded[pod.metadata.name!];
    if (at === undefined) continue;
    const since = Date.parse(at);
    if (replaced(pod, since)) continue;
    const deadline = since + DELETION_TIMEOUT_MS;
    if (!(deadline > now)) { expired.push(pod); continue; }
    if (recheckAt === undefined || deadline < recheckAt) recheckAt = deadline;
    disrupted[pod.metadata.name!] = at;
  }
  return { disrupted, recheckAt, expired };
}

/** countHealthyPods: Ready, not deleting, and not about to be deleted by an approved eviction. */
export function countHealthy(pods: readonly KubeObject[], disrupted: Record<string, string>, now: number): number {
  let n = 0;
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    const at = disrupted[pod.metadata.name!];
    if (at !== undefined && Date.parse(at) + DELETION_TIMEOUT_MS > now) continue;
    if (isPodReady(pod)) n++;
  }
  return n;
}

/** The counts a sync arrives at. */
export interface BudgetCounts {
  currentHealthy: number;
  desiredHealthy: number;
  expected: number;
  disrupted: Record<string, string>;
}

const sameMap = (a: Record<string, string> | undefined, b: Record<string, string>): boolean => {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b).length && ka.every((k) => a![k] === b[k]);
};

/**
 * updatePdbStatus: the status to write, or undefined when the stored one already says it. A budget
 * matching no expected pod allows nothing, so pods appearing before the next sync are safe.
 */
export function nextStatus(pdb: KubeObject, c: BudgetCounts, now = Date.now()): BudgetStatus | undefined {
  const allowed = c.expected <= 0 ? 0 : Math.max(0, c.currentHealthy - c.desiredHealthy);
  const cur: BudgetStatus = pdb.status ?? {};
  const generation = pdb.metadata.generation ?? 0;
  if (cur.currentHealthy === c.currentHealthy && cur.desiredHealthy === c.desiredHealthy && cur.expectedPods === c.expected
    && cur.disruptionsAllowed === allowed && sameMap(cur.disruptedPods, c.disrupted)
    && (cur.observedGeneration ?? 0) === generation && conditionsAreUpToDate(pdb)) return undefined;
  const status: BudgetStatus = {
    observedGeneration: generation,
    ...(Object.keys(c.disrupted).length ? { disruptedPods: c.disrupted } : {}),
    disruptionsAllowed: allowed, currentHealthy: c.currentHealthy, desiredHealthy: c.desiredHealthy, expectedPods: c.expected,
    conditions: structuredClone(cur.conditions ?? []),
  };
  updateDisruptionAllowedCondition(status, now);
  return status;
}

/**
 * failSafe: when a sync fails, at least allow no disruption — the eviction subresource then refuses
 * rather than trusting counts that could not be computed. The condition says why.
 */
export function failSafeStatus(pdb: KubeObject, message: string, now = Date.now()): BudgetStatus {
  const status: BudgetStatus = structuredClone(pdb.status ?? {});
  status.disruptionsAllowed = 0;
  status.conditions ??= [];
  setCondition(status.conditions as MetaCondition[], {
    type: DISRUPTION_ALLOWED, status: 'False', reason: PDB_REASONS.syncFailed, message, observedGeneration: status.observedGeneration,
  }, now);
  return status;
}
