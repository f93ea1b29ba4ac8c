/** NodeUnschedulable — why: a cordoned node (spec.unschedulable) takes only pods tolerating the unschedulable taint. */
import { failure, type Plugin } from '../framework.ts';
import { anyTolerates } from '../taints.ts';
import { TAINT_UNSCHEDULABLE } from '../../apis/well-known.ts';

export const NAME = 'NodeUnschedulable';
/** nodeunschedulable.ErrReasonUnschedulable. */
export const ERR_REASON = 'node(s) were unschedulable';
const FAIL = failure(NAME, ERR_REASON, true);
const TAINT = { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' };

/** Rejects cordoned nodes unless the pod tolerates `node.kubernetes.io/unschedulable:NoSchedule`. */
export function nodeUnschedulable(): Plugin {
  return {
    name: NAME,
    filter: (pod, node) => (node.unschedulable && !anyTolerates(pod.tolerations, TAINT) ? FAIL : null),
  };
}
