import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFieldSelector, escapeFieldValue } from './field-selector.ts';
import { SelectorError } from './selector-error.ts';

const obj: Record<string, string> = { 'metadata.name': 'web', 'spec.nodeName': 'n1', 'status.phase': 'Running' };
const get = (f: string): string | undefined => obj[f];

test('empty selector', () => {
  const s = parseFieldSelector('');
  assert.equal(s.empty, true);
  assert.equal(s.matches(get), true);
  assert.equal(s.field('metadata.name'), undefined);
});

test('operators', () => {
  assert.equal(parseFieldSelector('metadata.name=web').matches(get), true);
  assert.equal(parseFieldSelector('metadata.name==web').matches(get), true);
  assert.equal(parseFieldSelector('metadata.name=db').matches(get), false);
  assert.equal(parseFieldSelector('metadata.name!=db').matches(get), true);
  assert.equal(parseFieldSelector('metadata.name!=web').matches(get), false);
  assert.deepEqual(parseFieldSelector('a!=b').requirements, [{ field: 'a', op: '!=', value: 'b' }]);
  assert.deepEqual(parseFieldSelector('a==b').requirements, [{ field: 'a', op: '==', value: 'b' }]);
});

test('undefined counts as the empty string', () => {
  assert.equal(parseFieldSelector('spec.missing=').matches(get), true);
  assert.equal(parseFieldSelector('spec.missing!=').matches(get), false);
  assert.equal(parseFieldSelector('spec.missing!=x').matches(get), true);
  assert.equal(parseFieldSelector('spec.nodeName=').matches(get), false);
});

test('several terms are ANDed; empty terms skipped', () => {
  const s = parseFieldSelector('metadata.name=web,status.phase!=Failed,,');
  assert.equal(s.requirements.length, 2);
  assert.equal(s.matches(get), true);
  assert.equal(parseFieldSelector('metadata.name=web,spec.nodeName=n2').matches(get), false);
});

test('field(): exact value wanted', () => {
  const s = parseFieldSelector('status.phase!=Failed,metadata.name=web');
  assert.equal(s.field('metadata.name'), 'web');
  assert.equal(s.field('status.phase'), undefined);
  assert.equal(parseFieldSelector('metadata.name==x').field('metadata.name'), 'x');
  assert.deepEqual(s.fields(), ['status.phase', 'metadata.name']);
});

test('backslash escapes', () => {
  const s = parseFieldSelector('a=x\\,y\\=z\\\\,b=2');
  assert.deepEqual(s.requirements, [
    { field: 'a', op: '=', value: 'x,y=z\\' },
    { field: 'b', op: '=', value: '2' },
  ]);
  assert.equal(s.toString(), 'a=x\\,y\\=z\\\\,b=2');
  assert.equal(escapeFieldValue('a,b=c\\'), 'a\\,b\\=c\\\\');
  // An escaped `=` in the field part is not an operator.
  assert.deepEqual(parseFieldSelector('a\\=b=c').requirements[0].value, 'c');
});

test('errors', () => {
  assert.throws(() => parseFieldSelector('metadata.name'), (e: unknown) =>
    e instanceof SelectorError && e.message === "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
  assert.throws(() => parseFieldSelector('a=b,c'), /can't understand 'c'/);
  assert.throws(() => parseFieldSelector('a=b\\x'), /invalid escape sequence: \\x/);
  assert.throws(() => parseFieldSelector('a=b\\'), /invalid escape sequence/);
  assert.throws(() => parseFieldSelector('a=b=c'), /unescaped character in value: =/);
  assert.throws(() => parseFieldSelector('=x'), SelectorError);
});

test('whitespace around the field name is tolerated', () => {
  assert.equal(parseFieldSelector(' metadata.name =web').matches(get), true);
});
