/**
 * Preemption, the DefaultPreemption PostFilter (pkg/scheduler/framework/plugins/defaultpreemption and
 * framework/preemption), in memory and synchronous: when a pod fits nowhere, find the nodes where
 * removing pods of lower priority makes it fit, keep on each the fewest victims (reprieving the most
 * important first, PodDisruptionBudget-protected ones before the rest), and pick one node by
 * upstream's criteria in order — fewest PDB violations, lowest highest victim priority, lowest sum
 * of priorities, fewest victims, latest start of the most important victims. The caller carries the
 * choice out (preemption-executor.ts). Runs only for a pod that fits nowhere: no cost otherwise.
 */
import { LabelSelector } from '../apis/selectors/label-selector.ts';
import { fromLabelSelectorSpec } from '../apis/selectors/label-selector-spec.ts';
import type { KubeObject } from '../apis/object.ts';
import type { CycleState, Plugin } from './framework.ts';
import { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import type { Snapshot } from './snapshot.ts';

/** At least this share of nodes is dry-run before choosing (MinCandidateNodesPercentage)… */
export const MIN_CANDIDATE_NODES_PERCENTAGE = 10;
/** …and at least this many (MinCandidateNodesAbsolute). */
export const MIN_CANDIDATE_NODES_ABSOLUTE = 100;

/** PodEligibleToPreemptOthers' answers. */
export const NOT_ELIGIBLE_NEVER = 'not eligible due to preemptionPolicy=Never.';
export const NOT_ELIGIBLE_TERMINATING = 'not eligible due to a terminating pod on the nominated node.';

/** What DisruptionTarget says on a pod the scheduler preempts (PodReasonPreemptionByScheduler). */
export const REASON_PREEMPTION_BY_SCHEDULER = 'PreemptionByScheduler';

/** A PodDisruptionBudget as victim selection reads it. */
export interface Budget {
  namespace: string;
  selector: LabelSelector;
  disruptionsAllowed: number;
  /** Pods the API already counted as disrupted (status.disruptedPods). */
  disrupted: ReadonlySet<string>;
}

/** A node where the pod fits once `victims` are gone. */
export interface Candidate {
  node: NodeInfo;
  /** Most important first. */
  victims: PodInfo[];
  pdbViolations: number;
}

/** Parses PodDisruptionBudget objects; an unparsable selector matches nothing. */
export function budgetsOf(pdbs: readonly KubeObject[]): Budget[] {
  return pdbs.map((pdb) => {
    let selector: LabelSelector;
    try {
      selector = fromLabelSelectorSpec(pdb.spec?.selector);
    } catch {
      selector = LabelSelector.nothing();
    }
    return {
      namespace: pdb.metadata.namespace ?? 'default',
      selector,
      disruptionsAllowed: Number(pdb.status?.disruptionsAllowed ?? 0),
      disrupted: new Set(Object.keys(pdb.status?.disruptedPods ?? {})),
    };
  });
}

/** When the pod started (status.startTime); not started yet counts as now, as upstream's GetPodStartTime. */
export function startTime(p: PodInfo, now = Date.now()): number {
  const t = Date.parse(p.pod.status?.startTime ?? '');
  return Number.isNaN(t) ? now : t;
}

/** MoreImportantPod: higher priority first, then the one that started earlier. */
export function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return startTime(a) - startTime(b);
}

/** Whether a pod is going away because a scheduler preempted it (deleting, with the DisruptionTarget condition). */
export function terminatingByPreemption(p: PodInfo): boolean {
  if (!p.pod.metadata.deletionTimestamp) return false;
  const conds: any[] = Array.isArray(p.pod.status?.conditions) ? p.pod.status.conditions : [];
  return conds.some((c) => c?.type === 'DisruptionTarget' && c.status === 'True' && c.reason === REASON_PREEMPTION_BY_SCHEDULER);
}

/**
 * PodEligibleToPreemptOthers: undefined when the pod may preempt, else why not — preemptionPolicy
 * Never, or a lower-priority pod on its nominated node is still terminating by preemption (the room
 * is coming; preempting more would evict pods for nothing).
 */
export function ineligibility(pod: PodInfo, snap: Snapshot, nominatedNode: string | undefined): string | undefined {
  if (pod.pod.spec?.preemptionPolicy === 'Never') return NOT_ELIGIBLE_NEVER;
  if (!nominatedNode) return undefined;
  const node = snap.byName.get(nominatedNode);
  if (!node) return undefined;
  for (const p of node.pods.values()) {
    if (p.priority < pod.priority && terminatingByPreemption(p)) return NOT_ELIGIBLE_TERMINATING;
  }
  return undefined;
}

function fits(pod: PodInfo, node: NodeInfo, filters: readonly Plugin[], state: CycleState): boolean {
  for (const f of filters) if (f.filter!(pod, node, state)) return false;
  return true;
}

/**
 * filterPodsWithPDBViolation: splits `pods` (in order) into those whose eviction would take a
 * matching budget below zero and the rest, each budget's allowance spent as pods are counted.
 */
