import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runFilter, runScore, snapshotOf } from '../cluster.fixture.ts';
import { ERR_REASON, nodeAffinity } from './node-affinity.ts';

const snap = snapshotOf([
  makeNode('a', { labels: { disk: 'ssd', rack: '3' } }),
  makeNode('b', { labels: { disk: 'hdd', rack: '7' } }),
  makeNode('c'),
]);

test('NodeAffinity: nodeSelector', () => {
  const p = podInfoOf(makePod('p', { spec: { nodeSelector: { disk: 'ssd' } } }));
  assert.deepEqual(runFilter(nodeAffinity(), p, snap), { a: '', b: ERR_REASON, c: ERR_REASON });
});

test('NodeAffinity: required terms are ORed; expressions Gt/NotIn; matchFields metadata.name', () => {
  const p = podInfoOf(makePod('p', { spec: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
    { matchExpressions: [{ key: 'rack', operator: 'Gt', values: ['5'] }, { key: 'disk', operator: 'NotIn', values: ['ssd'] }] },
    { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['c'] }] },
  ] } } } } }));
  assert.deepEqual(runFilter(nodeAffinity(), p, snap), { a: ERR_REASON, b: '', c: '' });
});

test('NodeAffinity: preferred terms score by weight', () => {
  const p = podInfoOf(makePod('p', { spec: { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
    { weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
    { weight: 5, preference: { matchExpressions: [{ key: 'rack', operator: 'Exists' }] } },
  ] } } } }));
  assert.deepEqual(runScore(nodeAffinity(), p, snap), { a: 100, b: 33, c: 0 });
});
