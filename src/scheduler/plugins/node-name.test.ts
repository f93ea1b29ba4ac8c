import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runFilter, snapshotOf } from '../cluster.fixture.ts';
import { ERR_REASON, nodeName } from './node-name.ts';

test('NodeName: only the named node fits; no name skips', () => {
  const snap = snapshotOf([makeNode('a'), makeNode('b')]);
  assert.deepEqual(runFilter(nodeName(), podInfoOf(makePod('p', { spec: { nodeName: 'b' } })), snap), { a: ERR_REASON, b: '' });
  assert.deepEqual(runFilter(nodeName(), podInfoOf(makePod('p')), snap), { a: '', b: '' });
});
