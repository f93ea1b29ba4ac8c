import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { decodeBase64, secretStrategy as s } from './secret.ts';

const sec = (extra: Partial<KubeObject>): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'd' }, ...extra });
const b64 = (v: string) => Buffer.from(v).toString('base64');

test('defaults: Opaque, stringData merged into data', () => {
  const o = sec({ data: { a: b64('old'), keep: b64('k') }, stringData: { a: 'new', b: 'two' } });
  s.defaults!(o);
  assert.equal(o.type, 'Opaque');
  assert.equal(o.stringData, undefined);
  assert.deepEqual(o.data, { a: b64('new'), keep: b64('k'), b: b64('two') });
  assert.deepEqual(s.validate!(o), []);
});

test('data must be base64 with valid keys', () => {
  assert.ok('bytes' in decodeBase64('aGVsbG8='));
  assert.ok('error' in decodeBase64('aGVsbG8'));
  assert.ok('error' in decodeBase64('aGV=sbG8'));
  const errs = s.validate!(sec({ type: 'Opaque', data: { ok: 'aGk=', bad: 'hello!', 'a/b': 'aGk=' } }));
  assert.deepEqual(errs.map((e) => e.field), ['data[bad]', 'data[a/b]']);
  assert.match(errs[0].message, /^Invalid value: "<secret contents redacted>": illegal base64 data at input byte 5$/);
});

test('type-specific required keys', () => {
  const f = (o: KubeObject) => s.validate!(o).map((e) => e.field);
  assert.deepEqual(f(sec({ type: 'kubernetes.io/dockerconfigjson', data: {} })), ['data[.dockerconfigjson]']);
  assert.deepEqual(f(sec({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{nope') } })), ['data[.dockerconfigjson]']);
  assert.deepEqual(f(sec({ type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('{"auths":{}}') } })), []);
  assert.deepEqual(f(sec({ type: 'kubernetes.io/tls', data: { 'tls.crt': '' } })), ['data[tls.key]']);
  assert.deepEqual(f(sec({ type: 'kubernetes.io/basic-auth', data: {} })), ['data[username]', 'data[password]']);
  assert.deepEqual(f(sec({ type: 'kubernetes.io/basic-auth', data: { username: '' } })), []);
  assert.deepEqual(f(sec({ type: 'kubernetes.io/ssh-auth', data: { 'ssh-privatekey': '' } })), ['data[ssh-privatekey]']);
  assert.deepEqual(f(sec({ type: 'kubernetes.io/service-account-token' })), ['metadata.annotations[kubernetes.io/service-account.name]']);
  assert.deepEqual(f(sec({ type: 'example.com/custom' })), []);
});

test('size limit and update rules', () => {
  const big = Buffer.alloc(1024 * 1024 + 1).toString('base64');
  assert.equal(s.validate!(sec({ data: { a: big } }))[0].type, 'FieldValueTooLong');
  const old = sec({ type: 'Opaque', immutable: true, data: { a: b64('1') } });
  const errs = s.validateUpdate!(sec({ type: 'kubernetes.io/tls', immutable: true, data: { a: b64('2'), 'tls.crt': '', 'tls.key': '' } }), old);
  assert.deepEqual(errs.map((e) => e.field), ['type', 'data']);
  assert.equal(errs[0].message, 'Invalid value: "kubernetes.io/tls": field is immutable');
});
