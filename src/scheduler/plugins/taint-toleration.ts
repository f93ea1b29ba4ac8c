/** TaintToleration — why: NoSchedule/NoExecute taints repel pods that do not tolerate them; PreferNoSchedule only lowers the score. */
import { defaultNormalize, failure, type Plugin } from '../framework.ts';
import { anyTolerates, firstUntolerated } from '../taints.ts';

export const NAME = 'TaintToleration';
const HARD = ['NoSchedule', 'NoExecute'];

/** The reason Kubernetes prints for the first untolerated taint: `node(s) had untolerated taint {key: value}`. */
export function errReason(key: string, value: string | undefined): string {
  return `node(s) had untolerated taint {${key}: ${value ?? ''}}`;
}

/** Filter on hard taints, score by the number of untolerated PreferNoSchedule taints (fewer is better). */
export function taintToleration(): Plugin {
  const cache = new Map<string, ReturnType<typeof failure>>();
  return {
    name: NAME,
    filter(pod, node) {
      if (node.taints.length === 0) return null;
      const t = firstUntolerated(node.taints, pod.tolerations, HARD);
      if (!t) return null;
      const reason = errReason(t.key, t.value);
      let f = cache.get(reason);
      if (!f) {
        if (cache.size > 1000) cache.clear();
        cache.set(reason, (f = failure(NAME, reason, true)));
      }
      return f;
    },
    score(pod, node) {
      let n = 0;
      for (const t of node.taints) if (t.effect === 'PreferNoSchedule' && !anyTolerates(pod.tolerations, t)) n++;
      return n;
    },
    normalize: (scores, count) => defaultNormalize(scores, count, true),
  };
}
