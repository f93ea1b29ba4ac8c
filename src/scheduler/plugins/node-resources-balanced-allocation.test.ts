import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runScore, snapshotOf } from '../cluster.fixture.ts';
import { nodeResourcesBalancedAllocation } from './node-resources-balanced-allocation.ts';

test('BalancedAllocation: the node whose cpu and memory fractions end up equal scores 100', () => {
  const snap = snapshotOf([makeNode('cpuheavy', { cpu: '4', memory: '4Gi' }), makeNode('even', { cpu: '4', memory: '4Gi' })],
    [[makePod('x', { requests: { cpu: '2' } }), 'cpuheavy'], [makePod('y', { requests: { cpu: '1', memory: '1Gi' } }), 'even']]);
  const s = runScore(nodeResourcesBalancedAllocation(), podInfoOf(makePod('p', { requests: { cpu: '1', memory: '1Gi' } })), snap);
  assert.equal(s.even, 100);
  assert.equal(s.cpuheavy, 75);
});
