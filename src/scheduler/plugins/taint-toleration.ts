/** TaintToleration — why: NoSchedule/NoExecute taints repel pods that do not tolerate them; PreferNoSchedule only lowers the score. */
import { defaultNormalize, failure, type Failure, type Plugin } from '../framework.ts';
import { anyTolerates, firstHardUntolerated } from '../taints.ts';

export const NAME = 'TaintToleration';

/** The reason Kubernetes prints for the first untolerated taint: `node(s) had untolerated taint {key: value}`. */
export function errReason(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ''}}`;
}

/** Filter on hard taints, score by the number of untolerated PreferNoSchedule taints (fewer is better). */
export function taintToleration(): Plugin {
  // The failure of an untolerated taint: kept on the node for that taint object (a node keeps its
  // taint objects until it changes), so a tainted node costs a field read per pod instead of its
  // reason formatted and hashed again — while a fleet is tainted (a release, a drain) every pod meets
  // every node's taint: that formatting was 45 % of the scheduler thread's busy time in bench sched's
  // binding window, a WeakMap by taint still ~40 % of the filter's. One failure per reason.
  const byReason = new Map<string, Failure>();
  return {
    name: NAME,
    filter(pod, node) {
      if (node.taints.length === 0) return null;
      const t = firstHardUntolerated(node.taints, pod.tolerations);
      if (!t) return null;
      if (node.untoleratedTaint === t) return node.untoleratedFailure!;
      const reason = errReason(t.key, t.value);
      let f = byReason.get(reason);
      if (!f) {
        if (byReason.size > 1000) byReason.clear();
        byReason.set(reason, (f = failure(NAME, reason, true)));
      }
      node.untoleratedTaint = t;
      node.untoleratedFailure = f;
      return f;
    },
    // Without a PreferNoSchedule taint on any feasible node every node scores the same (0, normalized
    // to 100): the plugin would add one constant to every total, which changes no ranking — skipped,
    // as most fleets have no such taint.
    preScore(_pod, feasible) {
      for (const node of feasible) {
        if (node.taints.length === 0) continue;
        for (const t of node.taints) if (t.effect === 'PreferNoSchedule') return undefined;
      }
      return 'skip';
    },
    score(pod, node) {
      let n = 0;
      for (const t of node.taints) if (t.effect === 'PreferNoSchedule' && !anyTolerates(pod.tolerations, t)) n++;
      return n;
    },
    normalize: (scores, count) => defaultNormalize(scores, count, true),
  };
}
