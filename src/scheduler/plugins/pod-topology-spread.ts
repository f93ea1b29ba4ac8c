/**
 * PodTopologySpread — why: keeps matching pods evenly spread over topology domains (zones, hosts):
 * DoNotSchedule constraints reject nodes that would push the skew past maxSkew, ScheduleAnyway ones
 * rank less crowded domains higher.
 */
import { failure, MAX_NODE_SCORE, type CycleState, type Plugin } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import type { PodInfo, SpreadConstraint } from '../pod-info.ts';
import type { Snapshot } from '../snapshot.ts';
import { firstHardUntolerated } from '../taints.ts';
import { requiredNodeAffinityMatches } from './node-affinity.ts';

export const NAME = 'PodTopologySpread';
/** podtopologyspread.ErrReasonConstraintsNotMatch. */
export const ERR_REASON_CONSTRAINTS = "node(s) didn't match pod topology spread constraints";
/** podtopologyspread.ErrReasonNodeLabelNotMatch. */
export const ERR_REASON_LABEL = `${ERR_REASON_CONSTRAINTS} (missing required label)`;
const FAIL_SKEW = failure(NAME, ERR_REASON_CONSTRAINTS, false);
const FAIL_LABEL = failure(NAME, ERR_REASON_LABEL, true);

interface Counted {
  constraints: SpreadConstraint[];
  counts: Map<string, number>[];
  minMatch: number[];
  selfMatch: number[];
}

/** Pods on the node that the constraint counts: same namespace, selector match, not terminating. */
function countOn(node: NodeInfo, c: SpreadConstraint, namespace: string): number {
  let n = 0;
  for (const p of node.pods.values()) {
    if (p.namespace === namespace && !p.pod.metadata.deletionTimestamp && c.selector.matches(p.labels)) n++;
  }
  return n;
}

/** Per-domain counts of matching pods over the nodes the constraints consider. */
export function countDomains(pod: PodInfo, constraints: SpreadConstraint[], nodes: readonly NodeInfo[]): Map<string, number>[] {
  const counts = constraints.map(() => new Map<string, number>());
  const affinity = constraints.some((c) => c.honorNodeAffinity) && (pod.nodeSelector || pod.requiredNodeAffinity);
  const taints = constraints.some((c) => c.honorTaints);
  const k = constraints.length;
  nodes: for (const node of nodes) {
    if (!node.node) continue;
    for (let i = 0; i < k; i++) if (node.labels[constraints[i].topologyKey] === undefined) continue nodes;
    if (affinity && !requiredNodeAffinityMatches(pod, node)) continue;
    if (taints && node.taints.length && firstHardUntolerated(node.taints, pod.tolerations)) continue;
    for (let i = 0; i < k; i++) {
      const v = node.labels[constraints[i].topologyKey];
      const n = node.pods.size ? countOn(node, constraints[i], pod.namespace) : 0;
      counts[i].set(v, (counts[i].get(v) ?? 0) + n);
    }
  }
  return counts;
}

function prepare(pod: PodInfo, snap: Snapshot): Counted {
  const constraints = pod.hardSpread;
  const counts = countDomains(pod, constraints, snap.nodes);
  const minMatch = counts.map((m, i) => {
    if (m.size < constraints[i].minDomains) return 0;
    let min = Infinity;
    for (const v of m.values()) if (v < min) min = v;
    return min === Infinity ? 0 : min;
  });
  const selfMatch = constraints.map((c) => (c.selector.matches(pod.labels) ? 1 : 0));
  return { constraints, counts, minMatch, selfMatch };
}

interface Soft { constraints: SpreadConstraint[]; counts: Map<string, number>[]; weights: number[] }

/** Filter on DoNotSchedule constraints, score on ScheduleAnyway ones. */
export function podTopologySpread(): Plugin {
  return {
    name: NAME,
    preFilter(pod, snap, state) {
      if (!pod.hardSpread.length) return 'skip';
      state.set(NAME, prepare(pod, snap));
    },
    filter(pod, node, state: CycleState) {
      const s = state.get(NAME) as Counted;
      for (let i = 0; i < s.constraints.length; i++) {
        const c = s.constraints[i];
        const v = node.labels[c.topologyKey];
        if (v === undefined) return FAIL_LABEL;
        const skew = (s.counts[i].get(v) ?? 0) + s.selfMatch[i] - s.minMatch[i];
        if (skew > c.maxSkew) return FAIL_SKEW;
      }
      return null;
    },
    preScore(pod, _feasible, snap, state) {
      if (!pod.softSpread.length) return 'skip';
      const counts = countDomains(pod, pod.softSpread, snap.nodes);
      // More domains → each constraint weighs more (Kubernetes' topologyNormalizingWeight).
      state.set(`${NAME}/score`, { constraints: pod.softSpread, counts, weights: counts.map((m) => Math.log(m.size + 2)) } satisfies Soft);
    },
    score(_pod, node, state) {
      const s = state.get(`${NAME}/score`) as Soft;
      let total = 0;
      for (let i = 0; i < s.constraints.length; i++) {
        const v = node.labels[s.constraints[i].topologyKey];
        if (v === undefined) return -1;
        total += s.weights[i] * ((s.counts[i].get(v) ?? 0) + s.constraints[i].maxSkew - 1);
      }
      return total;
    },
    normalize(scores, count) {
      let min = Infinity;
      let max = 0;
      for (let i = 0; i < count; i++) {
        if (scores[i] < 0) continue;
        if (scores[i] < min) min = scores[i];
        if (scores[i] > max) max = scores[i];
      }
      for (let i = 0; i < count; i++) {
        if (scores[i] < 0) scores[i] = 0;
        else if (max === 0) scores[i] = MAX_NODE_SCORE;
        else scores[i] = Math.floor((MAX_NODE_SCORE * (max + min - scores[i])) / max);
      }
    },
  };
}
