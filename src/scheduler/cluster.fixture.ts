/**
 * Hand-made nodes, pods and snapshots for the scheduler's tests and benchmark (no API involved).
 */
import type { KubeObject } from '../apis/object.ts';
import type { CycleState, Failure, Plugin } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import { podInfoOf, type PodInfo } from './pod-info.ts';
import { Snapshot } from './snapshot.ts';

/** Options for a test node. */
export interface TestNode {
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  taints?: { key: string; value?: string; effect: string }[];
  unschedulable?: boolean;
  extra?: Record<string, string>;
}

/** A Node object with allocatable, labels (incl. kubernetes.io/hostname), taints and Ready=True. */
export function makeNode(name: string, o: TestNode = {}): KubeObject {
  const allocatable = { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi', pods: String(o.pods ?? 110), 'ephemeral-storage': '100Gi', ...o.extra };
  return {
    apiVersion: 'v1', kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { ...(o.taints ? { taints: o.taints } : {}), ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: { allocatable, capacity: allocatable, conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

/** A Pod object; `spec` is merged over one container requesting `requests`. */
export function makePod(name: string, o: { namespace?: string; labels?: Record<string, string>; requests?: Record<string, string>; spec?: Record<string, any> } = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: o.namespace ?? 'default', uid: `uid-${name}`, labels: o.labels ?? {} },
    spec: {
      containers: [{ name: 'c', image: 'busybox', resources: { requests: o.requests ?? {} } }],
      schedulerName: 'default-scheduler', priority: 0,
      ...o.spec,
    },
    status: { phase: 'Pending' },
  };
}

/** A snapshot of the nodes, with pods placed as `[pod, nodeName]`. */
export function snapshotOf(nodes: KubeObject[], placed: [KubeObject, string][] = []): Snapshot {
  const snap = new Snapshot();
  for (const n of nodes) snap.setNode(n);
  for (const [p, n] of placed) snap.addPod(podInfoOf(p), n);
  return snap;
}

/** Runs a plugin's preFilter and filter for every node: node name → failure reasons ('' = fits). */
export function runFilter(plugin: Plugin, pod: PodInfo, snap: Snapshot): Record<string, string> {
  const state: CycleState = new Map();
  const pre = plugin.preFilter?.(pod, snap, state);
  const out: Record<string, string> = {};
  for (const node of snap.nodes) {
    if (pre === 'skip') out[node.name] = '';
    else if (pre) out[node.name] = (pre as Failure).reasons.join('; ');
    else out[node.name] = plugin.filter?.(pod, node, state)?.reasons.join('; ') ?? '';
  }
  return out;
}

/** Runs a plugin's preScore, score and normalize over every node: node name → score. */
export function runScore(plugin: Plugin, pod: PodInfo, snap: Snapshot, nodes: NodeInfo[] = snap.nodes): Record<string, number> {
  const state: CycleState = new Map();
  if (plugin.preScore?.(pod, nodes, snap, state) === 'skip') return Object.fromEntries(nodes.map((n) => [n.name, 0]));
  const scores = new Float64Array(nodes.length);
  nodes.forEach((n, i) => (scores[i] = plugin.score!(pod, n, state)));
  plugin.normalize?.(scores, nodes.length, state);
  return Object.fromEntries(nodes.map((n, i) => [n.name, scores[i]]));
}
