/**
 * The plugin contract (a small take on pkg/scheduler/framework): a plugin may prepare per pod
 * (preFilter / preScore, either may answer 'skip' to leave itself out for this pod), reject a node
 * (filter → Failure), and rank nodes (score → raw number, normalize → 0..100 in place).
 */
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import type { Snapshot } from './snapshot.ts';

/** Highest normalized score (framework.MaxNodeScore). */
export const MAX_NODE_SCORE = 100;

/**
 * Why a node (or, from preFilter, every node) cannot take the pod. `unresolvable` mirrors
 * UnschedulableAndUnresolvable: preempting pods on that node would not help.
 */
export interface Failure {
  plugin: string;
  reasons: readonly string[];
  unresolvable: boolean;
}

/** Per-pod scratch space plugins share between their phases, keyed by plugin name. */
export type CycleState = Map<string, unknown>;

/** One scheduler plugin; every phase is optional except the name. */
export interface Plugin {
  readonly name: string;
  preFilter?(pod: PodInfo, snap: Snapshot, state: CycleState): 'skip' | Failure | void;
  filter?(pod: PodInfo, node: NodeInfo, state: CycleState): Failure | null;
  preScore?(pod: PodInfo, feasible: readonly NodeInfo[], snap: Snapshot, state: CycleState): 'skip' | void;
  score?(pod: PodInfo, node: NodeInfo, state: CycleState): number;
  /** Rewrites `scores[0..count)` into 0..MAX_NODE_SCORE. */
  normalize?(scores: Float64Array, count: number, state: CycleState): void;
}

/** Builds a failure (reasons in Kubernetes' wording). */
export function failure(plugin: string, reasons: string | readonly string[], unresolvable: boolean): Failure {
  return { plugin, reasons: typeof reasons === 'string' ? [reasons] : reasons, unresolvable };
}

/**
 * framework helper DefaultNormalizeScore: scale to 0..100 by the maximum; `reverse` flips so that
 * the lowest raw score ranks best.
 */
export function defaultNormalize(scores: Float64Array, count: number, reverse: boolean): void {
  let max = 0;
  for (let i = 0; i < count; i++) if (scores[i] > max) max = scores[i];
  if (max === 0) {
    if (reverse) for (let i = 0; i < count; i++) scores[i] = MAX_NODE_SCORE;
    return;
  }
  for (let i = 0; i < count; i++) {
    const s = Math.floor((scores[i] * MAX_NODE_SCORE) / max);
    scores[i] = reverse ? MAX_NODE_SCORE - s : s;
  }
}
