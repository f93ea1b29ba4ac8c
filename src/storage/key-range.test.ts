import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pageStart, prefixEndBytes, prefixEndString } from './key-range.ts';

describe('key ranges', () => {
  it('bounds a prefix by bumping its last character', () => {
    assert.equal(prefixEndString('/registry/pods/'), '/registry/pods0');
    assert.equal(prefixEndString(''), undefined);
    const end = prefixEndString('/a\u{10FFFF}')!;
    assert.equal(end, '/b');
    for (const k of ['/a\u{10FFFF}', '/a\u{10FFFF}zzz']) assert.ok(k < end);
  });

  it('bounds a byte prefix the way etcd expects', () => {
    assert.deepEqual(prefixEndBytes(Buffer.from('/a/')), Buffer.from('/a0'));
    assert.deepEqual(prefixEndBytes(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
    assert.deepEqual(prefixEndBytes(Buffer.alloc(0)), Buffer.from([0]));
  });

  it('starts a page just after the last key, never before the prefix', () => {
    assert.equal(pageStart('/p/', undefined), '/p/');
    assert.equal(pageStart('/p/', '/p/k1'), '/p/k1\0');
    assert.equal(pageStart('/p/', '/a'), '/p/');
  });
});