export function splitByBudget(pods: readonly PodInfo[], budgets: readonly Budget[]): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = budgets.map((b) => b.disruptionsAllowed);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const p of pods) {
    let violated = false;
    // A pod with no labels matches no budget; an empty selector matches nothing.
    if (Object.keys(p.labels).length) {
      budgets.forEach((b, i) => {
        if (b.namespace !== p.namespace || b.selector.empty || !b.selector.matches(p.labels)) return;
        if (b.disrupted.has(p.name)) return;
        if (--allowed[i] < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(p);
  }
  return { violating, nonViolating };
}

/**
 * SelectVictimsOnNode: undefined when even removing every lower-priority pod leaves no room;
 * otherwise the fewest victims found by adding pods back, most important first.
 */
export function selectVictimsOnNode(pod: PodInfo, node: NodeInfo, filters: readonly Plugin[], state: CycleState, budgets: readonly Budget[]): Candidate | undefined {
  // Most nodes of a full cluster hold no pod of lower priority: say so before copying anything.
  let any = false;
  for (const p of node.pods.values()) if (p.priority < pod.priority) { any = true; break; }
  if (!any) return undefined;
  const lower: PodInfo[] = [];
  const trial = new NodeInfo(node.name, node.node);
  for (const p of node.pods.values()) {
    if (p.priority < pod.priority) lower.push(p);
    else trial.addPod(p);
  }
  if (!fits(pod, trial, filters, state)) return undefined;
  lower.sort(moreImportant);
  const { violating, nonViolating } = splitByBudget(lower, budgets);
  const victims: PodInfo[] = [];
  let pdbViolations = 0;
  const reprieve = (p: PodInfo, violates: boolean) => {
    trial.addPod(p);
    if (fits(pod, trial, filters, state)) return;
    trial.removePod(p.key);
    victims.push(p);
    if (violates) pdbViolations++;
  };
  for (const p of violating) reprieve(p, true);
  for (const p of nonViolating) reprieve(p, false);
  if (violating.length && nonViolating.length) victims.sort(moreImportant);
  return { node, victims, pdbViolations };
}

/** GetOffsetAndNumCandidates' count: max(10 % of the nodes, 100), at most all of them. */
export function candidatesToFind(n: number): number {
  return Math.min(n, Math.max(MIN_CANDIDATE_NODES_ABSOLUTE, Math.floor((n * MIN_CANDIDATE_NODES_PERCENTAGE) / 100)));
}

/**
 * Dry-runs preemption over the nodes (from a random offset, as upstream spreads the work) until
 * enough candidates are found. `potential`: the nodes the filter phase found preemption might help
 * (Diagnosis.potential), as upstream's findCandidates takes them from the filter statuses — the
 * count to find is then taken of them, and no filter runs again to tell them. Without it every node
 * is visited and those whose failure no eviction can fix (taints, affinity, requests above
 * allocatable…) are passed over at the cost of one filter run.
 */
export function findCandidates(pod: PodInfo, snap: Snapshot, filters: readonly Plugin[], state: CycleState, budgets: readonly Budget[], random = Math.random,
  potential?: readonly NodeInfo[]): Candidate[] {
  const nodes = potential ?? snap.nodes;
  const n = nodes.length;
  const want = candidatesToFind(n);
  const offset = Math.floor(random() * n);
  const out: Candidate[] = [];
  for (let i = 0; i < n && out.length < want; i++) {
    const node = nodes[(offset + i) % n];
    if (!potential) {
      let unresolvable = false;
      for (const f of filters) {
        const failed = f.filter!(pod, node, state);
        if (failed?.unresolvable) { unresolvable = true; break; }
      }
      if (unresolvable) continue;
    }
    const c = selectVictimsOnNode(pod, node, filters, state, budgets);
    if (c) out.push(c);
  }
  return out;
}

/** pickOneNodeForPreemption: the default criteria, in order, each breaking the previous one's ties. */
export function pickOneNode(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  // A node with nothing to evict wins at once.
  const free = candidates.find((c) => c.victims.length === 0);
  if (free) return free;
  const criteria: ((c: Candidate) => number)[] = [
    (c) => -c.pdbViolations,
    (c) => -c.victims[0].priority,
    // Offset by 2^31 so negative priorities still add up to a positive cost.
    (c) => -c.victims.reduce((s, v) => s + v.priority + 2 ** 31, 0),
    (c) => -c.victims.length,
    (c) => earliestStartOfMostImportant(c.victims),
  ];
  let best = [...candidates];
  for (const score of criteria) {
    if (best.length === 1) break;
    let top = -Infinity;
    let kept: Candidate[] = [];
    for (const c of best) {
      const s = score(c);
      if (s > top) { top = s; kept = [c]; } else if (s === top) kept.push(c);
    }
    best = kept;
  }
  return best[0];
}

/** GetEarliestPodStartTime: the earliest start among the victims of the highest priority. */
function earliestStartOfMostImportant(victims: readonly PodInfo[]): number {
  const top = victims[0].priority;
  let earliest = Infinity;
  for (const v of victims) if (v.priority === top) earliest = Math.min(earliest, startTime(v));
  return earliest;
}

/** The filters a pod runs and their cycle state (the pipeline keeps its own private). */
export function prepareFilters(pod: PodInfo, snap: Snapshot, filters: readonly Plugin[]): { filters: Plugin[]; state: CycleState } | undefined {
  const state: CycleState = new Map();
  const run: Plugin[] = [];
  for (const p of filters) {
    const r = p.preFilter?.(pod, snap, state);
    if (r === 'skip') continue;
    // A preFilter rejection holds on every node: no eviction helps.
    if (r) return undefined;
    run.push(p);
  }
  return { filters: run, state };
}

/**
 * One preemption decision: the node and its victims, or none. `potential` as findCandidates': when
 * the filter phase found no node preemption might help (every failure unresolvable — a fleet that
 * is tainted, or a pod too big for any node) there is nothing to dry-run, as upstream.
 */
export function preempt(pod: PodInfo, snap: Snapshot, filters: readonly Plugin[], budgets: readonly Budget[], random = Math.random,
  potential?: readonly NodeInfo[]): Candidate | undefined {
  if (potential?.length === 0) return undefined;
  const prepared = prepareFilters(pod, snap, filters);
  if (!prepared) return undefined;
  return pickOneNode(findCandidates(pod, snap, prepared.filters, prepared.state, budgets, random, potential));
}
