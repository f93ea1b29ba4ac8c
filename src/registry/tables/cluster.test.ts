import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { leaseTable, namespaceFieldSelectors, namespaceTable, nodeFieldSelectors, nodeTable, runtimeClassTable } from './cluster.ts';
import { configMapTable, secretFieldSelectors, secretTable, serviceAccountTable } from './config.ts';
import { persistentVolumeClaimTable, persistentVolumeTable, storageClassTable } from './storage.ts';

const now = new Date('2024-01-10T12:00:00Z');
const created = '2024-01-01T12:00:00Z';
const obj = (o: any, meta: any = {}): KubeObject => ({ ...o, metadata: { name: 'x', creationTimestamp: created, ...meta } });

test('node NotReady and unschedulable, with wide cells', () => {
  const n = obj({
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'False' }],
      addresses: [{ type: 'Hostname', address: 'n1' }, { type: 'InternalIP', address: '192.168.1.10' }],
      nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian GNU/Linux 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7' },
    },
  }, { labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': '', 'kubernetes.io/role': 'edge' } });
  assert.deepEqual(nodeTable.cells(n, now), ['x', 'NotReady,SchedulingDisabled', 'control-plane,edge,worker', '9d', 'v1.32.0', '192.168.1.10', '<none>', 'Debian GNU/Linux 12', '6.1.0', 'containerd://1.7']);
  assert.equal(nodeFieldSelectors['spec.unschedulable'](n), 'true');
});

test('node Ready, Unknown', () => {
  const ready = obj({ status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  assert.deepEqual(nodeTable.cells(ready, now).slice(1, 5), ['Ready', '<none>', '9d', '']);
  assert.deepEqual(nodeTable.cells(ready, now).slice(7), ['<unknown>', '<unknown>', '<unknown>']);
  assert.equal(nodeTable.cells(obj({}), now)[1], 'Unknown');
  assert.equal(nodeTable.cells(obj({ spec: { unschedulable: true }, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }), now)[1], 'NotReady,SchedulingDisabled');
  assert.equal(nodeFieldSelectors['spec.unschedulable'](ready), 'false');
  assert.equal(nodeTable.columns.filter((c) => c.priority === 1).length, 5);
});

test('namespace, lease, runtimeclass', () => {
  const ns = obj({ status: { phase: 'Terminating' } });
  assert.deepEqual(namespaceTable.cells(ns, now), ['x', 'Terminating', '9d']);
  assert.equal(namespaceFieldSelectors['status.phase'](ns), 'Terminating');
  assert.deepEqual(leaseTable.cells(obj({ spec: { holderIdentity: 'node-1' } }), now), ['x', 'node-1', '9d']);
  assert.deepEqual(leaseTable.cells(obj({ spec: {} }), now), ['x', '', '9d']);
  assert.deepEqual(runtimeClassTable.cells(obj({ handler: 'runc' }), now), ['x', 'runc', '9d']);
});

test('configmap, secret, serviceaccount', () => {
  assert.deepEqual(configMapTable.cells(obj({ data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } }), now), ['x', 3, '9d']);
  assert.deepEqual(configMapTable.cells(obj({}), now), ['x', 0, '9d']);
  const s = obj({ type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } });
  assert.deepEqual(secretTable.cells(s, now), ['x', 'kubernetes.io/tls', 2, '9d']);
  assert.deepEqual(secretTable.columns.map((c) => c.name), ['Name', 'Type', 'Data', 'Age']);
  assert.equal(secretFieldSelectors.type(s), 'kubernetes.io/tls');
  assert.deepEqual(serviceAccountTable.cells(obj({ secrets: [{ name: 't' }] }), now), ['x', 1, '9d']);
  assert.deepEqual(serviceAccountTable.cells(obj({}), now), ['x', 0, '9d']);
});

test('persistentvolume', () => {
  assert.deepEqual(persistentVolumeTable.columns.map((c) => c.name), ['Name', 'Capacity', 'Access Modes', 'Reclaim Policy', 'Status', 'Claim', 'StorageClass', 'VolumeAttributesClass', 'Reason', 'Age', 'VolumeMode']);
  const pv = obj({
    spec: { capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce', 'ReadOnlyMany'], persistentVolumeReclaimPolicy: 'Retain', claimRef: { namespace: 'default', name: 'data' }, storageClassName: 'standard', volumeMode: 'Filesystem' },
    status: { phase: 'Bound' },
  });
  assert.deepEqual(persistentVolumeTable.cells(pv, now), ['x', '10Gi', 'RWO,ROX', 'Retain', 'Bound', 'default/data', 'standard', '<unset>', '', '9d', 'Filesystem']);
  const terminating = obj({ spec: {}, status: { phase: 'Released' } }, { deletionTimestamp: created, annotations: { 'volume.beta.kubernetes.io/storage-class': 'old' } });
  assert.deepEqual(persistentVolumeTable.cells(terminating, now), ['x', '0', '', '', 'Terminating', '', 'old', '<unset>', '', '9d', '<unset>']);
});

test('persistentvolumeclaim bound and pending', () => {
  const bound = obj({
    spec: { volumeName: 'pv-1', storageClassName: 'standard', resources: { requests: { storage: '1Gi' } }, volumeMode: 'Block', volumeAttributesClassName: 'gold' },
    status: { phase: 'Bound', capacity: { storage: '5Gi' }, accessModes: ['ReadWriteOnce'] },
  });
  assert.deepEqual(persistentVolumeClaimTable.cells(bound, now), ['x', 'Bound', 'pv-1', '5Gi', 'RWO', 'standard', 'gold', '9d', 'Block']);
  const pending = obj({ spec: { resources: { requests: { storage: '1Gi' } } }, status: { phase: 'Pending' } });
  assert.deepEqual(persistentVolumeClaimTable.cells(pending, now), ['x', 'Pending', '', '', '', '', '<unset>', '9d', '<unset>']);
});

test('storageclass', () => {
  const sc = obj({ provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true }, { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } });
  assert.deepEqual(storageClassTable.cells(sc, now), ['x (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', true, '9d']);
  assert.deepEqual(storageClassTable.cells(obj({ provisioner: 'p', reclaimPolicy: 'Retain' }), now), ['x', 'p', 'Retain', 'Immediate', false, '9d']);
});
