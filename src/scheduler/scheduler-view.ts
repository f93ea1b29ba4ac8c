/**
 * What the scheduler keeps of a pod and of a node: its informers' transform (client-go's
 * SetTransform) when it has a factory of its own — on its thread, a copy of every pod and node in a
 * heap of its own. kube-scheduler trims only managedFields (TransformStripManagedFields); Berth's
 * scheduler keeps just the fields it reads: a pod of bench scale (Running, as berth sim reports it)
 * takes 1.0 KB of heap instead of 4.1 KB trimmed of managedFields, a simulated node 0.5 KB instead of
 * 2.5 KB (V8, 20,000 decoded copies; scheduler-view.test.ts checks the ratio on their JSON).
 *
 * Kept of a pod: apiVersion, kind; metadata name, namespace, uid, resourceVersion, labels,
 * deletionTimestamp (events name the object by these; PodTopologySpread and preemption read the
 * rest); the spec but for what only the kubelet reads — containers as name, resources, restartPolicy
 * (init sidecars) and host ports; volumes that are claims (persistentVolumeClaim, ephemeral) — so
 * nodeName, nodeSelector, affinity, tolerations, topologySpreadConstraints, priority,
 * preemptionPolicy, schedulerName, schedulingGates, overhead and pod-level resources stay as they
 * are; of the status phase, nominatedNodeName, startTime and the PodScheduled and DisruptionTarget
 * conditions. Of a node: name, uid, resourceVersion, labels, deletionTimestamp; spec taints and
 * unschedulable; status capacity and allocatable.
 *
 * Strings longer than 10 characters are interned (V8's JSON parser already shares shorter values):
 * the same toleration key, schedulerName or timestamp in 30,000 pods is then one string, not 30,000.
 * The table is bounded and starts again when full, so unique strings cannot grow it without limit.
 */
import type { KubeObject } from '../apis/object.ts';
import type { ResourceRef } from '../client/client.ts';
import type { Transform } from '../client/informer.ts';

const INTERN_MAX = 65_536;
let interned = new Map<string, string>();

/** One string per contents for the repeated values of cached pods and nodes (see the file comment). */
export function intern(s: string): string {
  if (s.length <= 10) return s;
  const had = interned.get(s);
  if (had !== undefined) return had;
  if (interned.size >= INTERN_MAX) interned = new Map();
  interned.set(s, s);
  return s;
}

/** A JSON value copied with its strings interned (copied, so nothing of the decoded object stays reachable). */
function copy(v: unknown): any {
  if (typeof v === 'string') return intern(v);
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(copy);
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = copy((v as Record<string, unknown>)[k]);
  return out;
}

/** Sets `out[k]` to a copy of `from[k]` when it is there. */
function keep(out: Record<string, unknown>, from: Record<string, any>, keys: readonly string[]): void {
  for (const k of keys) if (from[k] !== undefined) out[k] = copy(from[k]);
}

/** Spec fields only the kubelet (or nobody at scheduling time) reads. */
const POD_SPEC_DROPPED = new Set([
  'containers', 'initContainers', 'ephemeralContainers', 'volumes', // kept in part, below
  'serviceAccount', 'serviceAccountName', 'automountServiceAccountToken', 'securityContext', 'dnsPolicy', 'dnsConfig',
  'enableServiceLinks', 'terminationGracePeriodSeconds', 'activeDeadlineSeconds', 'restartPolicy', 'hostAliases',
  'imagePullSecrets', 'readinessGates', 'hostname', 'subdomain', 'setHostnameAsFQDN', 'shareProcessNamespace',
]);
const SCHEDULING_CONDITIONS = new Set(['PodScheduled', 'DisruptionTarget']);

function containerView(c: any): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (c === null || typeof c !== 'object') return out;
  keep(out, c, ['name', 'resources', 'restartPolicy']);
  const hostPorts = Array.isArray(c.ports) ? c.ports.filter((p: any) => Number(p?.hostPort ?? 0) > 0) : [];
  if (hostPorts.length) out.ports = copy(hostPorts);
  return out;
}

/** The scheduler's view of a pod (see the file comment). */
export function schedulerPodView(pod: KubeObject): KubeObject {
  const m = pod.metadata ?? {};
  const metadata: Record<string, unknown> = {};
  // Unique per pod: not worth a table entry.
  for (const k of ['name', 'uid', 'resourceVersion'] as const) if (m[k] !== undefined) metadata[k] = m[k];
  keep(metadata, m, ['namespace', 'labels', 'deletionTimestamp']);
  const spec: Record<string, unknown> = {};
  const s = (pod.spec ?? {}) as Record<string, any>;
  for (const k of Object.keys(s)) if (!POD_SPEC_DROPPED.has(k)) spec[k] = copy(s[k]);
  for (const k of ['initContainers', 'containers'] as const) if (Array.isArray(s[k])) spec[k] = s[k].map(containerView);
  if (Array.isArray(s.volumes)) {
    const claims = s.volumes.filter((v: any) => v?.persistentVolumeClaim || v?.ephemeral);
    if (claims.length) spec.volumes = copy(claims);
  }
  const status: Record<string, unknown> = {};
  const st = (pod.status ?? {}) as Record<string, any>;
  keep(status, st, ['phase', 'nominatedNodeName', 'startTime']);
  if (Array.isArray(st.conditions)) {
    const conds = st.conditions.filter((c: any) => SCHEDULING_CONDITIONS.has(c?.type));
    if (conds.length) status.conditions = copy(conds);
  }
  return { apiVersion: pod.apiVersion, kind: pod.kind, metadata, spec, status } as KubeObject;
}

/** The scheduler's view of a node (see the file comment). */
export function schedulerNodeView(node: KubeObject): KubeObject {
  const m = node.metadata ?? {};
  const metadata: Record<string, unknown> = {};
  for (const k of ['name', 'uid', 'resourceVersion'] as const) if (m[k] !== undefined) metadata[k] = m[k];
  keep(metadata, m, ['labels', 'deletionTimestamp']);
  const spec: Record<string, unknown> = {};
  keep(spec, (node.spec ?? {}) as Record<string, any>, ['taints', 'unschedulable']);
  const status: Record<string, unknown> = {};
  keep(status, (node.status ?? {}) as Record<string, any>, ['capacity', 'allocatable']);
  return { apiVersion: node.apiVersion, kind: node.kind, metadata, spec, status } as KubeObject;
}

/** The scheduler's informer transforms: pods and nodes as above, other resources trimmed of managedFields only. */
export function schedulerTransform(ref: ResourceRef): Transform | undefined {
  if (ref.group !== '') return undefined;
  if (ref.resource === 'pods') return schedulerPodView;
  if (ref.resource === 'nodes') return schedulerNodeView;
  return undefined;
}
