import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clone } from './object.ts';

test('clone: a deep copy equal to structuredClone\'s, sharing nothing, "__proto__" kept as a key, non-plain values as structuredClone copies them', () => {
  const src = JSON.parse('{"a":{"b":[1,{"c":null}],"d":"x"},"__proto__":{"polluted":true},"e":[[],{}],"f":true,"g":1.5}');
  const out = clone(src);
  assert.deepEqual(out, structuredClone(src));
  assert.notEqual(out.a, src.a);
  assert.notEqual(out.a.b[1], src.a.b[1]);
  assert.equal(Object.getPrototypeOf(out), Object.prototype, 'the prototype is untouched');
  assert.deepEqual(Object.keys(out), ['a', '__proto__', 'e', 'f', 'g']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  const withUndefined = { x: undefined, y: [undefined, 1] };
  assert.deepEqual(clone(withUndefined), structuredClone(withUndefined));
  assert.ok('x' in clone(withUndefined));
  const when = new Date(0);
  const copied = clone({ when, m: new Map([[1, 2]]) });
  assert.ok(copied.when instanceof Date && copied.when.getTime() === 0 && copied.when !== when);
  assert.equal(copied.m.get(1), 2);
});
