import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { aesCbc } from './aes-cbc.ts';
import { aesGcm } from './aes-gcm.ts';
import { secretbox } from './secretbox.ts';

const plain = Buffer.from('{"kind":"Secret","data":{"password":"aHVudGVyMg=="}}');
const KEY = '/registry/core/secrets/default/s';

for (const [name, make, overhead] of [['aescbc', aesCbc, 16], ['aesgcm', aesGcm, 12 + 16], ['secretbox', secretbox, 24 + 16]] as const) {
  test(`${name}: round trip, fresh randomness per seal, wrong key refused`, () => {
    const key = randomBytes(32);
    const c = make(key);
    const a = c.seal(plain, KEY);
    const b = c.seal(plain, KEY);
    assert.notDeepEqual(a, b, 'a random IV/nonce per value');
    assert.equal(a.includes(Buffer.from('password')), false, 'no clear text in the sealed value');
    if (name === 'aescbc') assert.equal(a.length, 16 + Math.ceil((plain.length + 1) / 16) * 16, 'IV ‖ padded blocks');
    else assert.equal(a.length, plain.length + overhead);
    assert.deepEqual(c.open(a, KEY), plain);
    // aescbc is not authenticated: another key gives garbage or bad padding, never the clear text.
    let other: Buffer | undefined;
    try { other = make(randomBytes(32)).open(a, KEY); } catch { /* refused */ }
    assert.notDeepEqual(other, plain);
    assert.throws(() => c.open(a.subarray(0, 8), KEY), /shorter than the required size/);
  });
}

test('aesgcm and secretbox detect tampering; aesgcm binds the value to its storage key', () => {
  for (const make of [aesGcm, secretbox]) {
    const c = make(randomBytes(32));
    const sealed = c.seal(plain, KEY);
    const bad = Buffer.from(sealed);
    bad[bad.length - 1] ^= 1;
    assert.throws(() => c.open(bad, KEY), /authentication failed/);
  }
  const gcm = aesGcm(randomBytes(16));
  assert.throws(() => gcm.open(gcm.seal(plain, KEY), '/registry/core/secrets/default/other'), /authentication failed/);
});

test('secretbox wants a 32-byte key', () => {
  assert.throws(() => secretbox(randomBytes(16)), /32 bytes/);
});
