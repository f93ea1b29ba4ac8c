import assert from 'node:assert/strict';
import { test } from 'node:test';
import { numFeasibleNodesToFind, Pipeline } from './pipeline.ts';
import { podInfoOf } from './pod-info.ts';
import { makeNode, makePod, snapshotOf } from './cluster.fixture.ts';

test('numFeasibleNodesToFind: all below 100 nodes, adaptive percentage above', () => {
  assert.equal(numFeasibleNodesToFind(50), 50);
  assert.equal(numFeasibleNodesToFind(1000), 420);
  assert.equal(numFeasibleNodesToFind(5000), 500);
  assert.equal(numFeasibleNodesToFind(200), 100);
  assert.equal(numFeasibleNodesToFind(1000, 100), 1000);
  assert.equal(numFeasibleNodesToFind(1000, 20), 200);
});

test('pipeline: filters then scores; assumed pods are seen by the next pod', () => {
  const snap = snapshotOf([makeNode('small', { cpu: '1' }), makeNode('big', { cpu: '8' }), makeNode('tainted', { cpu: '64', taints: [{ key: 'x', effect: 'NoSchedule' }] })]);
  const pipeline = new Pipeline();
  const placed: string[] = [];
  for (let i = 0; i < 4; i++) {
    const p = podInfoOf(makePod(`p${i}`, { requests: { cpu: '2' } }));
    const r = pipeline.schedule(p, snap);
    if (r.node) { snap.addPod(p, r.node.name); placed.push(r.node.name); }
  }
  assert.deepEqual(placed, ['big', 'big', 'big', 'big']);
  const r = pipeline.schedule(podInfoOf(makePod('p5', { requests: { cpu: '2' } })), snap);
  assert.equal(r.node, undefined);
  assert.deepEqual([...r.diagnosis!.reasons].sort(), [['Insufficient cpu', 2], ['node(s) had untolerated taint {x: }', 1]]);
});

test('pipeline: LeastAllocated spreads equal pods over equal nodes', () => {
  const snap = snapshotOf(['a', 'b', 'c'].map((n) => makeNode(n)));
  const pipeline = new Pipeline();
  for (let i = 0; i < 6; i++) {
    const p = podInfoOf(makePod(`p${i}`, { requests: { cpu: '500m', memory: '512Mi' } }));
    snap.addPod(p, pipeline.schedule(p, snap).node!.name);
  }
  assert.deepEqual(snap.nodes.map((n) => n.pods.size), [2, 2, 2]);
});

test('pipeline: the nodes preemption might help are those with a resolvable failure, in snapshot order, wherever the round-robin started', () => {
  const snap = snapshotOf([
    makeNode('full-0', { cpu: '1' }), makeNode('tainted-1', { cpu: '8', taints: [{ key: 'x', effect: 'NoSchedule' }] }),
    makeNode('full-2', { cpu: '1' }), makeNode('too-small-3', { cpu: '500m' }), makeNode('full-4', { cpu: '1' }),
  ], ['full-0', 'full-2', 'full-4'].map((n, i): [ReturnType<typeof makePod>, string] => [makePod(`busy-${i}`, { requests: { cpu: '1' } }), n]));
  const pipeline = new Pipeline();
  for (let round = 0; round < 5; round++) {
    // Below 100 nodes a cycle visits every node, so the next starts where this one did: start each elsewhere.
    (pipeline as unknown as { nextStart: number }).nextStart = round;
    const r = pipeline.schedule(podInfoOf(makePod(`p${round}`, { requests: { cpu: '1' } })), snap);
    assert.equal(r.node, undefined);
    // Insufficient cpu where pods take the room (resolvable); the taint and a request above allocatable are not.
    assert.deepEqual(r.diagnosis!.potential.map((n) => n.name), ['full-0', 'full-2', 'full-4']);
    assert.equal(r.diagnosis!.resolvable, 3);
    assert.equal(r.diagnosis!.unresolvable, 2);
  }
});
