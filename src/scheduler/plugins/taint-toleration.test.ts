import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runFilter, runScore, snapshotOf } from '../cluster.fixture.ts';
import { taintToleration } from './taint-toleration.ts';

const nodes = [
  makeNode('clean'),
  makeNode('gpu', { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] }),
  makeNode('gone', { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }),
  makeNode('soft', { taints: [{ key: 'spot', value: 'yes', effect: 'PreferNoSchedule' }] }),
];

test('TaintToleration filter: untolerated NoSchedule/NoExecute fail with the taint in the reason', () => {
  const out = runFilter(taintToleration(), podInfoOf(makePod('p')), snapshotOf(nodes));
  assert.deepEqual(out, {
    clean: '', soft: '',
    gpu: 'node(s) had untolerated taint {gpu: true}',
    gone: 'node(s) had untolerated taint {node.kubernetes.io/unreachable: }',
  });
  const tolerant = makePod('t', { spec: { tolerations: [{ key: 'gpu', operator: 'Equal', value: 'true' }, { operator: 'Exists', effect: 'NoExecute' }] } });
  assert.equal(Object.values(runFilter(taintToleration(), podInfoOf(tolerant), snapshotOf(nodes))).join(''), '');
});

test('TaintToleration score: PreferNoSchedule taints lower the score', () => {
  const s = runScore(taintToleration(), podInfoOf(makePod('p')), snapshotOf(nodes));
  assert.equal(s.clean, 100);
  assert.equal(s.soft, 0);
});

test('TaintToleration score is skipped only when no feasible node has a PreferNoSchedule taint (it would rank none above another)', () => {
  const plugin = taintToleration();
  const snap = snapshotOf(nodes);
  const pod = podInfoOf(makePod('p'));
  const byName = (...names: string[]) => names.map((n) => snap.byName.get(n)!);
  assert.equal(plugin.preScore!(pod, byName('clean', 'gpu', 'gone'), snap, new Map()), 'skip');
  assert.equal(plugin.preScore!(pod, byName('clean', 'soft'), snap, new Map()), undefined);
});

test('TaintToleration filter: one failure per taint, the reason following a node update', () => {
  const plugin = taintToleration();
  const snap = snapshotOf([makeNode('a', { taints: [{ key: 'hold', value: '1', effect: 'NoSchedule' }] })]);
  const node = snap.byName.get('a')!;
  const first = plugin.filter!(podInfoOf(makePod('p1')), node, new Map());
  assert.deepEqual(first?.reasons, ['node(s) had untolerated taint {hold: 1}']);
  assert.equal(plugin.filter!(podInfoOf(makePod('p2')), node, new Map()), first);
  snap.setNode(makeNode('a', { taints: [{ key: 'hold', value: '2', effect: 'NoExecute' }] }));
  assert.deepEqual(plugin.filter!(podInfoOf(makePod('p3')), node, new Map())?.reasons, ['node(s) had untolerated taint {hold: 2}']);
  snap.setNode(makeNode('a'));
  assert.equal(plugin.filter!(podInfoOf(makePod('p4')), node, new Map()), null);
});

test('TaintToleration filter: a node\'s remembered failure follows its taints and each pod\'s tolerations', () => {
  const plugin = taintToleration();
  const snap = snapshotOf([makeNode('n', { taints: [{ key: 'a', value: '1', effect: 'NoSchedule' }] })]);
  const node = snap.nodes[0];
  const plain = podInfoOf(makePod('p'));
  const tolerant = podInfoOf(makePod('t', { spec: { tolerations: [{ key: 'a', operator: 'Exists' }] } }));
  const reasons = (pod: typeof plain) => plugin.filter!(pod, node, new Map())?.reasons ?? [];
  assert.deepEqual(reasons(plain), ['node(s) had untolerated taint {a: 1}']);
  assert.deepEqual(reasons(plain), ['node(s) had untolerated taint {a: 1}'], 'remembered');
  assert.deepEqual(reasons(tolerant), [], 'a pod that tolerates it passes though the node remembers a failure');
  node.setNode(makeNode('n', { taints: [{ key: 'b', effect: 'NoExecute' }] }));
  assert.deepEqual(reasons(plain), ['node(s) had untolerated taint {b: }'], 'new taints, new verdict');
  node.setNode(makeNode('n'));
  assert.equal(plugin.filter!(plain, node, new Map()), null);
});
