/** NodeAffinity — why: nodeSelector and required node affinity restrict where a pod may run; preferred terms rank nodes by summed weight. */
import { defaultNormalize, failure, type Plugin } from '../framework.ts';
import type { NodeInfo } from '../node-info.ts';
import { termMatches, termsMatch } from '../node-selector.ts';
import type { PodInfo } from '../pod-info.ts';

export const NAME = 'NodeAffinity';
/** nodeaffinity.ErrReasonPod. */
export const ERR_REASON = "node(s) didn't match Pod's node affinity/selector";
const FAIL = failure(NAME, ERR_REASON, true);

/** Whether the node satisfies the pod's nodeSelector and required node affinity. */
export function requiredNodeAffinityMatches(pod: PodInfo, node: NodeInfo): boolean {
  if (pod.nodeSelector) {
    for (const k of Object.keys(pod.nodeSelector)) if (node.labels[k] !== pod.nodeSelector[k]) return false;
  }
  if (pod.requiredNodeAffinity && !termsMatch(pod.requiredNodeAffinity, node)) return false;
  return true;
}

/** Filter by the required part, score by the preferred part. */
export function nodeAffinity(): Plugin {
  return {
    name: NAME,
    preFilter: (pod) => (pod.nodeSelector || pod.requiredNodeAffinity ? undefined : 'skip'),
    filter: (pod, node) => (requiredNodeAffinityMatches(pod, node) ? null : FAIL),
    preScore: (pod) => (pod.preferredNodeAffinity.length ? undefined : 'skip'),
    score(pod, node) {
      let s = 0;
      for (const p of pod.preferredNodeAffinity) if (p.weight && termMatches(p.term, node)) s += p.weight;
      return s;
    },
    normalize: (scores, count) => defaultNormalize(scores, count, false),
  };
}
