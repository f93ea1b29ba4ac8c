/**
 * encodedWithResourceVersion (object-codec.ts) gives what decode + JSON.stringify gives, for any
 * object encodeObject stores, up to the place of metadata.resourceVersion (first in metadata on the
 * fast path, last as decode puts it otherwise) — checked byte for byte once that key is moved, on
 * generated objects (quotes, backslashes, braces in strings, lone surrogates, integer-like keys,
 * empty and nested metadata, "resourceVersion" elsewhere) — and declines (undefined) whatever it
 * cannot vouch for.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KubeObject } from '../apis/object.ts';
import { decodeObject, encodeObject, encodedWithResourceVersion } from './object-codec.ts';

const slow = (value: string, rev: number): string => JSON.stringify(decodeObject({ key: '/k', value, createRevision: 1, modRevision: rev }));

/** `json` with metadata.resourceVersion moved last in metadata, where decodeObject puts it (other keys keep their order). */
export function rvLast(json: string): string {
  const o = JSON.parse(json) as { metadata?: Record<string, unknown> };
  if (o.metadata && typeof o.metadata === 'object' && 'resourceVersion' in o.metadata) {
    const { resourceVersion, ...rest } = o.metadata;
    o.metadata = { ...rest, resourceVersion };
  }
  return JSON.stringify(o);
}

/** Strings with the characters a scanner could trip on, lone surrogates included. */
const nasty = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', '\\"', '\n', '\u0000', '\ud800', '\udc00', 'é', '😀'), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })), maxLength: 12 });
const key = fc.oneof(nasty, fc.nat(30).map(String), fc.constantFrom('metadata', 'resourceVersion', 'spec'));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, nasty, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer(), fc.boolean(), fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }), fc.dictionary(key, tie('value'), { maxKeys: 4 })),
})).value;

test('the splice is what decode + encode gives, for generated objects', () => {
  fc.assert(fc.property(
    fc.dictionary(key, json, { maxKeys: 3 }), fc.dictionary(key, json, { maxKeys: 6 }), fc.dictionary(key, json, { maxKeys: 3 }), fc.nat(),
    (before, meta, after, rev) => {
      delete before.metadata;
      delete after.metadata;
      delete meta.resourceVersion;
      const obj = { apiVersion: 'v1', kind: 'Thing', ...before, metadata: meta, ...after } as unknown as KubeObject;
      const stored = encodeObject(obj);
      const fast = encodedWithResourceVersion(stored, rev);
      assert.ok(fast !== undefined, stored);
      // Same length: no key twice; the same bytes once resourceVersion is where decode puts it.
      assert.equal(fast.length, slow(stored, rev).length);
      assert.equal(rvLast(fast), slow(stored, rev));
      // First in metadata (the fast path) whenever the text is nowhere in the value; else first or last.
      const first = fast.includes(`"metadata":{"resourceVersion":"${rev}"`);
      if (!stored.includes('"resourceVersion"')) assert.ok(first, fast);
      else assert.ok(first || fast === slow(stored, rev), fast);
    },
  ), { numRuns: 2000 });
});

test('a typical Pod: resourceVersion lands first in metadata, the rest of the bytes as stored', () => {
  const pod = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'p', namespace: 'x', labels: { app: 'a"}' }, annotations: { 'x/y': '{"metadata":{}}' }, managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': { 'f:containers': { 'k:{"name":"c"}': {} } } } }] },
    spec: { containers: [{ name: 'c', image: 'busybox' }] }, status: { phase: 'Pending' },
  } as KubeObject;
  const stored = encodeObject(pod);
  const fast = encodedWithResourceVersion(stored, 42)!;
  assert.equal(fast, stored.replace('"metadata":{', '"metadata":{"resourceVersion":"42",'));
  assert.equal(rvLast(fast), slow(stored, 42));
  assert.equal(encodedWithResourceVersion('{"apiVersion":"v1","kind":"X","metadata":{}}', 7), '{"apiVersion":"v1","kind":"X","metadata":{"resourceVersion":"7"}}');
});

test('"resourceVersion" anywhere in the value: the walk, and the field last in metadata, as decode + encode', () => {
  const ev = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e', managedFields: [{ fieldsV1: { 'f:x': {} } }] }, involvedObject: { kind: 'Pod', name: 'p', resourceVersion: '9' } } as unknown as KubeObject;
  const stored = encodeObject(ev);
  assert.equal(encodedWithResourceVersion(stored, 42), slow(stored, 42));
  assert.ok(encodedWithResourceVersion(stored, 42)!.includes('}}}],"resourceVersion":"42"},"involvedObject":'));
});

test('declines what it cannot vouch for: the caller decodes', () => {
  for (const value of [
    'k8s:enc:aescbc:v1:key1:\u0000\u0001binary', // sealed: the encrypting backend did not open it
    '{"apiVersion":"v1","kind":"X"}', // no metadata
    '{"apiVersion":"v1","kind":"X","metadata":null}',
    '{"apiVersion":"v1","kind":"X","metadata":["a"]}',
    '{"apiVersion":"v1","kind":"X","metadata":{"name":"a","resourceVersion":"3"}}', // a stored resourceVersion
    '{"apiVersion":"v1", "kind":"X","metadata":{}}', // not JSON.stringify's output
    '{"apiVersion":"v1","kind":"X","metadata":{"name":"a"',
    '{"apiVersion":"v1","kind":"X","metadata":{"name":"a\\"},"resourceVersion":1}', // broken: the walk reads it
    '{"apiVersion":"v1","kind":"X","metadata":{,"name":"a"}}',
    '[]',
    '',
  ]) assert.equal(encodedWithResourceVersion(value, 5), undefined, value);
});

test('isPlainJson: JSON\'s own values only, so a JSON round trip gives the value back as it is', async () => {
  const { isPlainJson } = await import('./object-codec.ts');
  for (const v of [null, 'a', 0, 1.5, true, [], {}, [1, 'x', null, { a: [true] }], Object.create(null), JSON.parse('{"__proto__":1}')]) {
    assert.equal(isPlainJson(v), true, JSON.stringify(v));
  }
  const sparse: unknown[] = [1];
  sparse[2] = 3;
  class K { a = 1; }
  for (const v of [undefined, { a: undefined }, [undefined], NaN, Infinity, -0, 1n, () => 1, new Date(0), sparse, new K(), { [Symbol('s')]: 1 }, { a: { b: new Map() } }]) {
    assert.equal(isPlainJson(v), false, String(v));
  }
});
