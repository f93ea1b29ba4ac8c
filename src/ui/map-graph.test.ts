import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildMap, type MapInput } from './map-model.ts';
import { newMapGraph, syncGraph } from './map-graph.ts';

const input = (connections: MapInput['connections']): MapInput => ({
  nodes: [{ metadata: { name: 'n1' } }],
  replicasets: [],
  pods: [
    { metadata: { name: 'client', namespace: 'web', labels: { app: 'client' } }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } },
    { metadata: { name: 'server', namespace: 'web', labels: { app: 'server' } }, spec: { nodeName: 'n1' }, status: { phase: 'Running' } },
  ],
  services: [{ metadata: { name: 'backend', namespace: 'web' }, spec: { selector: { app: 'server' } } }],
  connections,
});
const viaBackend: MapInput['connections'] = [{ from: { kind: 'Pod', namespace: 'web', name: 'client' }, via: { kind: 'Service', namespace: 'web', name: 'backend', port: 80 }, to: { kind: 'Pod', namespace: 'web', name: 'server' }, port: 8080, proto: 'tcp', open: 1, connectionsPerSecond: 1 }];

test('traffic through a Service runs beside its selects edge to the same pod; the graph follows the map as connections come and go', () => {
  const g = newMapGraph();
  assert.equal(syncGraph(g, buildMap(input([]), 'none')), true);
  const quiet = g.size;
  // The Service → pod traffic edge has the same ends as the selects edge: both are kept.
  assert.equal(syncGraph(g, buildMap(input(viaBackend), 'none')), true);
  assert.equal(g.size, quiet + 2);
  assert.deepEqual(g.edges('svc:web/backend', 'pod:web/server').map((e) => g.getEdgeAttribute(e, 'kind')).sort(), ['selects', 'traffic']);
  // Same map again: nothing structural; a rate change only rewrites the edge's attributes.
  assert.equal(syncGraph(g, buildMap(input(viaBackend), 'none')), false);
  const faster = [{ ...viaBackend[0]!, connectionsPerSecond: 8 }];
  assert.equal(syncGraph(g, buildMap(input(faster), 'none')), false);
  // The client goes: its traffic edges go, the Service's selects edge stays.
  assert.equal(syncGraph(g, buildMap({ ...input([]), pods: input([]).pods.slice(1) }, 'none')), true);
  assert.deepEqual(g.edges('svc:web/backend', 'pod:web/server').map((e) => g.getEdgeAttribute(e, 'kind')), ['selects']);
  assert.equal(g.hasNode('pod:web/client'), false);
});
