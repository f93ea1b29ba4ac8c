import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { controllerRevisionStrategy as s } from './controllerrevision.ts';

const rev = (): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'web-7d4b9c', namespace: 'default' },
  data: { spec: { template: { $patch: 'replace' } } }, revision: 1,
});

test('valid revision', () => {
  assert.deepEqual(s.validate!(rev()), []);
});

test('data required, revision non-negative', () => {
  const r = rev();
  delete r.data;
  r.revision = -1;
  assert.deepEqual(s.validate!(r), [
    { type: 'FieldValueRequired', field: 'data', message: 'Required value: data is mandatory' },
    { type: 'FieldValueInvalid', field: 'revision', message: 'Invalid value: -1: must be greater than or equal to 0' },
  ]);
});

test('data immutable, revision may change', () => {
  const old = rev();
  const bumped = { ...structuredClone(old), revision: 3 };
  assert.deepEqual(s.validateUpdate!(bumped, old), []);
  const changed = structuredClone(old);
  changed.data = { spec: {} };
  assert.deepEqual(s.validateUpdate!(changed, old).map((e) => `${e.field} ${e.type}`), ['data FieldValueInvalid']);
  assert.match(s.validateUpdate!(changed, old)[0].message, /field is immutable$/);
});
