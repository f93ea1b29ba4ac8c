import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runFilter, snapshotOf } from '../cluster.fixture.ts';
import { ERR_REASON, nodeUnschedulable } from './node-unschedulable.ts';

test('NodeUnschedulable: cordoned node rejected unless the pod tolerates the unschedulable taint', () => {
  const snap = snapshotOf([makeNode('a', { unschedulable: true }), makeNode('b')]);
  assert.deepEqual(runFilter(nodeUnschedulable(), podInfoOf(makePod('p')), snap), { a: ERR_REASON, b: '' });
  const tolerant = makePod('t', { spec: { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } });
  assert.deepEqual(runFilter(nodeUnschedulable(), podInfoOf(tolerant), snap), { a: '', b: '' });
});
