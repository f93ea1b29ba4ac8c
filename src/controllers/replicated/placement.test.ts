import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { STORAGE_NODE_LABEL } from '../../apis/volumes/replicated.ts';
import { placeReplicas, unfitReason, ZONE_LABEL } from './placement.ts';

const node = (name: string, o: { zone?: string; ready?: boolean; storage?: boolean; cordoned?: boolean } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Node',
  metadata: { name, labels: { ...(o.storage === false ? {} : { [STORAGE_NODE_LABEL]: 'true' }), ...(o.zone ? { [ZONE_LABEL]: o.zone } : {}) } },
  spec: { unschedulable: o.cordoned },
  status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'Unknown' : 'True' }] },
});
const names = (l?: KubeObject[]) => l?.map((n) => n.metadata.name);

test('only Ready, uncordoned, labelled storage nodes take replicas', () => {
  assert.equal(unfitReason(node('a')), undefined);
  assert.equal(unfitReason(node('a', { ready: false })), 'not Ready');
  assert.equal(unfitReason(node('a', { storage: false })), 'not a storage node');
  assert.equal(unfitReason(node('a', { cordoned: true })), 'cordoned');
  assert.equal(placeReplicas([node('a'), node('b'), node('c', { ready: false })], 3, () => 0), undefined);
});

test('the least loaded nodes first, ties by name', () => {
  const load: Record<string, number> = { a: 2, b: 0, c: 1, d: 0 };
  assert.deepEqual(names(placeReplicas([node('a'), node('b'), node('c'), node('d')], 3, (n) => load[n])), ['b', 'd', 'c']);
});

test('no two replicas in one zone while another zone is free', () => {
  const nodes = [node('a1', { zone: 'a' }), node('a2', { zone: 'a' }), node('a3', { zone: 'a' }), node('b1', { zone: 'b' }), node('c1', { zone: 'c' })];
  assert.deepEqual(names(placeReplicas(nodes, 3, () => 0)), ['a1', 'b1', 'c1']);
  // Two zones: the third replica shares one.
  assert.deepEqual(names(placeReplicas(nodes.slice(0, 4), 3, () => 0)), ['a1', 'b1', 'a2']);
});
