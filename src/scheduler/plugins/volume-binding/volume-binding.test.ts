import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../../apis/object.ts';
import { LOCAL_PATH_PROVISIONER, NO_PROVISIONER } from '../../../apis/volumes/annotations.ts';
import { makeNode, makePod, runFilter, snapshotOf } from '../../cluster.fixture.ts';
import { podInfoOf } from '../../pod-info.ts';
import {
  ERR_REASON_BIND_CONFLICT, ERR_REASON_NODE_CONFLICT, ERR_REASON_NOT_ENOUGH_SPACE, ERR_REASON_PV_NOT_EXIST, ERR_UNBOUND_IMMEDIATE, decideForNode, volumeBinding,
} from './volume-binding.ts';

const snap = snapshotOf([makeNode('a'), makeNode('b', { labels: { zone: 'z2' } })]);
const pod = () => podInfoOf(makePod('p', { spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] } }));
const pinned = (node: string) => ({ required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } });
const pvc = (size = '1Gi'): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default', uid: 'c1' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'wait', resources: { requests: { storage: size } } } });
const sc = (provisioner: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'wait' }, provisioner, volumeBindingMode: 'WaitForFirstConsumer', ...extra });
const pv = (name: string, node: string): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: { capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'wait', local: { path: '/x' }, nodeAffinity: pinned(node) }, status: { phase: 'Available' },
});

test('a claim bound to a local PV pins the pod to the PV node affinity; a missing PV rejects every node', () => {
  const p = pod();
  p.claims = [{ claimName: 'data', nodeAffinity: pinned('b').required.nodeSelectorTerms }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: ERR_REASON_NODE_CONFLICT, b: '' });
  p.claims = [{ claimName: 'data', volumeMissing: true }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: ERR_REASON_PV_NOT_EXIST, b: ERR_REASON_PV_NOT_EXIST });
});

test('preFilter: a missing, deleting or unbound Immediate claim rejects the pod; bound unconstrained claims skip the plugin', () => {
  const p = pod();
  p.claims = [{ claimName: 'data', missing: true }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: 'persistentvolumeclaim "data" not found', b: 'persistentvolumeclaim "data" not found' });
  p.claims = [{ claimName: 'data', deleting: true }];
  assert.equal(runFilter(volumeBinding(), p, snap).a, 'persistentvolumeclaim "data" is being deleted');
  p.claims = [{ claimName: 'data', unboundImmediate: true }];
  assert.equal(runFilter(volumeBinding(), p, snap).b, ERR_UNBOUND_IMMEDIATE);
  p.claims = [{ claimName: 'data' }];
  assert.equal(volumeBinding().preFilter!(p, snap, new Map()), 'skip');
});

test('WaitForFirstConsumer: a free local PV only where it lives, else provisioning; no provisioner is a bind conflict', () => {
  const p = pod();
  p.claims = [{ claimName: 'data', delayed: { pvc: pvc(), storageClass: sc(NO_PROVISIONER), candidates: [pv('on-b', 'b')] } }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: ERR_REASON_BIND_CONFLICT, b: '' });
  const onB = decideForNode(p.claims, snap.byName.get('b')!);
  assert.ok(!Array.isArray(onB) && onB.bindings[0].pv.metadata.name === 'on-b' && onB.provisions.length === 0);
  // With a provisioner, node a provisions; node b still prefers its free PV.
  p.claims = [{ claimName: 'data', delayed: { pvc: pvc(), storageClass: sc(LOCAL_PATH_PROVISIONER), candidates: [pv('on-b', 'b')] } }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: '', b: '' });
  const onA = decideForNode(p.claims, snap.byName.get('a')!);
  assert.ok(!Array.isArray(onA) && onA.provisions.length === 1 && onA.bindings.length === 0);
});

test('provisioning honours allowedTopologies and, for local-path, the node storage', () => {
  const p = pod();
  p.claims = [{ claimName: 'data', delayed: { pvc: pvc(), storageClass: sc('example.com/x', { allowedTopologies: [{ matchLabelExpressions: [{ key: 'zone', values: ['z2'] }] }] }), candidates: [] } }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: ERR_REASON_BIND_CONFLICT, b: '' });
  p.claims = [{ claimName: 'data', delayed: { pvc: pvc('200Gi'), storageClass: sc(LOCAL_PATH_PROVISIONER), candidates: [] } }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: ERR_REASON_NOT_ENOUGH_SPACE, b: ERR_REASON_NOT_ENOUGH_SPACE });
  // Another provisioner's capacity is its own business.
  p.claims = [{ claimName: 'data', delayed: { pvc: pvc('200Gi'), storageClass: sc('example.com/x'), candidates: [] } }];
  assert.deepEqual(runFilter(volumeBinding(), p, snap), { a: '', b: '' });
});
