/**
 * One scheduling cycle for one pod, synchronous and in memory: preFilter → filter the nodes
 * (round-robin start, stop after enough feasible ones) → preScore → score → normalize → weighted
 * sum → pick the best (ties at random). No API calls; the caller assumes and binds.
 */
import type { CycleState, Failure, Plugin } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import { buildProfile, type Profile } from './plugins/registry.ts';
import type { Snapshot } from './snapshot.ts';

/** Why a pod fits nowhere: node counts, a preFilter rejection, or per-reason node counts. */
export interface Diagnosis {
  numAllNodes: number;
  preFilter?: Failure;
  /** Reason → number of nodes that gave it. */
  reasons: Map<string, number>;
  /** Nodes whose failure preemption could not fix, and those it might. */
  unresolvable: number;
  resolvable: number;
  /** Plugins that rejected at least one node (for re-queueing on relevant events). */
  plugins: Set<string>;
  /**
   * Nodes whose filter failure preemption might fix (not unresolvable), in snapshot order: upstream's
   * potential nodes (NodeToStatus.NodesForStatusCode(Unschedulable)), the only ones its dry run visits.
   */
  potential: NodeInfo[];
}

/** The outcome of one cycle. */
export interface ScheduleResult {
  node?: NodeInfo;
  diagnosis?: Diagnosis;
  /** Nodes run through the filters, and how many of them passed. */
  evaluated: number;
  feasible: number;
}

/** Options of the pipeline. */
export interface PipelineOptions {
  /** Fixed percentage of nodes to find feasible before scoring (0 or absent: adaptive). */
  percentageOfNodesToScore?: number;
}

/** Below this many nodes every node is evaluated (minFeasibleNodesToFind). */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
/** Lower bound of the adaptive percentage (minFeasibleNodesPercentageToFind). */
export const MIN_FEASIBLE_NODES_PERCENTAGE = 5;

/**
 * How many feasible nodes to find before scoring, as kube-scheduler's numFeasibleNodesToFind:
 * all nodes below 100; otherwise max(100, n × p%) with p adaptive = max(5, 50 − n/125)
 * (42 % at 1,000 nodes, 10 % at 5,000) unless fixed by the option.
 */
export function numFeasibleNodesToFind(numAllNodes: number, percentage = 0): number {
  if (numAllNodes < MIN_FEASIBLE_NODES_TO_FIND || percentage >= 100) return numAllNodes;
  let p = percentage;
  if (p <= 0) p = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE, 50 - Math.floor(numAllNodes / 125));
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((numAllNodes * p) / 100));
}

function emptyDiagnosis(n: number): Diagnosis {
  return { numAllNodes: n, reasons: new Map(), unresolvable: 0, resolvable: 0, plugins: new Set(), potential: [] };
}

/** The filter → score pipeline over a snapshot. */
export class Pipeline {
  readonly profile: Profile;
  private nextStart = 0;
  private scratch = new Float64Array(0);
  private totals = new Float64Array(0);

  constructor(profile?: Profile, readonly opts: PipelineOptions = {}) {
    this.profile = profile ?? buildProfile();
  }

  /** Runs one cycle for `pod`; never mutates the snapshot. */
  schedule(pod: PodInfo, snap: Snapshot): ScheduleResult {
    const state: CycleState = new Map();
    const nodes = snap.nodes;
    const n = nodes.length;
    const filters: Plugin[] = [];
    for (const p of this.profile.filters) {
      const r = p.preFilter?.(pod, snap, state);
      if (r === 'skip') continue;
      if (r) {
        const d = emptyDiagnosis(n);
        d.preFilter = r;
        d.plugins.add(r.plugin);
        if (r.unresolvable) d.unresolvable = n;
        else d.resolvable = n;
        return { diagnosis: d, evaluated: 0, feasible: 0 };
      }
      filters.push(p);
    }
    if (n === 0) return { diagnosis: emptyDiagnosis(0), evaluated: 0, feasible: 0 };

    const want = numFeasibleNodesToFind(n, this.opts.percentageOfNodesToScore);
    const feasible: NodeInfo[] = [];
    let failures: Failure[] | undefined;
    const start = this.nextStart % n;
    let evaluated = 0;
    for (; evaluated < n && feasible.length < want; evaluated++) {
      const node = nodes[(start + evaluated) % n];
      let failed: Failure | null = null;
      for (let f = 0; f < filters.length && !failed; f++) failed = filters[f].filter!(pod, node, state);
      // Failures only matter when no node fits: once one does, stop keeping them (nodes filling up
      // would otherwise cost an array slot per full node per pod).
      if (!failed) feasible.push(node);
      else if (feasible.length === 0) (failures ??= []).push(failed);
    }
    this.nextStart = (start + evaluated) % n;

    if (feasible.length === 0) {
      // Every node was evaluated, failures[i] being node (start + i) % n's.
      const d = emptyDiagnosis(n);
      const all = failures ?? [];
      const wrap = n - start;
      for (let i = 0; i < all.length; i++) {
        const f = all[i];
        d.plugins.add(f.plugin);
        if (f.unresolvable) d.unresolvable++;
        else d.resolvable++;
        for (const r of f.reasons) d.reasons.set(r, (d.reasons.get(r) ?? 0) + 1);
      }
      // Snapshot order: the nodes before `start` (evaluated last) first.
      if (d.resolvable) {
        for (let i = wrap; i < all.length; i++) if (!all[i].unresolvable) d.potential.push(nodes[i - wrap]);
        for (let i = 0; i < wrap && i < all.length; i++) if (!all[i].unresolvable) d.potential.push(nodes[start + i]);
      }
      return { diagnosis: d, evaluated, feasible: 0 };
    }
    if (feasible.length === 1) return { node: feasible[0], evaluated, feasible: 1 };
    return { node: this.pick(pod, feasible, snap, state), evaluated, feasible: feasible.length };
  }

  private pick(pod: PodInfo, feasible: NodeInfo[], snap: Snapshot, state: CycleState): NodeInfo {
    const count = feasible.length;
    if (this.totals.length < count) {
      this.totals = new Float64Array(count * 2);
      this.scratch = new Float64Array(count * 2);
    }
    const totals = this.totals;
    const scores = this.scratch;
    totals.fill(0, 0, count);
    for (const { plugin, weight } of this.profile.scores) {
      if (plugin.preScore?.(pod, feasible, snap, state) === 'skip') continue;
      if (!plugin.normalize) {
        // Nothing to normalize: straight into the totals, one pass instead of two.
        for (let i = 0; i < count; i++) totals[i] += weight * plugin.score!(pod, feasible[i], state);
        continue;
      }
      for (let i = 0; i < count; i++) scores[i] = plugin.score!(pod, feasible[i], state);
      plugin.normalize(scores, count, state);
      for (let i = 0; i < count; i++) totals[i] += weight * scores[i];
    }
    // Highest total wins; ties are broken uniformly at random (reservoir sampling).
    let best = 0;
    let ties = 1;
    for (let i = 1; i < count; i++) {
      if (totals[i] > totals[best]) {
        best = i;
        ties = 1;
      } else if (totals[i] === totals[best] && Math.random() * ++ties < 1) {
        best = i;
      }
    }
    return feasible[best];
  }
}
