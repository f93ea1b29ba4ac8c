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
