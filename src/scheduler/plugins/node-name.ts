/** NodeName — why: a pod that names its node (spec.nodeName) may only go there. */
import { failure, type Plugin } from '../framework.ts';

export const NAME = 'NodeName';
/** The reason Kubernetes prints (nodename.ErrReason). */
export const ERR_REASON = "node(s) didn't match the requested node name";
const FAIL = failure(NAME, ERR_REASON, true);

/** Rejects every node but the one the pod names. */
export function nodeName(): Plugin {
  return {
    name: NAME,
    preFilter: (pod) => (pod.nodeName ? undefined : 'skip'),
    filter: (pod, node) => (pod.nodeName && pod.nodeName !== node.name ? FAIL : null),
  };
}
