/** NodeResourcesFit — why: a node must have room for the pod's requests; among those that do, LeastAllocated spreads load (MostAllocated packs it). */
import { failure, MAX_NODE_SCORE, type Failure, type Plugin } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import type { PodInfo } from '../pod-info.ts';

export const NAME = 'NodeResourcesFit';
/** noderesources reasons. */
export const TOO_MANY_PODS = 'Too many pods';
/** `Insufficient <resource>`, as Kubernetes words it. */
export function insufficient(resource: string): string {
  return `Insufficient ${resource}`;
}

/** Scoring strategy, as in NodeResourcesFitArgs.scoringStrategy.type. */
export type ScoringStrategy = 'LeastAllocated' | 'MostAllocated';

/** Options of the plugin. */
export interface NodeResourcesFitArgs {
  scoringStrategy?: ScoringStrategy;
}

interface Shortfall { reason: string; unresolvable: boolean }

/** Every resource the node lacks for the pod (empty when it fits); unresolvable when the request exceeds allocatable itself. */
export function shortfalls(pod: PodInfo, node: NodeInfo): Shortfall[] {
  const out: Shortfall[] = [];
  if (node.pods.size + 1 > node.allowedPods) out.push({ reason: TOO_MANY_PODS, unresolvable: false });
  const r = pod.requests;
  const a = node.allocatable;
  const used = node.requested;
  if (r.milliCPU > 0 && r.milliCPU > a.milliCPU - used.milliCPU) {
    out.push({ reason: insufficient('cpu'), unresolvable: r.milliCPU > a.milliCPU });
  }
  if (r.memory > 0 && r.memory > a.memory - used.memory) {
    out.push({ reason: insufficient('memory'), unresolvable: r.memory > a.memory });
  }
  if (r.ephemeralStorage > 0 && r.ephemeralStorage > a.ephemeralStorage - used.ephemeralStorage) {
    out.push({ reason: insufficient('ephemeral-storage'), unresolvable: r.ephemeralStorage > a.ephemeralStorage });
  }
  if (r.scalar) {
    for (const name of Object.keys(r.scalar)) {
      const want = r.scalar[name];
      if (want <= 0) continue;
      const alloc = a.scalar?.[name] ?? 0;
      if (want > alloc - (used.scalar?.[name] ?? 0)) out.push({ reason: insufficient(name), unresolvable: want > alloc });
    }
  }
  return out;
}

function resourceScore(strategy: ScoringStrategy, requested: number, alloc: number): number {
  if (alloc <= 0) return 0;
  if (strategy === 'MostAllocated') return Math.floor((Math.min(requested, alloc) * MAX_NODE_SCORE) / alloc);
  if (requested > alloc) return 0;
  return Math.floor(((alloc - requested) * MAX_NODE_SCORE) / alloc);
}

/** A full node with room otherwise: the common rejection while nodes fill up, shared, not built per node. */
const TOO_MANY_PODS_FAILURE = failure(NAME, TOO_MANY_PODS, false);

/** Filter on free resources; score cpu and memory (weight 1 each) by the chosen strategy. */
export function nodeResourcesFit(args: NodeResourcesFitArgs = {}): Plugin {
  const strategy = args.scoringStrategy ?? 'LeastAllocated';
  return {
    name: NAME,
    filter(pod, node): Failure | null {
      // Fast path: the common case fits on every count.
      const r = pod.requests;
      const a = node.allocatable;
      const u = node.requested;
      const room = r.milliCPU <= a.milliCPU - u.milliCPU && r.memory <= a.memory - u.memory
        && r.ephemeralStorage <= a.ephemeralStorage - u.ephemeralStorage && !r.scalar;
      if (room) return node.pods.size < node.allowedPods ? null : TOO_MANY_PODS_FAILURE;
      const s = shortfalls(pod, node);
      if (s.length === 0) return null;
      return failure(NAME, s.map((x) => x.reason), s.some((x) => x.unresolvable));
    },
    score(pod, node) {
      const cpu = resourceScore(strategy, node.nonZeroCPU + pod.nonZeroCPU, node.allocatable.milliCPU);
      const mem = resourceScore(strategy, node.nonZeroMemory + pod.nonZeroMemory, node.allocatable.memory);
      return Math.floor((cpu + mem) / 2);
    },
  };
}
