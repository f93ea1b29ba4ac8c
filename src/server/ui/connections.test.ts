import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { aggregateConnections } from './connections.ts';

const pod = (name: string, ip: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'web' }, status: { phase: 'Running', podIP: ip } } as KubeObject);
const svc = (name: string, ip: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'web' }, spec: { clusterIP: ip } } as KubeObject);

test('client pod → Service → server pod, named; outside addresses; host-only traffic dropped', () => {
  const reports = [{
    node: 'n1',
    edges: [
      { proto: 'tcp', client: '10.42.0.5', service: '10.43.0.20:80', server: '10.42.0.9:8080', open: 0, connectionsPerSecond: 1, lastActive: 1 },
      { proto: 'tcp', client: '10.42.0.5', server: '192.0.2.7:443', open: 1, connectionsPerSecond: 0, lastActive: 1 },
      { proto: 'tcp', client: '198.18.0.2', server: '198.18.0.1:6443', open: 3, connectionsPerSecond: 0, lastActive: 1 },
    ],
  }];
  const c = aggregateConnections(reports, [pod('client', '10.42.0.5'), pod('server-1', '10.42.0.9')], [svc('backend', '10.43.0.20')]);
  assert.deepEqual(c.map((x) => [x.from, x.via, x.to, x.port]), [
    [{ kind: 'Pod', namespace: 'web', name: 'client' }, { kind: 'Service', namespace: 'web', name: 'backend', port: 80 }, { kind: 'Pod', namespace: 'web', name: 'server-1' }, 8080],
    [{ kind: 'Pod', namespace: 'web', name: 'client' }, undefined, { kind: 'Outside', ip: '192.0.2.7' }, 443],
  ]);
});

test('the node gateway (first address of its pod range) is the node', () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { podCIDR: '10.42.0.0/24' }, status: { addresses: [{ type: 'InternalIP', address: '198.18.0.2' }] } } as KubeObject;
  const c = aggregateConnections([{ node: 'n1', edges: [{ proto: 'tcp', client: '10.42.0.1', server: '10.42.0.9:8080', open: 0, connectionsPerSecond: 1, lastActive: 1 }] }], [pod('s', '10.42.0.9')], [], [node]);
  assert.deepEqual(c[0].from, { kind: 'Node', name: 'n1' });
});

test('the same connection reported by the client\'s and the server\'s node is one edge', () => {
  const e = { proto: 'tcp', client: '10.42.1.5', server: '10.42.2.9:8080', open: 1, connectionsPerSecond: 2, lastActive: 1 };
  const c = aggregateConnections([{ node: 'a', edges: [e] }, { node: 'b', edges: [{ ...e, connectionsPerSecond: 3 }] }], [pod('c', '10.42.1.5'), pod('s', '10.42.2.9')], []);
  assert.equal(c.length, 1);
  assert.deepEqual(c[0].nodes, ['a', 'b']);
  assert.equal(c[0].connectionsPerSecond, 3);
  assert.equal(c[0].open, 1);
});
