import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { STORAGE_NODE_LABEL } from '../../apis/volumes/replicated.ts';
import { probeTargets, settledForMs, trackConnections } from './pool-membership.ts';

const node = (name: string, ip: string, o: { ready?: boolean; storage?: boolean } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name, labels: o.storage === false ? {} : { [STORAGE_NODE_LABEL]: 'true' } },
  status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: o.ready === false ? 'Unknown' : 'True' }] },
});
const nodes = [node('b', '10.0.0.2'), node('a', '10.0.0.1'), node('c', '10.0.0.3'), node('d', '10.0.0.4', { ready: false }), node('e', '10.0.0.5', { storage: false })];

test('the first Ready storage node by name seeds the pool; a lonely other node waits to be probed', () => {
  assert.deepEqual(probeTargets('a', nodes, []), ['10.0.0.2', '10.0.0.3']);
  assert.deepEqual(probeTargets('b', nodes, []), []);
});

test('a pool member probes the Ready storage nodes not yet in it, and nothing twice', () => {
  assert.deepEqual(probeTargets('b', nodes, ['10.0.0.1']), ['10.0.0.3']);
  assert.deepEqual(probeTargets('b', nodes, ['10.0.0.1', '10.0.0.3']), []);
});

test('the pool is settled since its last member (re)joined; one that dropped out and came back counts anew', () => {
  const since = new Map<string, number>();
  const up = (...a: number[]) => [1, 2, 3].map((n) => ({ address: `10.0.0.${n}`, connected: a.includes(n) }));
  assert.equal(settledForMs(since, 0), Infinity);
  trackConnections(since, up(1, 2, 3), 1000);
  assert.equal(settledForMs(since, 21_000), 20_000);
  trackConnections(since, up(1, 3), 22_000);
  assert.equal(settledForMs(since, 23_000), 22_000, 'a member leaving does not unsettle it');
  trackConnections(since, up(1, 2, 3), 30_000);
  assert.equal(settledForMs(since, 31_000), 1000);
});
