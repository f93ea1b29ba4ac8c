import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { configmapStrategy as s } from './configmap.ts';

const cm = (extra: Partial<KubeObject>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'd' }, ...extra });

test('valid config map passes', () => {
  assert.deepEqual(s.validate!(cm({ data: { 'app.properties': 'a=1', KEY_2: 'x' }, binaryData: { 'logo.png': 'iVBORw0KGgo=' } })), []);
});

test('bad keys, duplicate across data/binaryData, bad base64', () => {
  const errs = s.validate!(cm({ data: { 'a b': 'x', k: 'v', '..x': 'y' }, binaryData: { k: 'AAAA', bin: 'not base64!' } }));
  const byField = Object.fromEntries(errs.map((e) => [e.field, e]));
  assert.match(byField['data[a b]'].message, /a valid config key must consist of alphanumeric characters/);
  assert.match(byField['data[..x]'].message, /must not start with '\.\.'/);
  assert.equal(byField['binaryData[k]'].message, 'Invalid value: "k": duplicate of key present in data');
  assert.match(byField['binaryData[bin]'].message, /illegal base64 data at input byte 3/);
  assert.match(s.validate!(cm({ data: { ['k'.repeat(254)]: '' } }))[0].message, /must be no more than 253 characters/);
});

test('total size at most 1 MiB', () => {
  const errs = s.validate!(cm({ data: { a: 'x'.repeat(600 * 1024), b: 'y'.repeat(500 * 1024) } }));
  assert.equal(errs.length, 1);
  assert.equal(errs[0].type, 'FieldValueTooLong');
  assert.deepEqual(s.validate!(cm({ data: { a: 'x'.repeat(1024 * 1024) } })), []);
});

test('immutable config maps keep their data', () => {
  const old = cm({ immutable: true, data: { a: '1' } });
  assert.deepEqual(s.validateUpdate!(cm({ immutable: true, data: { a: '1' }, metadata: { name: 'c', namespace: 'd', labels: { x: 'y' } } }), old), []);
  const errs = s.validateUpdate!(cm({ immutable: true, data: { a: '2' } }), old);
  assert.deepEqual(errs.map((e) => e.field), ['data']);
  assert.equal(errs[0].message, 'Forbidden: field is immutable when `immutable` is set');
  assert.deepEqual(s.validateUpdate!(cm({ data: { a: '1' } }), old).map((e) => e.field), ['immutable']);
  assert.deepEqual(s.validateUpdate!(cm({ data: { a: '2' } }), cm({ data: { a: '1' } })), []);
});
