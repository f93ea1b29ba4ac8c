import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NAME_FORMAT, checkName, validateObjectMeta, validateObjectMetaUpdate } from './object-meta.ts';
import { RESOURCES } from '../../apis/resources.ts';
import type { FieldError } from '../../apis/field-errors.ts';

const ns = { namespaced: true, nameFormat: 'subdomain' } as const;
const find = (errs: FieldError[], field: string) => errs.filter((e) => e.field === field);

test('valid namespaced metadata passes', () => {
  assert.deepEqual(validateObjectMeta({
    name: 'web.example', namespace: 'default', labels: { app: 'web', 'example.com/tier': '' },
    annotations: { 'Example.com/Note': 'x' }, finalizers: ['kubernetes', 'example.com/cleanup'],
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true }],
  }, ns), []);
});

test('name or generateName is required', () => {
  const errs = validateObjectMeta({ namespace: 'default' }, ns);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'metadata.name');
  assert.equal(errs[0].type, 'FieldValueRequired');
  assert.equal(errs[0].message, 'Required value: name or generateName is required');
});

test('name formats', () => {
  assert.equal(validateObjectMeta({ name: 'Bad_Name', namespace: 'd' }, ns)[0].field, 'metadata.name');
  assert.deepEqual(checkName('subdomain', 'a.b'), []);
  assert.notDeepEqual(checkName('label', 'a.b'), []);
  assert.notDeepEqual(checkName('dns1035', '1abc'), []);
  assert.deepEqual(checkName('label', '1abc'), []);
  assert.deepEqual(checkName('path', 'Weird Name:1'), []);
  assert.deepEqual(checkName('path', '..'), ["may not be '..'"]);
  assert.deepEqual(checkName('path', 'a/b%c'), ["may not contain '/'", "may not contain '%'"]);
  assert.deepEqual(checkName('any', '../x'), []);
  // generateName prefixes may end in '-'.
  assert.deepEqual(checkName('subdomain', 'web-', true), []);
  const errs = validateObjectMeta({ name: 'web-abc', generateName: 'Web-', namespace: 'd' }, ns);
  assert.deepEqual(errs.map((e) => e.field), ['metadata.generateName']);
});

test('generateName alone still needs the generated name before validation', () => {
  const errs = validateObjectMeta({ generateName: 'web-', namespace: 'd' }, ns);
  assert.deepEqual(errs.map((e) => e.field), ['metadata.name']);
});

test('namespace required or forbidden', () => {
  const req = validateObjectMeta({ name: 'a' }, ns);
  assert.equal(req[0].field, 'metadata.namespace');
  assert.equal(req[0].type, 'FieldValueRequired');
  const bad = validateObjectMeta({ name: 'a', namespace: 'Bad' }, ns);
  assert.equal(bad[0].type, 'FieldValueInvalid');
  const forb = validateObjectMeta({ name: 'a', namespace: 'x' }, { namespaced: false, nameFormat: 'label' });
  assert.equal(forb[0].field, 'metadata.namespace');
  assert.equal(forb[0].message, 'Forbidden: not allowed on this type');
});

test('labels: bad key and bad value', () => {
  const errs = validateObjectMeta({ name: 'a', namespace: 'd', labels: { 'bad key': 'ok', k: 'bad value!' } }, ns);
  assert.equal(find(errs, 'metadata.labels').length, 2);
  assert.match(errs[0].message, /^Invalid value: "bad key": name part must consist/);
  assert.match(errs[1].message, /^Invalid value: "bad value!": a valid label must be/);
  const long = validateObjectMeta({ name: 'a', namespace: 'd', labels: { k: 'x'.repeat(64) } }, ns);
  assert.match(long[0].message, /must be no more than 63 characters/);
});

