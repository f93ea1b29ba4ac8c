import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { persistentvolumeStrategy as s } from './persistentvolume.ts';

const pv = (spec: any): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec });
const f = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);
const good = () => pv({ capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/srv/data' } });

test('defaults and Pending on create', () => {
  const o = good();
  s.defaults!(o); s.prepareForCreate!(o);
  assert.equal(o.spec.persistentVolumeReclaimPolicy, 'Retain');
  assert.equal(o.spec.volumeMode, 'Filesystem');
  assert.equal(o.status.phase, 'Pending');
  assert.deepEqual(s.validate!(o), []);
});

test('required capacity, access modes and a single source', () => {
  assert.deepEqual(f(s.validate!(pv({}))), [
    'spec.accessModes:FieldValueRequired', 'spec.capacity:FieldValueRequired', 'spec.capacity:FieldValueNotSupported', 'spec:FieldValueRequired',
  ]);
  const errs = s.validate!(pv({ capacity: { storage: '0' }, accessModes: ['ReadWriteSometimes'], hostPath: { path: '/a' }, nfs: { server: 'x', path: '/' } }));
  assert.deepEqual(f(errs), ['spec.accessModes:FieldValueNotSupported', 'spec.capacity[storage]:FieldValueInvalid', 'spec.nfs:FieldValueForbidden']);
  assert.equal(errs[1].message, 'Invalid value: "0": must be greater than zero');
  assert.deepEqual(f(s.validate!(pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOncePod', 'ReadOnlyMany'], csi: { driver: 'd', volumeHandle: 'h' } }))),
    ['spec.accessModes:FieldValueForbidden']);
  assert.deepEqual(f(s.validate!(pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], local: { path: '/mnt/disk' } }))),
    ['spec.nodeAffinity:FieldValueRequired']);
  assert.deepEqual(f(s.validate!(pv({ capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: '/a/../b' }, volumeMode: 'Raw' }))),
    ['spec.hostPath.path:FieldValueInvalid', 'spec.volumeMode:FieldValueNotSupported']);
});

test('update: source and volume mode immutable; capacity may change', () => {
  const old = good(); s.defaults!(old);
  const grown = structuredClone(old); grown.spec.capacity.storage = '20Gi';
  assert.deepEqual(s.validateUpdate!(grown, old), []);
  const moved = structuredClone(old); moved.spec.hostPath.path = '/other'; moved.spec.volumeMode = 'Block';
  assert.deepEqual(f(s.validateUpdate!(moved, old)), ['spec.persistentvolumesource:FieldValueForbidden', 'volumeMode:FieldValueInvalid']);
});

test('status: a new phase stamps lastPhaseTransitionTime; the same phase keeps it', () => {
  const stored = good(); s.defaults!(stored); s.prepareForCreate!(stored);
  stored.status.lastPhaseTransitionTime = '2020-01-01T00:00:00Z';
  const status = s.subresources!.status;
  const bound = status.prepare({ ...good(), status: { phase: 'Bound', lastPhaseTransitionTime: '2020-01-01T00:00:00Z' } }, structuredClone(stored));
  assert.equal(bound.status.phase, 'Bound');
  assert.notEqual(bound.status.lastPhaseTransitionTime, '2020-01-01T00:00:00Z');
  const same = status.prepare({ ...good(), status: { phase: 'Pending', lastPhaseTransitionTime: '2020-01-01T00:00:00Z', message: 'x' } }, structuredClone(stored));
  assert.equal(same.status.lastPhaseTransitionTime, '2020-01-01T00:00:00Z');
  assert.equal(same.spec.hostPath.path, '/srv/data', 'only the status is taken from the write');
});
