/**
 * KeyIndex (key-index.ts) against a plain sorted reference: random creates, updates and deletes
 * across prefixes, sized to split and empty blocks, with ranges and counts checked after every step.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KeyValue } from '../backend.ts';
import { KeyIndex } from './key-index.ts';

const PREFIXES = ['/registry/core/pods/', '/registry/core/pods/a/', '/registry/core/nodes/', '/registry/', '/registry/core/pods/b', '/x/', ''];

function reference(map: Map<string, KeyValue>, prefix: string): KeyValue[] {
  return [...map.keys()].filter((k) => k.startsWith(prefix)).sort().map((k) => map.get(k)!);
}

test('ranges and counts match a sorted reference through creates, updates and deletes', () => {
  const op = fc.record({
    kind: fc.constantFrom('put', 'put', 'put', 'remove'),
    dir: fc.constantFrom('/registry/core/pods/a/', '/registry/core/pods/b/', '/registry/core/nodes/'),
    n: fc.nat(1200),
    count: fc.integer({ min: 1, max: 400 }),
  });
  fc.assert(fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
    const index = new KeyIndex();
    const ref = new Map<string, KeyValue>();
    let rev = 0;
    for (const o of ops) {
      for (let j = 0; j < o.count; j++) {
        const key = `${o.dir}${String((o.n + j * 7) % 1500).padStart(4, '0')}`;
        if (o.kind === 'put') {
          const kv = { key, value: `{"r":${++rev}}`, createRevision: rev, modRevision: rev };
          index.put(kv);
          ref.set(key, kv);
        } else {
          index.remove(key);
          ref.delete(key);
        }
      }
      assert.equal(index.size, ref.size);
      for (const p of PREFIXES) {
        const want = reference(ref, p);
        assert.deepEqual(index.range(p), want, p);
        assert.equal(index.count(p), want.length, p);
      }
    }
  }), { numRuns: 60 });
});

test('a burst of 20,000 creates in store order, then deletes of every other key', () => {
  const index = new KeyIndex();
  for (let i = 0; i < 20_000; i++) index.put({ key: `/k/${String(i).padStart(6, '0')}`, value: '{}', createRevision: i + 1, modRevision: i + 1 });
  assert.equal(index.count('/k/'), 20_000);
  for (let i = 0; i < 20_000; i += 2) index.remove(`/k/${String(i).padStart(6, '0')}`);
  const left = index.range('/k/0199');
  assert.deepEqual(left.map((kv) => kv.key), Array.from({ length: 50 }, (_, j) => `/k/0199${String(2 * j + 1).padStart(2, '0')}`));
  assert.equal(index.count(''), 10_000);
  index.clear();
  assert.deepEqual(index.range(''), []);
});
