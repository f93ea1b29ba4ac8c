/**
 * Stored values of one resource through its encryption providers, in order (apiserver's
 * value.PrefixTransformers): the first provider writes; any provider reads the values it wrote,
 * recognized by its prefix `k8s:enc:<provider>:v1:<key name>:`. `identity` writes plain JSON and
 * reads what has no such prefix. A value read with any provider but the first is *stale*: the next
 * write stores it again with the first, even unchanged (what `kubectl replace` relies on to
 * re-encrypt after a key rotation).
 *
 * Berth's values are text (SQLite TEXT, etcd values read as UTF-8), so the sealed bytes after the
 * prefix are base64, where kube-apiserver stores them raw.
 */

/** One key of one provider: seals and opens bytes; `context` (the storage key) is authenticated data where the cipher supports it. */
export interface Cipher {
  seal(plain: Buffer, context: string): Buffer;
  open(sealed: Buffer, context: string): Buffer;
}

/** A provider's key as configured: the prefix it owns and its cipher. `cipher` undefined: identity. */
export interface ProviderKey {
  /** `aescbc`, `aesgcm`, `secretbox`, `identity`. */
  provider: string;
  /** The key's name (empty for identity). */
  name: string;
  cipher?: Cipher;
}

export const ENCRYPTED_PREFIX = 'k8s:enc:';

export function keyPrefix(k: ProviderKey): string {
  return k.cipher ? `${ENCRYPTED_PREFIX}${k.provider}:v1:${k.name}:` : '';
}

/** Why a stored value could not be read; never carries the value. */
export class TransformError extends Error {}

export interface ReadResult {
  value: string;
  /** Read by a provider other than the writing one. */
  stale: boolean;
}

export class ValueTransformer {
  private readonly prefixes: { prefix: string; key: ProviderKey }[];

  /** `keys`: every key of every provider, in configuration order; the first writes. */
  constructor(readonly keys: readonly ProviderKey[]) {
    if (!keys.length) throw new Error('an encryption transformer needs at least one provider');
    this.prefixes = keys.map((key) => ({ prefix: keyPrefix(key), key }));
  }

  /** The provider and key that writes, e.g. `aescbc:key1` or `identity`. */
  get writer(): string {
    const k = this.keys[0];
    return k.cipher ? `${k.provider}:${k.name}` : k.provider;
  }

  toStorage(plain: string, storageKey: string): string {
    const { prefix, key } = this.prefixes[0];
    if (!key.cipher) return plain;
    return prefix + key.cipher.seal(Buffer.from(plain, 'utf8'), storageKey).toString('base64');
  }

  fromStorage(stored: string, storageKey: string): ReadResult {
    if (!stored.startsWith(ENCRYPTED_PREFIX)) {
      const identity = this.prefixes.findIndex((p) => !p.key.cipher);
      if (identity < 0) throw new TransformError(`${storageKey}: the stored value is not encrypted and the identity provider is not configured for this resource`);
      return { value: stored, stale: identity !== 0 };
    }
    const errors: string[] = [];
    for (let i = 0; i < this.prefixes.length; i++) {
      const { prefix, key } = this.prefixes[i];
      if (!key.cipher || !stored.startsWith(prefix)) continue;
      try {
        const plain = key.cipher.open(Buffer.from(stored.slice(prefix.length), 'base64'), storageKey);
        return { value: plain.toString('utf8'), stale: i !== 0 };
      } catch (err) {
        errors.push(`${key.provider} key ${JSON.stringify(key.name)}: ${(err as Error).message}`);
      }
    }
    if (errors.length) throw new TransformError(`${storageKey}: cannot decrypt (${errors.join('; ')})`);
    const header = /^k8s:enc:[^:]{0,32}:v1:[^:]{0,64}:/.exec(stored)?.[0] ?? ENCRYPTED_PREFIX;
    throw new TransformError(`${storageKey}: no configured key reads values prefixed ${JSON.stringify(header)}`);
  }
}
