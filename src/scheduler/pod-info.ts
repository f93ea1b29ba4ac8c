/**
 * PodInfo: what the scheduler needs from a pod, computed once when the pod is seen (requests, host
 * ports, tolerations, parsed selectors of affinity and spread terms), so the per-node hot path never
 * re-parses JSON. The raw pod is kept by reference, never cloned.
 */
import type { KubeObject } from '../apis/object.ts';
import { LabelSelector } from '../apis/selectors/label-selector.ts';
import { fromLabelSelectorSpec } from '../apis/selectors/label-selector-spec.ts';
import type { NodeSelectorTerm } from './node-selector.ts';
import { DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, podRequests, type Resources } from './resources.ts';

/** A toleration as in core/v1. */
export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/** A requested host port. */
export interface HostPort {
  protocol: string;
  port: number;
  ip: string;
}

/** A (anti-)affinity term with its selector parsed; `namespaces` null means every namespace. */
export interface AffinityTerm {
  selector: LabelSelector;
  namespaces: ReadonlySet<string> | null;
  topologyKey: string;
  weight: number;
}

/** A topology spread constraint with its selector parsed. */
export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  selector: LabelSelector;
  minDomains: number;
  /** nodeAffinityPolicy Honor (default): only nodes matching the pod's node affinity count. */
  honorNodeAffinity: boolean;
  /** nodeTaintsPolicy Honor: only nodes whose taints the pod tolerates count (default Ignore). */
  honorTaints: boolean;
}

/**
 * A PVC volume resolved by the scheduler before the pipeline runs (plugins/volume-binding): what the
 * VolumeBinding filter needs to decide per node without reading the API.
 */
export interface ResolvedClaim {
  claimName: string;
  /** The claim does not exist: the pod cannot be scheduled anywhere. */
  missing?: boolean;
  /** The claim is being deleted: no new pod may use it. */
  deleting?: boolean;
  /** Unbound, and its class binds at once (Immediate): the PV controller's business, not ours. */
  unboundImmediate?: boolean;
  /** Bound to a volume that does not exist. */
  volumeMissing?: boolean;
  /** The bound PV's `spec.nodeAffinity.required.nodeSelectorTerms`; undefined when unbound or unconstrained. */
  nodeAffinity?: NodeSelectorTerm[];
  /**
   * Unbound with a WaitForFirstConsumer class: the claim, its class, and the volumes of that class it
   * could bind (the filter picks one the node can reach, or provisioning on the node).
   */
  delayed?: { pvc: KubeObject; storageClass: KubeObject; candidates: KubeObject[] };
}

/** The scheduler's parsed view of a pod. */
export interface PodInfo {
  key: string;
  uid: string;
  namespace: string;
  name: string;
  pod: KubeObject;
  labels: Record<string, string>;
  priority: number;
  requests: Resources;
  /** cpu/memory for scoring: defaults stand in for missing requests. */
  nonZeroCPU: number;
  nonZeroMemory: number;
  hostPorts: HostPort[];
  tolerations: Toleration[];
  nodeName?: string;
  nodeSelector?: Record<string, string>;
  requiredNodeAffinity?: NodeSelectorTerm[];
  preferredNodeAffinity: { weight: number; term: NodeSelectorTerm }[];
  affinity: AffinityTerm[];
  antiAffinity: AffinityTerm[];
  preferredAffinity: AffinityTerm[];
  preferredAntiAffinity: AffinityTerm[];
  hardSpread: SpreadConstraint[];
  softSpread: SpreadConstraint[];
  claimNames: string[];
  claims?: ResolvedClaim[];
}

function arr(v: unknown): any[] {
  return Array.isArray(v) ? v : [];
}

function selectorOf(spec: unknown): LabelSelector {
  try {
    return fromLabelSelectorSpec(spec as never);
  } catch {
    return LabelSelector.nothing();
  }
}

function affinityTerm(t: any, ownNamespace: string, weight: number): AffinityTerm {
  const listed = arr(t?.namespaces).filter((n) => typeof n === 'string');
  const nsSel = t?.namespaceSelector;
  // An empty namespaceSelector means every namespace; a non-empty one is not evaluated (no namespace
  // watch) and falls back to the listed namespaces or the pod's own.
  const all = nsSel && typeof nsSel === 'object' && !arr(nsSel.matchExpressions).length && !Object.keys(nsSel.matchLabels ?? {}).length;
  return {
    selector: selectorOf(t?.labelSelector),
    namespaces: all ? null : new Set(listed.length ? listed : [ownNamespace]),
    topologyKey: String(t?.topologyKey ?? ''),
    weight,
  };
}

