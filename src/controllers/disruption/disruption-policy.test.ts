import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, OwnerReference } from '../../apis/object.ts';
import { rfc3339 } from '../../apis/time.ts';
import {
  DELETION_TIMEOUT_MS, countHealthy, disruptedPodMap, expectedPodCount, failSafeStatus, nextStatus, scaledValue, type ScaleFinder,
} from './disruption-policy.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const owner = (uid: string, kind = 'StatefulSet'): OwnerReference => ({ apiVersion: 'apps/v1', kind, name: uid, uid, controller: true });
const pod = (name: string, opts: { ready?: boolean; owner?: OwnerReference; deleting?: boolean; uid?: string } = {}): KubeObject => ({
  metadata: { name, namespace: 'a', uid: opts.uid ?? `uid-${name}`, ownerReferences: opts.owner ? [opts.owner] : undefined, ...(opts.deleting ? { deletionTimestamp: rfc3339(NOW) } : {}) },
  status: { conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
});
const pdb = (spec: Record<string, unknown>, status: Record<string, unknown> = {}, generation = 1): KubeObject => ({ metadata: { name: 'b', namespace: 'a', generation }, spec, status });
const scales: Record<string, number> = { web: 3, db: 5 };
const find: ScaleFinder = (ref) => (scales[ref.uid] === undefined ? undefined : { uid: ref.uid, replicas: scales[ref.uid] });

test('scaledValue: ints as is, percentages of the total rounded up or down', () => {
  assert.equal(scaledValue(2, 10, true), 2);
  assert.equal(scaledValue('25%', 3, true), 1);
  assert.equal(scaledValue('25%', 3, false), 0);
  assert.equal(scaledValue('100%', 7, true), 7);
  assert.throws(() => scaledValue('x', 3, true), /invalid value for IntOrString/);
});

test('maxUnavailable: expected from the controllers\' scale (each counted once), desired = expected - max', () => {
  const pods = [pod('web-0', { owner: owner('web') }), pod('web-1', { owner: owner('web') })];
  assert.deepEqual(expectedPodCount(pdb({ maxUnavailable: 1 }), pods, find), { expected: 3, desiredHealthy: 2, unmanaged: [] });
  assert.deepEqual(expectedPodCount(pdb({ maxUnavailable: '50%' }), [...pods, pod('db-0', { owner: owner('db') })], find), { expected: 8, desiredHealthy: 4, unmanaged: [] });
  assert.deepEqual(expectedPodCount(pdb({ maxUnavailable: 5 }), pods, find).desiredHealthy, 0, 'never below 0');
});

test('minAvailable: an int counts the selected pods; a percentage the controllers\' scale, rounded up', () => {
  const pods = [pod('web-0', { owner: owner('web') }), pod('stray')];
  assert.deepEqual(expectedPodCount(pdb({ minAvailable: 2 }), pods, find), { expected: 2, desiredHealthy: 2, unmanaged: [] });
  assert.deepEqual(expectedPodCount(pdb({ minAvailable: '50%' }), pods, find), { expected: 3, desiredHealthy: 2, unmanaged: ['stray'] });
});

test('a pod whose controller cannot be found fails the count, as upstream', () => {
  assert.throws(() => expectedPodCount(pdb({ maxUnavailable: 1 }), [pod('x', { owner: owner('gone') })], find), /found no controllers for pod "x"/);
});

test('disruptedPods: kept while pending, dropped once the pod is deleting, gone, replaced or past the timeout', () => {
  const at = (ms: number) => rfc3339(ms);
  const status = { disruptedPods: { pending: at(NOW - 10_000), deleting: at(NOW - 5_000), missing: at(NOW), old: at(NOW - DELETION_TIMEOUT_MS - 1000), replaced: at(NOW - 3000) } };
  const pods = [pod('pending'), pod('deleting', { deleting: true }), pod('old'), pod('replaced', { uid: 'new' })];
  const replaced = (p: KubeObject, since: number) => p.metadata.name === 'replaced' && since <= NOW;
  const r = disruptedPodMap(pdb({}, status), pods, NOW, replaced);
  assert.deepEqual(r.disrupted, { pending: status.disruptedPods.pending });
  assert.equal(r.recheckAt, Date.parse(status.disruptedPods.pending) + DELETION_TIMEOUT_MS);
  assert.deepEqual(r.expired.map((p) => p.metadata.name), ['old']);
});

test('countHealthy: Ready pods that are neither deleting nor about to be evicted', () => {
  const pods = [pod('a'), pod('b', { ready: false }), pod('c', { deleting: true }), pod('d')];
  assert.equal(countHealthy(pods, {}, NOW), 2);
  assert.equal(countHealthy(pods, { d: rfc3339(NOW - 1000) }, NOW), 1);
});

test('nextStatus: allowed = healthy - desired (0 without expected pods), condition and generation; undefined when unchanged', () => {
  const b = pdb({ maxUnavailable: 1 });
  const s = nextStatus(b, { currentHealthy: 3, desiredHealthy: 2, expected: 3, disrupted: {} }, NOW)!;
  assert.deepEqual(s, {
    observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3,
    conditions: [{ type: 'DisruptionAllowed', status: 'True', observedGeneration: 1, lastTransitionTime: rfc3339(NOW), reason: 'SufficientPods', message: '' }],
  });
  assert.equal(nextStatus({ ...b, status: s }, { currentHealthy: 3, desiredHealthy: 2, expected: 3, disrupted: {} }, NOW + 5000), undefined);
  const down = nextStatus({ ...b, status: s }, { currentHealthy: 2, desiredHealthy: 2, expected: 3, disrupted: { x: rfc3339(NOW) } }, NOW + 5000)!;
  assert.equal(down.disruptionsAllowed, 0);
  assert.deepEqual(down.disruptedPods, { x: rfc3339(NOW) });
  assert.deepEqual([down.conditions![0].status, down.conditions![0].reason, down.conditions![0].lastTransitionTime], ['False', 'InsufficientPods', rfc3339(NOW + 5000)]);
  assert.equal(nextStatus(b, { currentHealthy: 2, desiredHealthy: 0, expected: 0, disrupted: {} }, NOW)!.disruptionsAllowed, 0, 'no expected pods: nothing allowed');
  assert.equal(nextStatus(pdb({ maxUnavailable: 1 }, s, 2), { currentHealthy: 3, desiredHealthy: 2, expected: 3, disrupted: {} }, NOW)!.observedGeneration, 2, 'a new generation is observed');
});

test('failSafe: nothing allowed, DisruptionAllowed False with SyncFailed and the error', () => {
  const s = failSafeStatus(pdb({}, { disruptionsAllowed: 2, observedGeneration: 1 }), 'daemonsets.apps does not implement the scale subresource', NOW);
  assert.equal(s.disruptionsAllowed, 0);
  assert.deepEqual(s.conditions, [{ type: 'DisruptionAllowed', status: 'False', observedGeneration: 1, lastTransitionTime: rfc3339(NOW), reason: 'SyncFailed', message: 'daemonsets.apps does not implement the scale subresource' }]);
});
