/**
 * The `aescbc` provider's cipher (apiserver's aes.NewCBCTransformer): AES in CBC mode with PKCS#7
 * padding and a random IV, stored as IV ‖ ciphertext. Not authenticated — Kubernetes keeps it for
 * compatibility and recommends secretbox or aesgcm; Berth does the same.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Cipher } from './value-transformer.ts';

const BLOCK = 16;

export function aesCbc(key: Buffer): Cipher {
  const algorithm = `aes-${key.length * 8}-cbc`;
  return {
    seal(plain) {
      const iv = randomBytes(BLOCK);
      const c = createCipheriv(algorithm, key, iv);
      return Buffer.concat([iv, c.update(plain), c.final()]);
    },
    open(sealed) {
      if (sealed.length < 2 * BLOCK) throw new Error('the stored data was shorter than the required size');
      if (sealed.length % BLOCK !== 0) throw new Error('the stored data is not a multiple of the block size');
      const d = createDecipheriv(algorithm, key, sealed.subarray(0, BLOCK));
      try {
        return Buffer.concat([d.update(sealed.subarray(BLOCK)), d.final()]);
      } catch {
        throw new Error('invalid PKCS7 data (empty or not padded)');
      }
    },
  };
}
