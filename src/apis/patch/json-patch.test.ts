import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyJsonPatch } from './json-patch.ts';
import { applyMergePatch } from './merge-patch.ts';
import { PatchError } from './patch-error.ts';

const doc = () => ({ metadata: { name: 'x', annotations: { 'a/b': '1', 'c~d': '2' } }, spec: { list: [1, 2, 3] } });

test('add, remove, replace, with "-" index and ~0 ~1 escapes', () => {
  const out = applyJsonPatch(doc(), [
    { op: 'add', path: '/spec/list/-', value: 4 },
    { op: 'add', path: '/spec/list/0', value: 0 },
    { op: 'remove', path: '/metadata/annotations/a~1b' },
    { op: 'replace', path: '/metadata/annotations/c~0d', value: 'z' },
    { op: 'add', path: '/spec/new', value: { k: 1 } },
  ]);
  assert.deepEqual(out, { metadata: { name: 'x', annotations: { 'c~d': 'z' } }, spec: { list: [0, 1, 2, 3, 4], new: { k: 1 } } });
});

test('move, copy and test; the original is untouched', () => {
  const original = doc();
  const out = applyJsonPatch(original, [
    { op: 'test', path: '/metadata/name', value: 'x' },
    { op: 'copy', from: '/spec/list', path: '/spec/copy' },
    { op: 'move', from: '/metadata/name', path: '/spec/name' },
  ]);
  assert.deepEqual(out.spec, { list: [1, 2, 3], copy: [1, 2, 3], name: 'x' });
  assert.equal('name' in out.metadata, false);
  assert.deepEqual(original, doc());
});

test('errors are PatchErrors with codes', () => {
  const fails = (patch: unknown, code: number, re: RegExp) =>
    assert.throws(() => applyJsonPatch(doc(), patch), (e: unknown) => e instanceof PatchError && e.code === code && re.test(e.message));
  fails([{ op: 'test', path: '/metadata/name', value: 'y' }], 422, /test failed/);
  fails([{ op: 'remove', path: '/spec/missing' }], 422, /nonexistent/);
  fails([{ op: 'replace', path: '/nope/x', value: 1 }], 422, /missing path/);
  fails([{ op: 'add', path: '/spec/list/7', value: 1 }], 422, /out of bounds/);
  fails([{ op: 'frob', path: '/x' }], 400, /unexpected kind/);
  fails({ op: 'add' }, 400, /array/);
  fails([{ op: 'add', path: 'spec' , value: 1 }], 400, /pointer/);
  // Atomic: a failing later op leaves nothing applied (the result is never returned).
});

test('merge patch: null deletes, objects merge, arrays replace', () => {
  const out = applyMergePatch(doc(), { metadata: { annotations: { 'a/b': null, n: 'v' } }, spec: { list: [9] } });
  assert.deepEqual(out, { metadata: { name: 'x', annotations: { 'c~d': '2', n: 'v' } }, spec: { list: [9] } });
  assert.deepEqual(applyMergePatch({ a: 1 }, { a: { b: null, c: 2 } }), { a: { c: 2 } });
});
