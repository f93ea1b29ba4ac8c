/**
 * The `aesgcm` provider's cipher (apiserver's aes.NewGCMTransformer): AES-GCM with a random 96-bit
 * nonce and the storage key as authenticated data (a value copied under another key does not
 * open), stored as nonce ‖ ciphertext ‖ tag. Random nonces wear a key out: rotate it every 200,000
 * writes, as Kubernetes' documentation says.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Cipher } from './value-transformer.ts';

const NONCE = 12;
const TAG = 16;

export function aesGcm(key: Buffer): Cipher {
  const algorithm = `aes-${key.length * 8}-gcm` as const;
  return {
    seal(plain, context) {
      const nonce = randomBytes(NONCE);
      const c = createCipheriv(algorithm as 'aes-256-gcm', key, nonce, { authTagLength: TAG });
      c.setAAD(Buffer.from(context, 'utf8'));
      return Buffer.concat([nonce, c.update(plain), c.final(), c.getAuthTag()]);
    },
    open(sealed, context) {
      if (sealed.length < NONCE + TAG) throw new Error('the stored data was shorter than the required size');
      const d = createDecipheriv(algorithm as 'aes-256-gcm', key, sealed.subarray(0, NONCE), { authTagLength: TAG });
      d.setAAD(Buffer.from(context, 'utf8'));
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      try {
        return Buffer.concat([d.update(sealed.subarray(NONCE, sealed.length - TAG)), d.final()]);
      } catch {
        throw new Error('message authentication failed');
      }
    },
  };
}
