/**
 * The map's graph, apart from drawing: nodes containing pods, workloads owning pods, Services
 * selecting pods, PVCs mounted by pods, and the observed connections (client → Service → server)
 * — with pods grouped by namespace, node or workload into one collapsible node per group, except
 * failing pods, which always stay visible. Headlamp's map draws the same ownership/selector edges
 * without traffic; Weave Scope drew traffic and grouped by the same three.
 */
import type { Obj } from './object-store.ts';
import { podProblem } from './pod-reasons.ts';

export type Grouping = 'none' | 'namespace' | 'node' | 'workload';

export interface MapNode {
  id: string;
  label: string;
  kind: 'Node' | 'Pod' | 'Service' | 'Workload' | 'PVC' | 'Group' | 'Outside';
  failing?: boolean;
  /** Pods inside a collapsed group. */
  members?: number;
}

export interface MapEdge {
  id: string;
  source: string;
  target: string;
  kind: 'runs-on' | 'owns' | 'selects' | 'mounts' | 'traffic';
  /** Connections per second, for traffic. */
  rate?: number;
}

/** An endpoint of /ui/connections (src/server/ui/connections.ts). */
export type Endpoint = { kind: 'Pod' | 'Service'; namespace: string; name: string } | { kind: 'Outside'; ip: string } | { kind: 'Node'; name: string };
export interface Connection { from: Endpoint; via?: Endpoint & { port: number }; to: Endpoint; port: number; proto: string; open: number; connectionsPerSecond: number; bytesPerSecond?: number }

export interface MapInput {
  pods: readonly Obj[];
  services: readonly Obj[];
  nodes: readonly Obj[];
  replicasets: readonly Obj[];
  connections: readonly Connection[];
}

const podId = (ns: string, name: string) => `pod:${ns}/${name}`;

/** The workload owning a pod: a ReplicaSet's Deployment when it has one. */
export function workloadOf(pod: Obj, replicasets: ReadonlyMap<string, Obj>): { kind: string; name: string } | undefined {
  const ref = pod.metadata.ownerReferences?.find((r) => r.controller) ?? pod.metadata.ownerReferences?.[0];
  if (!ref) return undefined;
  if (ref.kind === 'ReplicaSet') {
    const rs = replicasets.get(`${pod.metadata.namespace}/${ref.name}`);
    const dep = rs?.metadata.ownerReferences?.find((r) => r.kind === 'Deployment');
    if (dep) return { kind: 'Deployment', name: dep.name };
  }
  return { kind: ref.kind, name: ref.name };
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

export function endpointLabel(e: Endpoint): string {
  return e.kind === 'Outside' ? e.ip : e.kind === 'Node' ? `node ${e.name}` : `${e.namespace}/${e.name}`;
}

/** The map: its nodes and edges. */
export interface MapModel { nodes: MapNode[]; edges: MapEdge[] }

export function buildMap(input: MapInput, grouping: Grouping, expanded: ReadonlySet<string> = new Set()): MapModel {
  const nodes = new Map<string, MapNode>();
  const edges = new Map<string, MapEdge>();
  const rsByKey = new Map(input.replicasets.map((r) => [`${r.metadata.namespace}/${r.metadata.name}`, r]));
  /** Where a pod is drawn: itself, or its collapsed group. */
  const placed = new Map<string, string>();
  const addEdge = (source: string, target: string, kind: MapEdge['kind'], rate?: number) => {
    if (source === target || !nodes.has(source) || !nodes.has(target)) return;
    const id = `${kind}:${source}->${target}`;
    const e = edges.get(id);
    if (e) { if (rate !== undefined) e.rate = (e.rate ?? 0) + rate; return; }
    edges.set(id, { id, source, target, kind, ...(rate !== undefined ? { rate } : {}) });
  };
  for (const n of input.nodes) nodes.set(`node:${n.metadata.name}`, { id: `node:${n.metadata.name}`, label: n.metadata.name, kind: 'Node' });
  for (const p of input.pods) {
    const ns = p.metadata.namespace ?? '';
    const failing = !!podProblem(p);
    const wl = workloadOf(p, rsByKey);
    const group = grouping === 'namespace' ? `ns:${ns}` : grouping === 'node' ? `group-node:${p.spec?.nodeName ?? '(unscheduled)'}` : grouping === 'workload' && wl ? `wl:${ns}/${wl.kind}/${wl.name}` : undefined;
    if (group && !failing && !expanded.has(group)) {
      const g = nodes.get(group) ?? { id: group, label: group.replace(/^[a-z-]+:/, ''), kind: 'Group' as const, members: 0 };
      g.members = (g.members ?? 0) + 1;
      nodes.set(group, g);
      placed.set(podId(ns, p.metadata.name), group);
      continue;
    }
    const id = podId(ns, p.metadata.name);
    nodes.set(id, { id, label: `${ns}/${p.metadata.name}`, kind: 'Pod', failing });
    placed.set(id, id);
  }
  for (const g of nodes.values()) if (g.kind === 'Group') g.label = `${g.label} (${g.members} pods)`;
  for (const p of input.pods) {
    const ns = p.metadata.namespace ?? '';
    const at = placed.get(podId(ns, p.metadata.name))!;
    if (p.spec?.nodeName && grouping !== 'node') addEdge(`node:${p.spec.nodeName}`, at, 'runs-on');
    else if (p.spec?.nodeName && at.startsWith('pod:')) addEdge(`node:${p.spec.nodeName}`, at, 'runs-on');
    const wl = workloadOf(p, rsByKey);
    if (wl && grouping !== 'workload') {
      const wid = `wl:${ns}/${wl.kind}/${wl.name}`;
      if (!nodes.has(wid)) nodes.set(wid, { id: wid, label: `${wl.kind} ${ns}/${wl.name}`, kind: 'Workload' });
      addEdge(wid, at, 'owns');
    }
    for (const v of (p.spec?.volumes ?? []) as any[]) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (!claim) continue;
      const cid = `pvc:${ns}/${claim}`;
      if (!nodes.has(cid)) nodes.set(cid, { id: cid, label: `pvc ${ns}/${claim}`, kind: 'PVC' });
      addEdge(at, cid, 'mounts');
    }
  }
  for (const s of input.services) {
    const sid = `svc:${s.metadata.namespace}/${s.metadata.name}`;
    nodes.set(sid, { id: sid, label: `svc ${s.metadata.namespace}/${s.metadata.name}`, kind: 'Service' });
    for (const p of input.pods) if (p.metadata.namespace === s.metadata.namespace && selects(s.spec?.selector, p.metadata.labels)) addEdge(sid, placed.get(podId(p.metadata.namespace ?? '', p.metadata.name))!, 'selects');
  }
  const endpointId = (e: Endpoint): string => {
    if (e.kind === 'Pod') return placed.get(podId(e.namespace, e.name)) ?? podId(e.namespace, e.name);
    if (e.kind === 'Service') return `svc:${e.namespace}/${e.name}`;
    if (e.kind === 'Node') return `node:${e.name}`;
    if (e.kind !== 'Outside') return `other:${JSON.stringify(e)}`;
    const id = `out:${e.ip}`;
    if (!nodes.has(id)) nodes.set(id, { id, label: e.ip, kind: 'Outside' });
    return id;
  };
  for (const c of input.connections) {
    const from = endpointId(c.from);
    const to = endpointId(c.to);
    if (c.via) {
      const via = endpointId(c.via);
      addEdge(from, via, 'traffic', c.connectionsPerSecond);
      addEdge(via, to, 'traffic', c.connectionsPerSecond);
    } else addEdge(from, to, 'traffic', c.connectionsPerSecond);
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}
