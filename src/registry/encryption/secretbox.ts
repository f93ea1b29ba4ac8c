/**
 * The `secretbox` provider's cipher (apiserver's secretbox.NewSecretboxTransformer): NaCl secretbox
 * (XSalsa20-Poly1305, from @noble/ciphers) with a random 192-bit nonce, stored as
 * nonce ‖ tag ‖ ciphertext — the layout of Go's secretbox.Seal.
 */
import { randomBytes } from 'node:crypto';
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js';
import type { Cipher } from './value-transformer.ts';

const NONCE = 24;
const OVERHEAD = 16;

export function secretbox(key: Buffer): Cipher {
  if (key.length !== 32) throw new Error('secretbox keys are 32 bytes');
  const k = new Uint8Array(key);
  return {
    seal(plain) {
      const nonce = randomBytes(NONCE);
      return Buffer.concat([nonce, xsalsa20poly1305(k, new Uint8Array(nonce)).encrypt(new Uint8Array(plain))]);
    },
    open(sealed) {
      if (sealed.length < NONCE + OVERHEAD) throw new Error('the stored data was shorter than the required size');
      const nonce = new Uint8Array(sealed.subarray(0, NONCE));
      try {
        return Buffer.from(xsalsa20poly1305(k, nonce).decrypt(new Uint8Array(sealed.subarray(NONCE))));
      } catch {
        throw new Error('message authentication failed');
      }
    },
  };
}
