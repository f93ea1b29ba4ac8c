import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { aesCbc } from './aes-cbc.ts';
import { secretbox } from './secretbox.ts';
import { TransformError, ValueTransformer, type ProviderKey } from './value-transformer.ts';

const KEY = '/registry/core/secrets/ns/s';
const json = '{"data":{"password":"aHVudGVyMg=="}}';
const cbc = (name: string, key = randomBytes(32)): ProviderKey => ({ provider: 'aescbc', name, cipher: aesCbc(key) });
const identity: ProviderKey = { provider: 'identity', name: '' };

test('the first provider writes with its prefix; base64 after it', () => {
  const t = new ValueTransformer([cbc('key1'), identity]);
  const stored = t.toStorage(json, KEY);
  assert.match(stored, /^k8s:enc:aescbc:v1:key1:[A-Za-z0-9+/]+=*$/);
  assert.deepEqual(t.fromStorage(stored, KEY), { value: json, stale: false });
  assert.equal(t.writer, 'aescbc:key1');
  assert.equal(new ValueTransformer([identity, cbc('k')]).toStorage(json, KEY), json, 'identity first writes clear text');
});

test('rotation: a new key first still reads the old key\'s values, marked stale; identity reads clear text', () => {
  const oldKey = randomBytes(32);
  const before = new ValueTransformer([cbc('key1', oldKey), identity]);
  const oldValue = before.toStorage(json, KEY);
  const after = new ValueTransformer([{ provider: 'secretbox', name: 'key2', cipher: secretbox(randomBytes(32)) }, cbc('key1', oldKey), identity]);
  assert.deepEqual(after.fromStorage(oldValue, KEY), { value: json, stale: true });
  assert.match(after.toStorage(json, KEY), /^k8s:enc:secretbox:v1:key2:/);
  assert.deepEqual(after.fromStorage(json, KEY), { value: json, stale: true }, 'clear text from before encryption');
  assert.deepEqual(new ValueTransformer([identity]).fromStorage(json, KEY), { value: json, stale: false });
});

test('unreadable values: clear errors that never quote the value', () => {
  // secretbox for the wrong key: aescbc is not authenticated, and 1 in 256 wrong keys yields valid padding.
  const box = (name: string): ProviderKey => ({ provider: 'secretbox', name, cipher: secretbox(randomBytes(32)) });
  const t = new ValueTransformer([box('key1')]);
  const stranger = new ValueTransformer([cbc('key9')]).toStorage(json, KEY);
  const wrongKey = new ValueTransformer([box('key1')]).toStorage(json, KEY);
  const cases: [string, RegExp][] = [
    [json, /not encrypted and the identity provider is not configured/],
    [stranger, /no configured key reads values prefixed "k8s:enc:aescbc:v1:key9:"/],
    [wrongKey, /cannot decrypt \(secretbox key "key1": message authentication failed\)/],
  ];
  for (const [stored, why] of cases) {
    assert.throws(() => t.fromStorage(stored, KEY), (e: Error) => {
      assert.ok(e instanceof TransformError);
      assert.match(e.message, why);
      assert.ok(e.message.startsWith(KEY));
      assert.equal(e.message.includes('aHVudGVyMg'), false);
      return true;
    });
  }
});
