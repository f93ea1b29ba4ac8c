/**
 * InterPodAffinity — why: co-locates pods with the pods they need (affinity) and keeps them away
 * from the pods they must avoid (anti-affinity, in both directions) within a topology domain;
 * preferred terms become scores.
 */
import { failure, MAX_NODE_SCORE, type Plugin } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import { termSelects, type AffinityTerm, type PodInfo } from '../pod-info.ts';
import type { Snapshot } from '../snapshot.ts';

export const NAME = 'InterPodAffinity';
/** interpodaffinity reasons. */
export const ERR_AFFINITY = "node(s) didn't match pod affinity rules";
export const ERR_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const ERR_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
const FAIL_AFFINITY = failure(NAME, ERR_AFFINITY, true);
const FAIL_ANTI = failure(NAME, ERR_ANTI_AFFINITY, false);
const FAIL_EXISTING = failure(NAME, ERR_EXISTING_ANTI_AFFINITY, false);
/** Weight of an existing pod's required affinity term matching the incoming pod (hardPodAffinityWeight). */
const HARD_POD_AFFINITY_WEIGHT = 1;

interface State {
  affinity: Map<string, number>[];
  anti: Map<string, number>[];
  /** topologyKey → values where an existing pod's anti-affinity forbids the incoming pod. */
  existingAnti: Map<string, Set<string>>;
  /** No pod matches the affinity terms but the pod matches them itself: the first of its group. */
  selfSatisfied: boolean;
}

/** Counts, per term, the pods it selects by topology value of their node. */
function countTerms(terms: AffinityTerm[], snap: Snapshot): Map<string, number>[] {
  const counts = terms.map(() => new Map<string, number>());
  if (!terms.length) return counts;
  for (const node of snap.nodes) {
    if (node.pods.size === 0) continue;
    for (const other of node.pods.values()) {
      for (let i = 0; i < terms.length; i++) {
        const v = node.labels[terms[i].topologyKey];
        if (v !== undefined && termSelects(terms[i], other)) counts[i].set(v, (counts[i].get(v) ?? 0) + 1);
      }
    }
  }
  return counts;
}

function prepare(pod: PodInfo, snap: Snapshot): State | undefined {
  const existingAnti = new Map<string, Set<string>>();
  for (const other of snap.podsWithRequiredAntiAffinity.values()) {
    const node = snap.nodeOfPod(other.key);
    if (!node) continue;
    for (const t of other.antiAffinity) {
      const v = node.labels[t.topologyKey];
      if (v === undefined || !termSelects(t, pod)) continue;
      let set = existingAnti.get(t.topologyKey);
      if (!set) existingAnti.set(t.topologyKey, (set = new Set()));
      set.add(v);
    }
  }
  if (!pod.affinity.length && !pod.antiAffinity.length && existingAnti.size === 0) return undefined;
  const affinity = countTerms(pod.affinity, snap);
  const selfSatisfied = affinity.every((m) => m.size === 0) && pod.affinity.every((t) => termSelects(t, pod));
  return { affinity, anti: countTerms(pod.antiAffinity, snap), existingAnti, selfSatisfied };
}

function topologyAdd(scores: Map<string, Map<string, number>>, key: string, value: string, w: number): void {
  let m = scores.get(key);
  if (!m) scores.set(key, (m = new Map()));
  m.set(value, (m.get(value) ?? 0) + w);
}

/** Required terms filter; preferred terms (the pod's and, symmetrically, existing pods') score. */
export function interPodAffinity(): Plugin {
  return {
    name: NAME,
    preFilter(pod, snap, state) {
      const s = prepare(pod, snap);
      if (!s) return 'skip';
      state.set(NAME, s);
    },
    filter(pod, node: NodeInfo, state) {
      const s = state.get(NAME) as State;
      if (!s.selfSatisfied) {
        for (let i = 0; i < pod.affinity.length; i++) {
          const v = node.labels[pod.affinity[i].topologyKey];
          if (v === undefined || !s.affinity[i].get(v)) return FAIL_AFFINITY;
        }
      } else {
        for (const t of pod.affinity) if (node.labels[t.topologyKey] === undefined) return FAIL_AFFINITY;
      }
      for (let i = 0; i < pod.antiAffinity.length; i++) {
        const v = node.labels[pod.antiAffinity[i].topologyKey];
        if (v !== undefined && s.anti[i].get(v)) return FAIL_ANTI;
      }
      for (const [key, values] of s.existingAnti) {
        const v = node.labels[key];
        if (v !== undefined && values.has(v)) return FAIL_EXISTING;
      }
      return null;
    },
    preScore(pod, _feasible, snap, state) {
      const own = pod.preferredAffinity.length + pod.preferredAntiAffinity.length;
      if (!own && snap.podsWithAffinity.size === 0) return 'skip';
      const scores = new Map<string, Map<string, number>>();
      if (own) {
        for (const node of snap.nodes) {
          for (const other of node.pods.values()) {
            for (const t of pod.preferredAffinity) {
              const v = node.labels[t.topologyKey];
              if (v !== undefined && termSelects(t, other)) topologyAdd(scores, t.topologyKey, v, t.weight);
            }
            for (const t of pod.preferredAntiAffinity) {
              const v = node.labels[t.topologyKey];
              if (v !== undefined && termSelects(t, other)) topologyAdd(scores, t.topologyKey, v, -t.weight);
            }
          }
        }
      }
      for (const other of snap.podsWithAffinity.values()) {
        const node = snap.nodeOfPod(other.key);
        if (!node) continue;
        const add = (terms: AffinityTerm[], sign: number, weight?: number) => {
          for (const t of terms) {
            const v = node.labels[t.topologyKey];
            if (v !== undefined && termSelects(t, pod)) topologyAdd(scores, t.topologyKey, v, sign * (weight ?? t.weight));
          }
        };
        add(other.preferredAffinity, 1);
        add(other.preferredAntiAffinity, -1);
        add(other.affinity, 1, HARD_POD_AFFINITY_WEIGHT);
      }
      if (scores.size === 0) return 'skip';
      state.set(`${NAME}/score`, scores);
    },
    score(_pod, node, state) {
      const scores = state.get(`${NAME}/score`) as Map<string, Map<string, number>>;
      let s = 0;
      for (const [key, values] of scores) {
        const v = node.labels[key];
        if (v !== undefined) s += values.get(v) ?? 0;
      }
      return s;
    },
    normalize(scores, count) {
      let min = Infinity;
      let max = -Infinity;
      for (let i = 0; i < count; i++) {
        if (scores[i] < min) min = scores[i];
        if (scores[i] > max) max = scores[i];
      }
      const span = max - min;
      for (let i = 0; i < count; i++) scores[i] = span > 0 ? Math.floor((MAX_NODE_SCORE * (scores[i] - min)) / span) : 0;
    },
  };
}
