import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runFilter, runScore, snapshotOf } from '../cluster.fixture.ts';
import { ERR_REASON_CONSTRAINTS, ERR_REASON_LABEL, podTopologySpread } from './pod-topology-spread.ts';

const ZONE = 'topology.kubernetes.io/zone';
const nodes = [
  makeNode('a1', { labels: { [ZONE]: 'a' } }), makeNode('a2', { labels: { [ZONE]: 'a' } }),
  makeNode('b1', { labels: { [ZONE]: 'b' } }), makeNode('nolabel'),
];
const web = (name: string) => makePod(name, { labels: { app: 'web' } });
const spreadPod = (when: string, maxSkew = 1, minDomains?: number) => podInfoOf(makePod('new', { labels: { app: 'web' }, spec: {
  topologySpreadConstraints: [{ maxSkew, topologyKey: ZONE, whenUnsatisfiable: when, labelSelector: { matchLabels: { app: 'web' } }, ...(minDomains ? { minDomains } : {}) }],
} }));

test('PodTopologySpread filter: skew over maxSkew and missing topology label are rejected', () => {
  const snap = snapshotOf(nodes, [[web('w1'), 'a1'], [web('w2'), 'a2'], [web('w3'), 'b1'], [makePod('other'), 'b1']]);
  // zone a has 2, zone b has 1: placing in a gives skew 2 > 1.
  assert.deepEqual(runFilter(podTopologySpread(), spreadPod('DoNotSchedule'), snap), {
    a1: ERR_REASON_CONSTRAINTS, a2: ERR_REASON_CONSTRAINTS, b1: '', nolabel: ERR_REASON_LABEL,
  });
  assert.equal(runFilter(podTopologySpread(), spreadPod('DoNotSchedule', 2), snap).a1, '');
});

test('PodTopologySpread filter: minDomains above the domain count makes the global minimum 0', () => {
  const snap = snapshotOf(nodes, [[web('w1'), 'b1']]);
  assert.equal(runFilter(podTopologySpread(), spreadPod('DoNotSchedule', 1, 3), snap).b1, ERR_REASON_CONSTRAINTS);
  assert.equal(runFilter(podTopologySpread(), spreadPod('DoNotSchedule', 1), snap).b1, ERR_REASON_CONSTRAINTS);
  assert.equal(runFilter(podTopologySpread(), spreadPod('DoNotSchedule', 1), snap).a1, '');
});

test('PodTopologySpread score: ScheduleAnyway prefers the emptier domain; no filter', () => {
  const snap = snapshotOf(nodes, [[web('w1'), 'a1'], [web('w2'), 'a2']]);
  const pod = spreadPod('ScheduleAnyway');
  assert.equal(Object.values(runFilter(podTopologySpread(), pod, snap)).join(''), '');
  const s = runScore(podTopologySpread(), pod, snap);
  assert.ok(s.b1 > s.a1, JSON.stringify(s));
  assert.equal(s.b1, 100);
  assert.equal(s.nolabel, 0);
});
