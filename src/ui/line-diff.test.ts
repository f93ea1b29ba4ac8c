import assert from 'node:assert/strict';
import { test } from 'node:test';
import { changedHunks, lineDiff } from './line-diff.ts';

test('a changed value is one removed and one added line among kept ones', () => {
  const d = lineDiff('a: 1\nb: 2\nc: 3', 'a: 1\nb: 5\nc: 3\nd: 4');
  assert.deepEqual(d.map((x) => x.op + x.text), [' a: 1', '-b: 2', '+b: 5', ' c: 3', '+d: 4']);
  assert.deepEqual(lineDiff('x', 'x').map((x) => x.op), [' ']);
});

test('hunks keep context around changes only', () => {
  const before = Array.from({ length: 20 }, (_, i) => `l${i}`).join('\n');
  const after = before.replace('l10', 'L10');
  const h = changedHunks(lineDiff(before, after), 1);
  assert.deepEqual(h.map((x) => x.op + x.text), [' l9', '-l10', '+L10', ' l11']);
});
