import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fitErrorMessage } from './fit-error.ts';
import { Pipeline } from './pipeline.ts';
import { podInfoOf } from './pod-info.ts';
import { makeNode, makePod, snapshotOf } from './cluster.fixture.ts';

test('FailedScheduling message: reasons counted across nodes, sorted, with the preemption note', () => {
  const unreachable = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' };
  const snap = snapshotOf([makeNode('a', { cpu: '2' }), makeNode('b', { taints: [unreachable] }), makeNode('c', { taints: [unreachable] })]);
  const pod = podInfoOf(makePod('p', { requests: { cpu: '3' } }));
  const r = new Pipeline().schedule(pod, snap);
  assert.equal(r.node, undefined);
  assert.equal(fitErrorMessage(r.diagnosis!, pod),
    '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }. '
    + 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
});

test('FailedScheduling message: resolvable failures, preemptionPolicy Never, no nodes', () => {
  const snap = snapshotOf([makeNode('a', { cpu: '2' })], [[makePod('x', { requests: { cpu: '1500m' } }), 'a']]);
  const pod = podInfoOf(makePod('p', { requests: { cpu: '1' } }));
  const d = new Pipeline().schedule(pod, snap).diagnosis!;
  assert.equal(fitErrorMessage(d, pod), '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
  const never = podInfoOf(makePod('n', { requests: { cpu: '1' }, spec: { preemptionPolicy: 'Never' } }));
  assert.equal(fitErrorMessage(d, never), '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');
  assert.equal(fitErrorMessage(new Pipeline().schedule(pod, snapshotOf([])).diagnosis!, pod), 'no nodes available to schedule pods');
});
