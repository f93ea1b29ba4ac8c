/**
 * Which nodes a DaemonSet runs on (pkg/controller/daemon/daemon_controller.go NodeShouldRunDaemonPod,
 * util/daemonset_util.go): the tolerations Kubernetes adds to every daemon pod, the node a daemon pod
 * targets (spec.nodeName, else its `matchFields metadata.name` affinity), node selector and required
 * node affinity matching, and taints — NoSchedule/NoExecute keep a new pod off, only NoExecute evicts.
 */
import type { KubeObject } from '../../apis/object.ts';
import { untoleratedTaints, type Toleration } from '../node-lifecycle/taint-toleration.ts';
import {
  TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY, TAINT_PID_PRESSURE, TAINT_UNREACHABLE,
  TAINT_UNSCHEDULABLE,
} from '../../apis/well-known.ts';

type Rec = Record<string, any>;

/** AddOrUpdateDaemonPodTolerations: the template's tolerations plus the daemon defaults it lacks. */
export function daemonTolerations(podSpec: Rec | undefined): Toleration[] {
  const tols: Toleration[] = [...(podSpec?.tolerations ?? [])];
  const add = (key: string, effect: string) => {
    if (!tols.some((t) => t.key === key && t.operator === 'Exists' && t.effect === effect && t.tolerationSeconds == null)) tols.push({ key, operator: 'Exists', effect });
  };
  add(TAINT_NOT_READY, 'NoExecute');
  add(TAINT_UNREACHABLE, 'NoExecute');
  add(TAINT_DISK_PRESSURE, 'NoSchedule');
  add(TAINT_MEMORY_PRESSURE, 'NoSchedule');
  add(TAINT_PID_PRESSURE, 'NoSchedule');
  add(TAINT_UNSCHEDULABLE, 'NoSchedule');
  if (podSpec?.hostNetwork === true) add(TAINT_NETWORK_UNAVAILABLE, 'NoSchedule');
  return tols;
}

/** The affinity a daemon pod for `nodeName` gets: the required terms replaced by `metadata.name In [node]`. */
export function daemonPodAffinity(affinity: Rec | undefined, nodeName: string): Rec {
  const a: Rec = structuredClone(affinity ?? {});
  a.nodeAffinity = {
    ...(a.nodeAffinity ?? {}),
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
    },
  };
  return a;
}

/** The node a daemon pod is for: spec.nodeName, else the `metadata.name In [x]` field affinity. */
export function targetNodeOf(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  for (const term of pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? []) {
    for (const f of term.matchFields ?? []) {
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
    }
  }
  return undefined;
}

function requirementMatches(req: Rec, value: string | undefined): boolean {
  const vals: string[] = req.values ?? [];
  switch (req.operator) {
    case 'In': return value !== undefined && vals.includes(value);
    case 'NotIn': return value === undefined || !vals.includes(value);
    case 'Exists': return value !== undefined;
    case 'DoesNotExist': return value === undefined;
    case 'Gt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) > Number(vals[0]);
    case 'Lt': return value !== undefined && /^-?\d+$/.test(value) && Number(value) < Number(vals[0]);
    default: return false;
  }
}

/** A NodeSelectorTerm: all its expressions and fields match; an empty term matches nothing. */
export function nodeSelectorTermMatches(term: Rec, node: KubeObject): boolean {
  const exprs: Rec[] = term.matchExpressions ?? [];
  const fields: Rec[] = term.matchFields ?? [];
  if (exprs.length + fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  return exprs.every((r) => requirementMatches(r, labels[r.key])) && fields.every((r) => requirementMatches(r, r.key === 'metadata.name' ? node.metadata.name : undefined));
}

/** nodeSelector (all labels equal) and required node affinity (any term) both match. */
export function nodeMatchesPodSpec(node: KubeObject, podSpec: Rec | undefined): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(podSpec?.nodeSelector ?? {})) if (labels[k] !== v) return false;
  const terms: Rec[] | undefined = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (terms && !terms.some((t) => nodeSelectorTermMatches(t, node))) return false;
  return true;
}

/** NodeShouldRunDaemonPod's answer. */
export interface NodeFit {
  /** A daemon pod should be created here when missing. */
  shouldRun: boolean;
  /** An existing daemon pod may stay. */
  shouldContinueRunning: boolean;
}

/** Whether a DaemonSet with pod template spec `podSpec` should run on `node`. */
export function nodeShouldRunDaemonPod(node: KubeObject, podSpec: Rec | undefined): NodeFit {
  if (podSpec?.nodeName && podSpec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!nodeMatchesPodSpec(node, podSpec)) return { shouldRun: false, shouldContinueRunning: false };
  const tols = daemonTolerations(podSpec);
  const taints = node.spec?.taints ?? [];
  if (untoleratedTaints(taints, tols, ['NoExecute']).length > 0) return { shouldRun: false, shouldContinueRunning: false };
  if (untoleratedTaints(taints, tols, ['NoSchedule']).length > 0) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}
