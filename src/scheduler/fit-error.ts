/**
 * The FailedScheduling message, worded as kube-scheduler's FitError plus the DefaultPreemption
 * post-filter note: `0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint
 * {k: v}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.`
 * Reasons are "<count> <reason>" strings sorted as strings, as Kubernetes sorts them.
 * When preemption found no node, nodes whose failure it might fix are reported as "No preemption
 * victims found for incoming pod"; when it nominated one, the message has no preemption part, as
 * upstream's successful PostFilter leaves none; when the pod may not preempt, the reason is given.
 */
import type { Diagnosis } from './pipeline.ts';
import type { PodInfo } from './pod-info.ts';

/** ErrNoNodesAvailable. */
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';
/** Preemption reasons per node. */
export const PREEMPTION_NOT_HELPFUL = 'Preemption is not helpful for scheduling';
export const NO_VICTIMS = 'No preemption victims found for incoming pod';

function histogram(counts: Map<string, number>): string {
  return [...counts].map(([reason, n]) => `${n} ${reason}`).sort().join(', ');
}

/**
 * The message for a pod that fits on no node; `postFilter` is the preemption part when the
 * PostFilter said something other than "no candidates" ('' for nothing at all).
 */
export function fitErrorMessage(d: Diagnosis, pod: PodInfo, postFilter?: string): string {
  if (d.numAllNodes === 0) return NO_NODES_AVAILABLE;
  let msg = `0/${d.numAllNodes} nodes are available:`;
  if (d.preFilter) msg += ` ${d.preFilter.reasons.join(', ')}.`;
  else if (d.reasons.size) msg += ` ${histogram(d.reasons)}.`;
  if (postFilter === '') return msg;
  if (postFilter !== undefined) return `${msg} preemption: ${postFilter}`;
  if (pod.pod.spec?.preemptionPolicy === 'Never') return `${msg} preemption: not eligible due to preemptionPolicy=Never.`;
  const post = new Map<string, number>();
  if (d.unresolvable) post.set(PREEMPTION_NOT_HELPFUL, d.unresolvable);
  if (d.resolvable) post.set(NO_VICTIMS, d.resolvable);
  return `${msg} preemption: 0/${d.numAllNodes} nodes are available: ${histogram(post)}.`;
}
