/** NodePorts — why: two pods cannot bind the same hostPort/protocol on one node (0.0.0.0 overlaps every address). */
import { failure, type Plugin } from '../framework.ts';

export const NAME = 'NodePorts';
/** nodeports.ErrReason. */
export const ERR_REASON = "node(s) didn't have free ports for the requested pod ports";
const FAIL = failure(NAME, ERR_REASON, false);

/** Rejects nodes where a requested host port is taken. */
export function nodePorts(): Plugin {
  return {
    name: NAME,
    preFilter: (pod) => (pod.hostPorts.length ? undefined : 'skip'),
    filter(pod, node) {
      if (node.usedPorts.size === 0) return null;
      for (const hp of pod.hostPorts) if (node.portInUse(hp)) return FAIL;
      return null;
    },
  };
}