function spreadConstraint(c: any): SpreadConstraint {
  return {
    maxSkew: Number(c?.maxSkew ?? 1),
    topologyKey: String(c?.topologyKey ?? ''),
    selector: selectorOf(c?.labelSelector),
    minDomains: Number(c?.minDomains ?? 1),
    honorNodeAffinity: (c?.nodeAffinityPolicy ?? 'Honor') === 'Honor',
    honorTaints: c?.nodeTaintsPolicy === 'Honor',
  };
}

/** Builds the PodInfo of a pod object (kept by reference). */
export function podInfoOf(pod: KubeObject): PodInfo {
  const spec = (pod.spec ?? {}) as Record<string, any>;
  const namespace = pod.metadata.namespace ?? 'default';
  const name = pod.metadata.name ?? '';
  const requests = podRequests(spec);
  const hostPorts: HostPort[] = [];
  for (const c of [...arr(spec.initContainers), ...arr(spec.containers)]) {
    for (const p of arr(c?.ports)) {
      const port = Number(p?.hostPort ?? 0);
      if (port > 0) hostPorts.push({ protocol: p.protocol ?? 'TCP', port, ip: p.hostIP || '0.0.0.0' });
    }
  }
  const na = spec.affinity?.nodeAffinity;
  const pa = spec.affinity?.podAffinity;
  const paa = spec.affinity?.podAntiAffinity;
  const required = na?.requiredDuringSchedulingIgnoredDuringExecution;
  const spreads = arr(spec.topologySpreadConstraints).map((c) => ({ c, s: spreadConstraint(c) }));
  return {
    key: `${namespace}/${name}`,
    uid: pod.metadata.uid ?? '',
    namespace,
    name,
    pod,
    labels: pod.metadata.labels ?? {},
    priority: Number(spec.priority ?? 0),
    requests,
    nonZeroCPU: requests.milliCPU || DEFAULT_MILLI_CPU_REQUEST,
    nonZeroMemory: requests.memory || DEFAULT_MEMORY_REQUEST,
    hostPorts,
    tolerations: arr(spec.tolerations),
    nodeName: spec.nodeName || undefined,
    nodeSelector: spec.nodeSelector && Object.keys(spec.nodeSelector).length ? spec.nodeSelector : undefined,
    requiredNodeAffinity: required ? arr(required.nodeSelectorTerms) : undefined,
    preferredNodeAffinity: arr(na?.preferredDuringSchedulingIgnoredDuringExecution)
      .map((p) => ({ weight: Number(p?.weight ?? 0), term: p?.preference ?? {} })),
    affinity: arr(pa?.requiredDuringSchedulingIgnoredDuringExecution).map((t) => affinityTerm(t, namespace, 1)),
    antiAffinity: arr(paa?.requiredDuringSchedulingIgnoredDuringExecution).map((t) => affinityTerm(t, namespace, 1)),
    preferredAffinity: arr(pa?.preferredDuringSchedulingIgnoredDuringExecution)
      .map((w) => affinityTerm(w?.podAffinityTerm, namespace, Number(w?.weight ?? 0))),
    preferredAntiAffinity: arr(paa?.preferredDuringSchedulingIgnoredDuringExecution)
      .map((w) => affinityTerm(w?.podAffinityTerm, namespace, Number(w?.weight ?? 0))),
    hardSpread: spreads.filter((x) => (x.c?.whenUnsatisfiable ?? 'DoNotSchedule') === 'DoNotSchedule').map((x) => x.s),
    softSpread: spreads.filter((x) => x.c?.whenUnsatisfiable === 'ScheduleAnyway').map((x) => x.s),
    claimNames: arr(spec.volumes).map((v) => v?.persistentVolumeClaim?.claimName).filter((n): n is string => typeof n === 'string'),
  };
}

/** Whether an affinity term selects the pod `other` (namespace and labels). */
export function termSelects(term: AffinityTerm, other: PodInfo): boolean {
  if (term.namespaces && !term.namespaces.has(other.namespace)) return false;
  return term.selector.matches(other.labels);
}
