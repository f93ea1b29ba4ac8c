import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../object.ts';
import { ANN_BETA_STORAGE_CLASS, ANN_DEFAULT_CLASS } from './annotations.ts';
import { accessModesFit, claimClass, claimHasClass, defaultClass, findMatchingVolume, isVolumeBoundToClaim, volumeMismatch } from './volume-match.ts';

const pv = (name: string, size: string, extra: Record<string, any> = {}, meta: Record<string, any> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, ...meta },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: 'slow', hostPath: { path: `/tmp/${name}` }, ...extra },
  status: { phase: 'Available' },
});
const pvc = (size: string, extra: Record<string, any> = {}, meta: Record<string, any> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'ns', uid: 'u1', ...meta },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: 'slow', ...extra },
});

test('the smallest Available volume of the class that is big enough wins', () => {
  const vols = [pv('big', '10Gi'), pv('small', '2Gi'), pv('tiny', '1Gi'), pv('other-class', '2Gi', { storageClassName: 'fast' })];
  assert.equal(findMatchingVolume(pvc('1500Mi'), vols)?.metadata.name, 'small');
  assert.equal(findMatchingVolume(pvc('20Gi'), vols), undefined);
  assert.equal(findMatchingVolume(pvc('1Gi', { storageClassName: 'fast' }), vols)?.metadata.name, 'other-class');
});

test('phase, selector, access modes, volume mode, deletion and exclusions filter volumes', () => {
  const bound = pv('bound', '1Gi', { claimRef: { namespace: 'ns', name: 'other', uid: 'u9' } });
  const released = { ...pv('released', '1Gi'), status: { phase: 'Released' } };
  const labelled = pv('labelled', '5Gi', {}, { labels: { tier: 'db' } });
  const rwx = pv('rwx', '1Gi', { accessModes: ['ReadWriteMany'] });
  const block = pv('block', '1Gi', { volumeMode: 'Block' });
  const deleting = pv('deleting', '1Gi', {}, { deletionTimestamp: '2026-01-01T00:00:00Z' });
  const vols = [bound, released, labelled, rwx, block, deleting];
  assert.equal(findMatchingVolume(pvc('1Gi'), vols)?.metadata.name, 'labelled');
  assert.equal(findMatchingVolume(pvc('1Gi', { selector: { matchLabels: { tier: 'web' } } }), vols), undefined);
  assert.equal(findMatchingVolume(pvc('1Gi', { selector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['db'] }] } }), vols)?.metadata.name, 'labelled');
  assert.equal(findMatchingVolume(pvc('1Gi', { accessModes: ['ReadWriteMany'] }), vols)?.metadata.name, 'rwx');
  assert.equal(findMatchingVolume(pvc('1Gi', { volumeMode: 'Block' }), vols)?.metadata.name, 'block');
  assert.equal(findMatchingVolume(pvc('1Gi'), vols, { excluded: new Set(['labelled']) }), undefined);
});

test('a volume pre-bound to the claim wins whatever its phase; a delayed claim is left to the scheduler', () => {
  const pre = { ...pv('pre', '1Gi', { claimRef: { namespace: 'ns', name: 'data' } }), status: { phase: 'Pending' } };
  assert.ok(isVolumeBoundToClaim(pre, pvc('1Gi')));
  assert.equal(findMatchingVolume(pvc('1Gi'), [pv('a', '1Gi'), pre])?.metadata.name, 'pre');
  assert.equal(findMatchingVolume(pvc('1Gi'), [pv('a', '1Gi')], { delayBinding: true }), undefined);
  assert.equal(findMatchingVolume(pvc('1Gi'), [pre], { delayBinding: true })?.metadata.name, 'pre');
  // The scheduler's path: node affinity decides, also for a pre-bound volume.
  assert.equal(findMatchingVolume(pvc('1Gi'), [pv('a', '1Gi')], { delayBinding: true, nodeFits: () => true })?.metadata.name, 'a');
  assert.equal(findMatchingVolume(pvc('1Gi'), [pre, pv('a', '1Gi')], { nodeFits: (v) => v.metadata.name !== 'pre' }), undefined);
  // A claimRef with another uid is another claim's.
  assert.equal(isVolumeBoundToClaim(pv('x', '1Gi', { claimRef: { namespace: 'ns', name: 'data', uid: 'old' } }), pvc('1Gi')), false);
});

test('classes: the beta annotation first, nil vs empty, the newest default', () => {
  assert.equal(claimClass(pvc('1Gi', {}, { annotations: { [ANN_BETA_STORAGE_CLASS]: 'gold' } })), 'gold');
  assert.equal(claimHasClass(pvc('1Gi', { storageClassName: undefined })), false);
  assert.equal(claimHasClass(pvc('1Gi', { storageClassName: '' })), true);
  const sc = (name: string, ts: string, def: boolean): KubeObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name, creationTimestamp: ts, annotations: def ? { [ANN_DEFAULT_CLASS]: 'true' } : {} } });
  assert.equal(defaultClass([sc('a', '2026-01-01T00:00:00Z', true), sc('b', '2026-02-01T00:00:00Z', true), sc('c', '2026-03-01T00:00:00Z', false)])?.metadata.name, 'b');
  assert.equal(defaultClass([sc('c', '2026-03-01T00:00:00Z', false)]), undefined);
});

test('volumeMismatch names the first reason, as checkVolumeSatisfyClaim', () => {
  assert.equal(volumeMismatch(pv('a', '1Gi'), pvc('2Gi')), 'requested PV is too small');
  assert.equal(volumeMismatch(pv('a', '1Gi', { storageClassName: 'x' }), pvc('1Gi')), 'storageClassName does not match');
  assert.equal(volumeMismatch(pv('a', '1Gi', { volumeMode: 'Block' }), pvc('1Gi')), 'incompatible volumeMode');
  assert.equal(volumeMismatch(pv('a', '1Gi'), pvc('1Gi', { accessModes: ['ReadOnlyMany'] })), 'incompatible accessMode');
  assert.equal(volumeMismatch(pv('a', '1Gi'), pvc('1Gi')), undefined);
  assert.equal(accessModesFit(pvc('1Gi', { accessModes: [] }), pv('a', '1Gi')), true);
});
