import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { storageclassStrategy as s } from './storageclass.ts';

const sc = (extra: Record<string, unknown>): KubeObject => ({
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'x' }, provisioner: 'berth.dev/local-path', volumeBindingMode: 'WaitForFirstConsumer', ...extra,
});
const f = (errs: { field: string; type: string; message: string }[]) => errs.map((e) => `${e.field}:${e.type}`);

test('allowedTopologies: label keys, at least one value, no duplicate key, value or term', () => {
  assert.deepEqual(s.validate!(sc({ allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['a', 'b'] }] }] })), []);
  const errs = s.validate!(sc({
    allowedTopologies: [
      { matchLabelExpressions: [{ key: 'zone', values: [] }, { key: 'bad key!', values: ['a', 'a'] }, { key: 'zone', values: ['c'] }] },
      { matchLabelExpressions: [{ key: 'k', values: ['v'] }] },
      { matchLabelExpressions: [{ key: 'k', values: ['v'] }] },
    ],
  }));
  assert.deepEqual(f(errs), [
    'allowedTopologies[0].matchLabelExpressions[0].values:FieldValueRequired',
    'allowedTopologies[0].matchLabelExpressions[1].values[1]:FieldValueDuplicate',
    'allowedTopologies[0].matchLabelExpressions[1].key:FieldValueInvalid',
    'allowedTopologies[0].matchLabelExpressions[2].key:FieldValueDuplicate',
    'allowedTopologies[2].matchLabelExpressions:FieldValueDuplicate',
  ]);
  assert.equal(errs[0].message, 'Required value: must specify as least one value');
});
