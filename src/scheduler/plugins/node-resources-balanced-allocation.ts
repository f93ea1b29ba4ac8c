/** NodeResourcesBalancedAllocation — why: prefer nodes whose cpu and memory would be used in similar proportions, so neither strands the other. */
import { MAX_NODE_SCORE, type Plugin } from '../framework.ts';

export const NAME = 'NodeResourcesBalancedAllocation';

function fraction(requested: number, alloc: number): number {
  if (alloc <= 0) return 1;
  return Math.min(1, requested / alloc);
}

/** Score = (1 − standard deviation of the cpu and memory fractions) × 100. */
export function nodeResourcesBalancedAllocation(): Plugin {
  return {
    name: NAME,
    score(pod, node) {
      const c = fraction(node.requested.milliCPU + pod.requests.milliCPU, node.allocatable.milliCPU);
      const m = fraction(node.requested.memory + pod.requests.memory, node.allocatable.memory);
      // For two values the standard deviation is half their distance.
      const std = Math.abs(c - m) / 2;
      return Math.floor((1 - std) * MAX_NODE_SCORE);
    },
  };
}
