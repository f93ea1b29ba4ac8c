/**
 * The merge algebra against structured-merge-diff's own test tables (typed/merge_test.go,
 * fieldpath/serialize_test.go, merge/*_test.go), re-expressed over OpenAPI-style schemas.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareValues } from './compare.ts';
import { FieldSet } from './field-set.ts';
import { mergeValues } from './merge-values.ts';
import { deserializePathElement, makePath, pathString, serializePathElement, type Json } from './path.ts';
import { removeItems } from './remove.ts';
import { SchemaConverter, typeForKind, type MergeType } from './schema.ts';
import { toFieldSet } from './to-field-set.ts';
import { applyConfig, ConflictsError, updateManagers, type Managers } from './updater.ts';
import type { Schema } from '../openapi/definitions.ts';

const conv = new SchemaConverter();
const T = (s: Schema): MergeType => conv.convert(s);

// typed/merge_test.go "struct grab bag" and "associative list".
const grabBag = T({
  type: 'object',
  properties: {
    numeric: { type: 'number' }, string: { type: 'string' }, bool: { type: 'boolean' },
    setStr: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' },
  },
});
const assocRoot = T({
  type: 'object',
  properties: {
    list: {
      type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['key', 'id'],
      items: { type: 'object', properties: { key: { type: 'string' }, id: { type: 'number' }, value: { type: 'object', additionalProperties: { type: 'string' } }, bv: { type: 'boolean' }, nv: { type: 'number' } } },
    },
    atomicList: { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'atomic' },
  },
});

const mergeCases: [MergeType, string, string, string][] = [
  [grabBag, '{"numeric":1}', '{"numeric":3.14159}', '{"numeric":3.14159}'],
  [grabBag, '{"string":"aoeu"}', '{"bool":true}', '{"string":"aoeu","bool":true}'],
  [grabBag, '{"setStr":["a","b","c"]}', '{"setStr":["a","b"]}', '{"setStr":["a","b","c"]}'],
  [grabBag, '{"setStr":["a","b","c"]}', '{"setStr":[]}', '{"setStr":["a","b","c"]}'],
  [grabBag, '{"setStr":[]}', '{"setStr":["a","b","c"]}', '{"setStr":["a","b","c"]}'],
  [grabBag, '{"setStr":["a","b"]}', '{"setStr":["b","a"]}', '{"setStr":["b","a"]}'],
  [grabBag, '{"setStr":["a","b","c"]}', '{"setStr":["d","e","f"]}', '{"setStr":["a","b","c","d","e","f"]}'],
  [grabBag, '{"setStr":["a","b","c","g","f"]}', '{"setStr":["c","d","e","f"]}', '{"setStr":["a","b","c","g","d","e","f"]}'],
  [assocRoot, '{"list":[{"key":"a","id":1,"value":{"a":"a"}}]}', '{"list":[{"key":"a","id":2,"value":{"a":"a"}}]}', '{"list":[{"key":"a","id":1,"value":{"a":"a"}},{"key":"a","id":2,"value":{"a":"a"}}]}'],
  [assocRoot, '{"list":[{"key":"a","id":1},{"key":"b","id":1}]}', '{"list":[{"key":"a","id":1},{"key":"a","id":2}]}', '{"list":[{"key":"a","id":1},{"key":"b","id":1},{"key":"a","id":2}]}'],
  [assocRoot, '{"list":[{"key":"b","id":2}]}', '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}', '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}'],
  [assocRoot, '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}', '{"list":[{"key":"c","id":3},{"key":"b","id":2}]}', '{"list":[{"key":"a","id":1},{"key":"c","id":3},{"key":"b","id":2}]}'],
  [assocRoot, '{"list":[{"key":"a","id":1},{"key":"b","id":2},{"key":"c","id":3}]}', '{"list":[{"key":"c","id":3},{"key":"a","id":1}]}', '{"list":[{"key":"b","id":2},{"key":"c","id":3},{"key":"a","id":1}]}'],
  [assocRoot, '{"atomicList":["a","b","c"]}', '{"atomicList":[]}', '{"atomicList":[]}'],
  [assocRoot, '{"atomicList":["a","a","a"]}', '{"atomicList":["a","a"]}', '{"atomicList":["a","a"]}'],
  [assocRoot, '{"list":[{"key":"a","id":1,"bv":true},{"key":"b","id":2},{"key":"a","id":1,"bv":false,"nv":2}]}', '{"list":[{"key":"a","id":1,"nv":3},{"key":"c","id":3},{"key":"b","id":2}]}', '{"list":[{"key":"a","id":1,"nv":3},{"key":"c","id":3},{"key":"b","id":2}]}'],
  [assocRoot, '{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}', '{"list":[]}', '{"list":[{"key":"a","id":1,"nv":1},{"key":"a","id":1,"nv":2}]}'],
];

test('merge: structured-merge-diff typed/merge_test.go triplets', () => {
  for (const [type, lhs, rhs, out] of mergeCases) {
    assert.deepEqual(mergeValues(JSON.parse(lhs), JSON.parse(rhs), type), JSON.parse(out), `${lhs} + ${rhs}`);
  }
});

test('merge: a configuration with duplicate keys is refused', () => {
  assert.throws(() => mergeValues({ list: [] }, { list: [{ key: 'a', id: 1 }, { key: 'a', id: 1 }] }, assocRoot), /duplicate entries for key/);
  assert.throws(() => applyConfig({}, { list: [{ key: 'a', id: 1 }, { key: 'a', id: 1 }] }, assocRoot, new Map(), 'm', 'v1', false), /duplicate entries for key/);
  assert.throws(() => applyConfig({}, { list: [{ key: 'a' }] }, assocRoot, new Map(), 'm', 'v1', false), /omits key field "id"/);
});

test('path elements serialize as fieldsV1 keys and print as upstream paths', () => {
  const key = deserializePathElement('k:{"protocol":"TCP","containerPort":80}');
  assert.equal(serializePathElement(key), 'k:{"containerPort":80,"protocol":"TCP"}', 'key fields sorted by name');
  assert.equal(serializePathElement({ value: 'a' }), 'v:"a"');
  assert.equal(serializePathElement({ index: 3 }), 'i:3');
  assert.equal(pathString([{ field: 'spec' }, { field: 'containers' }, { key: [['name', 'web']] }, { field: 'image' }]), '.spec.containers[name="web"].image');
  assert.equal(pathString([{ field: 'finalizers' }, { value: 'x' }]), '.finalizers[="x"]');
  assert.throws(() => deserializePathElement('x:1'), /unknown path element type/);
  assert.throws(() => deserializePathElement('f'), /missing colon/);
});

test('field sets: fieldsV1 round trip with "." members, sorted as upstream', () => {
  const fv = { 'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } }, 'f:spec': { 'f:containers': { 'k:{"name":"a"}': { '.': {}, 'f:image': {} } }, 'f:replicas': {} } };
  const s = FieldSet.fromFieldsV1(fv);
  assert.ok(s.has(makePath('metadata', 'labels')));
  assert.ok(s.has(makePath('metadata', 'labels', 'app')));
  assert.ok(!s.has(makePath('metadata')));
  assert.deepEqual(s.toFieldsV1(), fv);
  // Members sort field names before keys before values (PathElement.Compare).
  const mixed = FieldSet.of([{ value: 'b' }], [{ key: [['k', 'x']] }], [{ field: 'z' }], [{ value: 'a' }]);
  assert.deepEqual(Object.keys(mixed.toFieldsV1()), ['f:z', 'k:{"k":"x"}', 'v:"a"', 'v:"b"']);
});

test('field sets: difference keeps a parent minus its child; recursive difference drops the subtree', () => {
  const parent = FieldSet.of(makePath('a'), makePath('a', 'b'));
  const child = FieldSet.of(makePath('a', 'b'));
  assert.deepEqual(parent.difference(child).paths(), [makePath('a')]);
  assert.deepEqual(FieldSet.of(makePath('a', 'b', 'c')).difference(FieldSet.of(makePath('a'))).paths(), [makePath('a', 'b', 'c')]);
  assert.ok(FieldSet.of(makePath('a', 'b', 'c')).recursiveDifference(FieldSet.of(makePath('a', 'b'))).empty());
  assert.deepEqual(FieldSet.of(makePath('a', 'x'), makePath('b')).intersection(FieldSet.of(makePath('a', 'x'))).paths(), [makePath('a', 'x')]);
});

test('toFieldSet: leaves, list items as members, atomic lists and selectors as one leaf, map keys', () => {
  const type = typeForKind('apps/v1', 'Deployment');
  const set = toFieldSet({
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'a' } },
      template: { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i', command: ['x', 'y'], ports: [{ containerPort: 80 }] }] } },
    },
  }, type);
  assert.deepEqual(set.toFieldsV1(), {
    'f:spec': {
      'f:replicas': {}, 'f:selector': {},
      'f:template': {
        'f:metadata': { 'f:labels': { 'f:app': {} } },
        'f:spec': { 'f:containers': { 'k:{"name":"c"}': { '.': {}, 'f:command': {}, 'f:image': {}, 'f:name': {}, 'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } } } } },
      },
    },
  });
});

test('compare: added, modified and removed fields; a new map is itself added, a struct is not', () => {
  const type = typeForKind('v1', 'ConfigMap');
  const c = compareValues({ data: { a: '1', b: '2' } }, { data: { a: '9', c: '3' }, metadata: { labels: { x: 'y' } } }, type);
  assert.deepEqual(c.modified.paths(), [makePath('data', 'a')]);
  assert.deepEqual(c.added.paths(), [makePath('data', 'c'), makePath('metadata', 'labels'), makePath('metadata', 'labels', 'x')]);
  assert.deepEqual(c.removed.paths(), [makePath('data', 'b')]);
});

test('removeItems: members go with their subtree; emptied maps go', () => {
  const type = typeForKind('v1', 'ConfigMap');
  assert.deepEqual(removeItems({ data: { a: '1', b: '2' }, metadata: { labels: { x: 'y' } } } as Json, FieldSet.of(makePath('data', 'a'), makePath('metadata', 'labels', 'x')), type), { data: { b: '2' } });
});

const cmType = typeForKind('v1', 'ConfigMap');
const cm = (data: Record<string, string>): Json => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });

test('apply: two appliers of the same value share a field; a different value conflicts; force takes it', () => {
  let managers: Managers = new Map();
  let obj: Json = {};
  ({ object: obj, managers } = applyConfig(obj, cm({ a: '1', b: '2' }), cmType, managers, 'one', 'v1', false));
  ({ object: obj, managers } = applyConfig(obj, cm({ a: '1' }), cmType, managers, 'two', 'v1', false));
  assert.ok(managers.get('one')!.set.has(makePath('data', 'a')) && managers.get('two')!.set.has(makePath('data', 'a')), 'shared');
  assert.throws(() => applyConfig(obj, cm({ a: '2' }), cmType, managers, 'two', 'v1', false), (err: unknown) => {
    assert.ok(err instanceof ConflictsError);
    assert.deepEqual(err.conflicts.map((c) => [c.manager, pathString(c.path)]), [['one', '.data.a']]);
    return true;
  });
  ({ object: obj, managers } = applyConfig(obj, cm({ a: '2' }), cmType, managers, 'two', 'v1', true));
  assert.equal((obj as any).data.a, '2');
  assert.ok(!managers.get('one')!.set.has(makePath('data', 'a')), 'force took it from "one"');
  assert.ok(managers.get('one')!.set.has(makePath('data', 'b')));
});

test('apply: a field dropped from the configuration is removed unless another manager owns it', () => {
  let managers: Managers = new Map();
  let obj: Json = {};
  ({ object: obj, managers } = applyConfig(obj, cm({ a: '1', b: '2', c: '3' }), cmType, managers, 'one', 'v1', false));
  ({ object: obj, managers } = applyConfig(obj, cm({ c: '3' }), cmType, managers, 'two', 'v1', false));
  ({ object: obj, managers } = applyConfig(obj, cm({ a: '1' }), cmType, managers, 'one', 'v1', false));
  assert.deepEqual((obj as any).data, { a: '1', c: '3' }, 'b pruned, c kept for "two"');
  // An Update owner keeps a field alive too.
  managers = updateManagers(obj, { ...(obj as any), data: { ...(obj as any).data, d: '4' } }, cmType, managers, 'editor', 'v1').managers;
  assert.ok(managers.get('editor')!.set.has(makePath('data', 'd')));
});

test('update: the writer takes what it changed, others lose it, removed fields leave everyone', () => {
  let managers: Managers = new Map();
  ({ managers } = applyConfig({}, cm({ a: '1', b: '2' }), cmType, managers, 'applier', 'v1', false));
  managers = updateManagers(cm({ a: '1', b: '2' }), cm({ a: '5' }), cmType, managers, 'editor', 'v1').managers;
  assert.deepEqual(managers.get('editor')!.set.toFieldsV1(), { 'f:data': { 'f:a': {} } });
  assert.deepEqual(managers.get('applier')!.set.toFieldsV1(), { 'f:apiVersion': {}, 'f:kind': {}, 'f:metadata': { 'f:name': {} } });
});