test('annotations: key and total size', () => {
  const errs = validateObjectMeta({ name: 'a', namespace: 'd', annotations: { '-bad': 'v' } }, ns);
  assert.equal(errs[0].field, 'metadata.annotations');
  const big = validateObjectMeta({ name: 'a', namespace: 'd', annotations: { k: 'x'.repeat(262144) } }, ns);
  assert.equal(big.length, 1);
  assert.equal(big[0].type, 'FieldValueTooLong');
  assert.equal(big[0].message, 'Too long: must have at most 262144 bytes');
  const fits = validateObjectMeta({ name: 'a', namespace: 'd', annotations: { k: 'x'.repeat(262143) } }, ns);
  assert.deepEqual(fits, []);
});

test('ownerReferences: required parts and a single controller', () => {
  const errs = validateObjectMeta({
    name: 'a', namespace: 'd',
    ownerReferences: [
      { apiVersion: 'apps/', kind: '', name: '', uid: '' } as any,
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'one', uid: '1', controller: true },
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'two', uid: '2', controller: true },
    ],
  }, ns);
  assert.deepEqual(errs.map((e) => e.field), [
    'metadata.ownerReferences[0].apiVersion', 'metadata.ownerReferences[0].kind',
    'metadata.ownerReferences[0].name', 'metadata.ownerReferences[0].uid', 'metadata.ownerReferences',
  ]);
  assert.match(errs[4].message, /Only one reference can have Controller set to true\. Found "true" in references for ReplicaSet\/one and ReplicaSet\/two$/);
});

test('finalizers: qualified, standard or prefixed, not orphan+foregroundDeletion', () => {
  const errs = validateObjectMeta({ name: 'a', namespace: 'd', finalizers: ['mine', 'orphan', 'foregroundDeletion', 'bad name/x'] }, ns);
  const fields = errs.map((e) => e.field);
  assert.ok(fields.includes('metadata.finalizers[0]'));
  assert.ok(errs.some((e) => /neither a standard finalizer name/.test(e.message)));
  assert.ok(errs.some((e) => /orphan and foregroundDeletion cannot be both set/.test(e.message)));
  assert.ok(errs.some((e) => e.field === 'metadata.finalizers' && /prefix part/.test(e.message)));
});

test('update: identity fields immutable', () => {
  const old = { name: 'a', namespace: 'd', uid: 'u', creationTimestamp: '2024-01-01T00:00:00Z', resourceVersion: '1' };
  assert.deepEqual(validateObjectMetaUpdate({ ...old, labels: { x: 'y' } }, old), []);
  const errs = validateObjectMetaUpdate({ ...old, name: 'x', uid: 'v' }, old);
  assert.deepEqual(errs.map((e) => e.field), ['metadata.name', 'metadata.uid']);
  assert.equal(errs[0].message, 'Invalid value: "x": field is immutable');
  const ts = validateObjectMetaUpdate({ ...old, creationTimestamp: '2025-01-01T00:00:00Z' }, old);
  assert.equal(ts[0].field, 'metadata.creationTimestamp');
});

test('update: no new finalizers while deleting; labels still checked', () => {
  const old = { name: 'a', deletionTimestamp: '2024-01-01T00:00:00Z', finalizers: ['kubernetes'] };
  const errs = validateObjectMetaUpdate({ ...old, finalizers: ['kubernetes', 'example.com/f'] }, old);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].type, 'FieldValueForbidden');
  assert.match(errs[0].message, /no new finalizers can be added if the object is being deleted/);
  assert.deepEqual(validateObjectMetaUpdate({ ...old, finalizers: [] }, old), []);
  const lbl = validateObjectMetaUpdate({ name: 'a', labels: { 'a b': 'c' } }, { name: 'a' });
  assert.equal(lbl[0].field, 'metadata.labels');
});

test('NAME_FORMAT covers every served resource', () => {
  for (const r of RESOURCES) assert.ok(NAME_FORMAT[`${r.group}/${r.plural}`], `${r.group}/${r.plural}`);
  assert.equal(NAME_FORMAT['/services'], 'dns1035');
  assert.equal(NAME_FORMAT['/namespaces'], 'label');
  assert.equal(NAME_FORMAT['apps/deployments'], 'subdomain');
});
