import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runFilter, runScore, snapshotOf } from '../cluster.fixture.ts';
import { nodeResourcesFit, shortfalls } from './node-resources-fit.ts';

test('NodeResourcesFit filter: cpu, memory, pods count and extended resources', () => {
  const snap = snapshotOf([
    makeNode('small', { cpu: '1', memory: '1Gi' }),
    makeNode('full', { cpu: '8', memory: '16Gi', pods: 1 }),
    makeNode('big', { cpu: '8', memory: '16Gi', extra: { 'example.com/gpu': '2' } }),
  ], [[makePod('x', { requests: { cpu: '500m' } }), 'small'], [makePod('y'), 'full']]);
  const p = podInfoOf(makePod('p', { requests: { cpu: '600m', memory: '2Gi' } }));
  assert.deepEqual(runFilter(nodeResourcesFit(), p, snap), { small: 'Insufficient cpu; Insufficient memory', full: 'Too many pods', big: '' });
  const gpu = podInfoOf(makePod('g', { requests: { 'example.com/gpu': '1' } }));
  assert.deepEqual(runFilter(nodeResourcesFit(), gpu, snap), { small: 'Insufficient example.com/gpu', full: 'Too many pods; Insufficient example.com/gpu', big: '' });
});

test('NodeResourcesFit counts max(sum of containers, largest init container) + overhead; unresolvable past allocatable', () => {
  const p = podInfoOf(makePod('p', { spec: {
    containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }, { name: 'b', resources: { requests: { cpu: '1' } } }],
    initContainers: [{ name: 'i', resources: { requests: { cpu: '3' } } }],
    overhead: { cpu: '250m' },
  } }));
  assert.equal(p.requests.milliCPU, 3250);
  const snap = snapshotOf([makeNode('n', { cpu: '3' })]);
  assert.deepEqual(shortfalls(p, snap.nodes[0]), [{ reason: 'Insufficient cpu', unresolvable: true }]);
});

test('NodeResourcesFit score: LeastAllocated prefers the emptier node, MostAllocated the fuller', () => {
  const snap = snapshotOf([makeNode('empty'), makeNode('busy')], [[makePod('x', { requests: { cpu: '3', memory: '6Gi' } }), 'busy']]);
  const p = podInfoOf(makePod('p', { requests: { cpu: '1', memory: '2Gi' } }));
  const least = runScore(nodeResourcesFit(), p, snap);
  assert.ok(least.empty > least.busy, JSON.stringify(least));
  assert.equal(least.busy, 0);
  const most = runScore(nodeResourcesFit({ scoringStrategy: 'MostAllocated' }), p, snap);
  assert.ok(most.busy > most.empty, JSON.stringify(most));
});
