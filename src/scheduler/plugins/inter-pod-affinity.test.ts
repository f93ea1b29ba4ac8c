import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runFilter, runScore, snapshotOf } from '../cluster.fixture.ts';
import { ERR_AFFINITY, ERR_ANTI_AFFINITY, ERR_EXISTING_ANTI_AFFINITY, interPodAffinity } from './inter-pod-affinity.ts';

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const nodes = [makeNode('a1', { labels: { [ZONE]: 'a' } }), makeNode('a2', { labels: { [ZONE]: 'a' } }), makeNode('b1', { labels: { [ZONE]: 'b' } })];
const term = (app: string, topologyKey: string) => ({ labelSelector: { matchLabels: { app } }, topologyKey });

test('InterPodAffinity: required affinity needs a matching pod in the same zone', () => {
  const snap = snapshotOf(nodes, [[makePod('db', { labels: { app: 'db' } }), 'a1']]);
  const p = podInfoOf(makePod('p', { spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('db', ZONE)] } } } }));
  assert.deepEqual(runFilter(interPodAffinity(), p, snap), { a1: '', a2: '', b1: ERR_AFFINITY });
});

test('InterPodAffinity: the first pod of a self-affine group may go anywhere', () => {
  const p = podInfoOf(makePod('p', { labels: { app: 'web' }, spec: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', ZONE)] } } } }));
  assert.deepEqual(runFilter(interPodAffinity(), p, snapshotOf(nodes)), { a1: '', a2: '', b1: '' });
});

test('InterPodAffinity: required anti-affinity, both the new pod’s and existing pods’', () => {
  const anti = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term('web', HOST)] } };
  const snap = snapshotOf(nodes, [[makePod('w1', { labels: { app: 'web' }, spec: { affinity: anti } }), 'a1']]);
  const p = podInfoOf(makePod('w2', { labels: { app: 'web' }, spec: { affinity: anti } }));
  assert.deepEqual(runFilter(interPodAffinity(), p, snap), { a1: ERR_ANTI_AFFINITY, a2: '', b1: '' });
  // A pod without affinity of its own is still kept off a1 by w1's anti-affinity.
  const plain = podInfoOf(makePod('w3', { labels: { app: 'web' } }));
  assert.deepEqual(runFilter(interPodAffinity(), plain, snap), { a1: ERR_EXISTING_ANTI_AFFINITY, a2: '', b1: '' });
});

test('InterPodAffinity score: preferred affinity ranks the zone with the matching pod higher', () => {
  const snap = snapshotOf(nodes, [[makePod('cache', { labels: { app: 'cache' } }), 'b1']]);
  const p = podInfoOf(makePod('p', { spec: { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
    { weight: 50, podAffinityTerm: term('cache', ZONE) },
  ] } } } }));
  assert.deepEqual(runScore(interPodAffinity(), p, snap), { a1: 0, a2: 0, b1: 100 });
});
