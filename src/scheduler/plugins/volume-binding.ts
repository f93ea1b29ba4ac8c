/**
 * VolumeBinding (lite) — why: a pod using a claim bound to a local PersistentVolume can only run
 * where the PV's nodeAffinity allows. Claims are resolved by the scheduler before the pipeline
 * (PodInfo.claims); unbound claims are skipped (no delayed binding or provisioning here).
 */
import { failure, type Plugin } from '../framework.ts';
import { termsMatch } from '../node-selector.ts';

export const NAME = 'VolumeBinding';
/** volumebinding.ErrReasonNodeConflict. */
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
const FAIL = failure(NAME, ERR_REASON_NODE_CONFLICT, true);

/** Rejects nodes outside a bound PV's node affinity; a missing claim rejects the pod outright. */
export function volumeBinding(): Plugin {
  return {
    name: NAME,
    preFilter(pod) {
      if (!pod.claims?.length) return 'skip';
      const missing = pod.claims.find((c) => c.missing);
      if (missing) return failure(NAME, `persistentvolumeclaim "${missing.claimName}" not found`, true);
      if (!pod.claims.some((c) => c.nodeAffinity)) return 'skip';
    },
    filter(pod, node) {
      for (const c of pod.claims ?? []) if (c.nodeAffinity && !termsMatch(c.nodeAffinity, node)) return FAIL;
      return null;
    },
  };
}
