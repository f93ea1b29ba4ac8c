import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Obj } from './object-store.ts';
import { buildMap, type MapInput } from './map-model.ts';

const pod = (name: string, labels: Record<string, string>, extra: Partial<Obj> = {}): Obj => ({
  metadata: { name, namespace: 'web', labels, ownerReferences: [{ kind: 'ReplicaSet', name: 'server-abc', uid: 'rs', controller: true }] },
  spec: { nodeName: 'n1', volumes: [] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }, ...extra,
});

const input = (): MapInput => ({
  nodes: [{ metadata: { name: 'n1' } }],
  replicasets: [{ metadata: { name: 'server-abc', namespace: 'web', ownerReferences: [{ kind: 'Deployment', name: 'server', uid: 'd', controller: true }] } }],
  pods: [
    pod('server-1', { app: 'server' }, { spec: { nodeName: 'n1', volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] } }),
    pod('server-2', { app: 'server' }),
    { metadata: { name: 'client', namespace: 'web', labels: { app: 'client' } }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } },
    { metadata: { name: 'broken', namespace: 'web', labels: { app: 'server' } }, spec: { nodeName: 'n1' }, status: { phase: 'Pending', containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ImagePullBackOff' } } }] } },
  ],
  services: [{ metadata: { name: 'backend', namespace: 'web' }, spec: { selector: { app: 'server' } } }],
  connections: [{ from: { kind: 'Pod', namespace: 'web', name: 'client' }, via: { kind: 'Service', namespace: 'web', name: 'backend', port: 80 }, to: { kind: 'Pod', namespace: 'web', name: 'server-2' }, port: 8080, proto: 'tcp', open: 0, connectionsPerSecond: 1 }],
});

test('ungrouped: node, workload, Service, PVC and traffic edges client → service → server', () => {
  const m = buildMap(input(), 'none');
  const e = new Set(m.edges.map((x) => `${x.kind} ${x.source} ${x.target}`));
  for (const want of ['runs-on node:n1 pod:web/server-1', 'owns wl:web/Deployment/server pod:web/server-2', 'selects svc:web/backend pod:web/broken', 'mounts pod:web/server-1 pvc:web/data',
    'traffic pod:web/client svc:web/backend', 'traffic svc:web/backend pod:web/server-2']) assert.ok(e.has(want), want);
  assert.equal(m.nodes.find((n) => n.id === 'pod:web/broken')?.failing, true);
});

test('grouped by namespace: healthy pods collapse into one node, failing pods stay visible; traffic follows the group; an expanded group shows its pods', () => {
  const m = buildMap(input(), 'namespace');
  assert.deepEqual(m.nodes.filter((n) => n.kind === 'Pod').map((n) => n.id), ['pod:web/broken']);
  assert.equal(m.nodes.find((n) => n.id === 'ns:web')?.members, 3);
  const e = new Set(m.edges.map((x) => `${x.kind} ${x.source} ${x.target}`));
  assert.ok(e.has('traffic ns:web svc:web/backend') && e.has('traffic svc:web/backend ns:web'));
  const open = buildMap(input(), 'namespace', new Set(['ns:web']));
  assert.equal(open.nodes.filter((n) => n.kind === 'Pod').length, 4);
});
