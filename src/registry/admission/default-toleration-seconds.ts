/**
 * DefaultTolerationSeconds admission (plugin/pkg/admission/defaulttolerationseconds): a pod created
 * without a toleration for `node.kubernetes.io/not-ready` or `node.kubernetes.io/unreachable`
 * (NoExecute) gets one with `tolerationSeconds`, so that when its node is lost the node lifecycle
 * controller evicts it after that long — and its ReplicaSet replaces it elsewhere.
 *
 * Kubernetes defaults both to 300 s (kube-apiserver's --default-not-ready-toleration-seconds and
 * --default-unreachable-toleration-seconds). Berth defaults to 30 s: with a node declared lost after
 * 10 s, a pod of a lost node runs again elsewhere in well under a minute. Pods that tolerate the
 * taint themselves (any toleration of the key, or a key-less Exists) are left as they are.
 */
import type { AdmissionPlugin } from './admission.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE } from '../../apis/well-known.ts';

/** Berth's default for both taints (Kubernetes: 300). */
export const DEFAULT_TOLERATION_SECONDS = 30;

export interface DefaultTolerationSecondsOptions {
  /** tolerationSeconds added for node.kubernetes.io/not-ready (default 30). */
  notReadySeconds?: number;
  /** tolerationSeconds added for node.kubernetes.io/unreachable (default 30). */
  unreachableSeconds?: number;
}

type Toleration = { key?: string; operator?: string; effect?: string; tolerationSeconds?: number };

/** Adds the default tolerations the pod spec lacks (upstream's rule: a toleration of the key, or a key-less Exists, with effect NoExecute or none). */
export function addDefaultTolerations(spec: { tolerations?: Toleration[] }, opts: DefaultTolerationSecondsOptions = {}): void {
  const tols: Toleration[] = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  const tolerates = (key: string) => tols.some((t) => (t?.key === key || (!t?.key && t?.operator === 'Exists')) && (!t.effect || t.effect === 'NoExecute'));
  const add: Toleration[] = [];
  for (const [key, seconds] of [[TAINT_NOT_READY, opts.notReadySeconds], [TAINT_UNREACHABLE, opts.unreachableSeconds]] as const) {
    if (!tolerates(key)) add.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds ?? DEFAULT_TOLERATION_SECONDS });
  }
  if (add.length) spec.tolerations = [...tols, ...add];
}

/** The plugin: pod creates only (upstream ignores updates and subresources). */
export function defaultTolerationSecondsAdmission(opts: DefaultTolerationSecondsOptions = {}): AdmissionPlugin {
  for (const [flag, v] of [['not-ready', opts.notReadySeconds], ['unreachable', opts.unreachableSeconds]] as const) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0)) throw new Error(`--default-${flag}-toleration-seconds must be a whole number of seconds ≥ 0, got ${v}`);
  }
  return {
    name: 'DefaultTolerationSeconds',
    admit(req) {
      if (req.operation !== 'CREATE' || req.subresource || req.resource.group !== '' || req.resource.plural !== 'pods' || !req.object) return;
      req.object.spec ??= {};
      addDefaultTolerations(req.object.spec, opts);
    },
  };
}
