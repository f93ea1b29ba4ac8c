import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { leaseStrategy } from './lease.ts';
import { runtimeclassStrategy } from './runtimeclass.ts';
import { storageclassStrategy } from './storageclass.ts';
import { serviceaccountStrategy } from './serviceaccount.ts';

const obj = (kind: string, extra: Record<string, unknown>): KubeObject => ({ kind, metadata: { name: 'x' }, ...extra });
const f = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);

test('lease: durations and transitions', () => {
  assert.deepEqual(leaseStrategy.validate!(obj('Lease', { spec: { holderIdentity: 'a', leaseDurationSeconds: 15, leaseTransitions: 0 } })), []);
  const errs = leaseStrategy.validate!(obj('Lease', { spec: { leaseDurationSeconds: 0, leaseTransitions: -1, preferredHolder: 'b' } }));
  assert.deepEqual(f(errs), ['spec.leaseDurationSeconds:FieldValueInvalid', 'spec.leaseTransitions:FieldValueInvalid', 'spec.preferredHolder:FieldValueForbidden']);
  assert.equal(errs[0].message, 'Invalid value: 0: must be greater than 0');
});

test('runtimeclass: handler required, DNS label, immutable', () => {
  assert.deepEqual(runtimeclassStrategy.validate!(obj('RuntimeClass', { handler: 'runc' })), []);
  assert.deepEqual(f(runtimeclassStrategy.validate!(obj('RuntimeClass', {}))), ['handler:FieldValueRequired']);
  assert.deepEqual(f(runtimeclassStrategy.validate!(obj('RuntimeClass', { handler: 'Run.C' }))), ['handler:FieldValueInvalid']);
  const errs = runtimeclassStrategy.validateUpdate!(obj('RuntimeClass', { handler: 'kata' }), obj('RuntimeClass', { handler: 'runc' }));
  assert.deepEqual(f(errs), ['handler:FieldValueInvalid']);
  assert.equal(errs[0].message, 'Invalid value: "kata": field is immutable');
});

test('storageclass: defaults, provisioner, enums, immutability', () => {
  const sc = obj('StorageClass', { provisioner: 'berth.dev/hostpath' });
  storageclassStrategy.defaults!(sc);
  assert.equal(sc.reclaimPolicy, 'Delete');
  assert.equal(sc.volumeBindingMode, 'Immediate');
  assert.deepEqual(storageclassStrategy.validate!(sc), []);
  assert.deepEqual(f(storageclassStrategy.validate!(obj('StorageClass', { reclaimPolicy: 'Recycle', volumeBindingMode: 'Later' }))),
    ['provisioner:FieldValueRequired', 'reclaimPolicy:FieldValueNotSupported', 'volumeBindingMode:FieldValueNotSupported']);
  const changed = { ...sc, provisioner: 'other.io/x', parameters: { a: 'b' }, reclaimPolicy: 'Retain', volumeBindingMode: 'WaitForFirstConsumer' };
  const errs = storageclassStrategy.validateUpdate!(changed, sc);
  assert.deepEqual(f(errs), ['parameters:FieldValueForbidden', 'provisioner:FieldValueForbidden', 'reclaimPolicy:FieldValueForbidden', 'volumeBindingMode:FieldValueInvalid']);
  assert.equal(errs[1].message, 'Forbidden: updates to provisioner are forbidden.');
  assert.deepEqual(storageclassStrategy.validateUpdate!({ ...sc, allowVolumeExpansion: true }, sc), []);
});

test('serviceaccount: well-formed objects pass', () => {
  assert.deepEqual(serviceaccountStrategy.validate!(obj('ServiceAccount', { secrets: [{ name: 's' }], automountServiceAccountToken: false })), []);
  assert.deepEqual(f(serviceaccountStrategy.validate!(obj('ServiceAccount', { secrets: 'x' }))), ['secrets:FieldValueInvalid']);
});
