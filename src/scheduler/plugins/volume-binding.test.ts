import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from '../pod-info.ts';
import { makeNode, makePod, runFilter, snapshotOf } from '../cluster.fixture.ts';
import { ERR_REASON_NODE_CONFLICT, volumeBinding } from './volume-binding.ts';

const snap = snapshotOf([makeNode('a'), makeNode('b')]);
const pod = () => podInfoOf(makePod('p', { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] } }));

test('VolumeBinding: a claim bound to a local PV pins the pod to the PV nodeAffinity', () => {
  const p = pod();
  p.claims = [{ claimName: 'data', nodeAffinity: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['b'] }] }] }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: ERR_REASON_NODE_CONFLICT, b: '' });
});

test('VolumeBinding: unbound claims are skipped; a missing claim rejects every node', () => {
  const p = pod();
  p.claims = [{ claimName: 'data' }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: '', b: '' });
  p.claims = [{ claimName: 'data', missing: true }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: 'persistentvolumeclaim "data" not found', b: 'persistentvolumeclaim "data" not found' });
});
