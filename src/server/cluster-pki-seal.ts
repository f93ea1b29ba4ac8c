/**
 * The cluster's shared secrets as the store keeps them: sealed with the server token, as k3s
 * encrypts its bootstrap data in the datastore with a key derived from its `--token`. Whoever
 * reads etcd (a backup, a snapshot, a disk) then reads every Secret not encrypted at rest, but not
 * the CA key: the key that would let them mint credentials for any user or node. The certificates
 * (public) stay readable, so a server without the token can still say which cluster the store is.
 *
 *   server token (DATA/server-token, or --server-token-file) ─▶ scrypt(token, salt) ─▶ AES-256-GCM
 *   { "ca.crt", "sa.pub" in clear, "sealed": { salt, iv, tag, data: ca.key + sa.key } }
 *
 * scrypt (Node's crypto, no dependency) makes each guess of a weak token cost ~50 ms of CPU and
 * 64 MiB; a generated token is 32 random bytes, out of reach of guessing anyway.
 */
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The files that must be the same on every server of a cluster (DATA/pki/…), with their modes. */
export const SHARED_FILES = [['ca.crt', 0o644], ['ca.key', 0o600], ['sa.key', 0o600], ['sa.pub', 0o644]] as const;
export type SharedPki = Record<(typeof SHARED_FILES)[number][0], string>;
const SECRET_FILES = ['ca.key', 'sa.key'] as const;

/** Where a server keeps the token its cluster's shared secrets are sealed with. */
export const SERVER_TOKEN_FILE = 'server-token';

const KDF = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 2 ** 20 };
const AAD = Buffer.from('berth cluster-pki v2');

interface Sealed { kdf: 'scrypt'; salt: string; iv: string; tag: string; data: string }
interface StoredPki { 'ca.crt': string; 'sa.pub': string; sealed: Sealed }

/** What the store holds: sealed (needs the token) or, as written before sealing existed, in clear. */
export type StoredValue = { sealed: true; caCert: string; open(token: string): SharedPki } | { sealed: false; shared: SharedPki };

const b64 = (b: Buffer) => b.toString('base64');
const key = (token: string, salt: Buffer) => scryptSync(token, salt, 32, KDF);

export function seal(shared: SharedPki, token: string): string {
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key(token, salt), iv);
  cipher.setAAD(AAD);
  const plain = JSON.stringify(Object.fromEntries(SECRET_FILES.map((f) => [f, shared[f]])));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  const stored: StoredPki = { 'ca.crt': shared['ca.crt'], 'sa.pub': shared['sa.pub'], sealed: { kdf: 'scrypt', salt: b64(salt), iv: b64(iv), tag: b64(cipher.getAuthTag()), data: b64(data) } };
  return JSON.stringify(stored);
}

/** Parses the store's value; `where` names the key in errors. */
export function parseStored(value: string, where: string): StoredValue {
  const v = JSON.parse(value) as Partial<SharedPki> & { sealed?: Partial<Sealed> };
  const need = (names: readonly string[]) => {
    for (const n of names) if (typeof (v as Record<string, unknown>)[n] !== 'string') throw new Error(`the cluster PKI in the store (${where}) lacks ${n}`);
  };
  if (!v.sealed) {
    need(SHARED_FILES.map(([n]) => n));
    return { sealed: false, shared: v as SharedPki };
  }
  need(['ca.crt', 'sa.pub']);
  const s = v.sealed;
  for (const n of ['salt', 'iv', 'tag', 'data'] as const) if (typeof s[n] !== 'string') throw new Error(`the cluster PKI in the store (${where}) is sealed but lacks sealed.${n}`);
  return {
    sealed: true,
    caCert: v['ca.crt']!,
    open(token: string): SharedPki {
      let secrets: Record<string, string>;
      try {
        const decipher = createDecipheriv('aes-256-gcm', key(token, Buffer.from(s.salt!, 'base64')), Buffer.from(s.iv!, 'base64'));
        decipher.setAAD(AAD);
        decipher.setAuthTag(Buffer.from(s.tag!, 'base64'));
        secrets = JSON.parse(Buffer.concat([decipher.update(Buffer.from(s.data!, 'base64')), decipher.final()]).toString('utf8'));
      } catch {
        throw new Error(`the server token does not open the cluster PKI in the store (${where}): it is not the token of the server that published it `
          + '(its DATA/server-token)');
      }
      return { 'ca.crt': v['ca.crt']!, 'sa.pub': v['sa.pub']!, 'ca.key': secrets['ca.key'], 'sa.key': secrets['sa.key'] };
    },
  };
}

/** A new server token: 32 random bytes, base64url. */
export function newServerToken(): string {
  return randomBytes(32).toString('base64url');
}

/** DATA/server-token's token, or undefined. */
export function readServerToken(dataDir: string): string | undefined {
  const p = join(dataDir, SERVER_TOKEN_FILE);
  return existsSync(p) ? readFileSync(p, 'utf8').trim() || undefined : undefined;
}

export function writeServerToken(dataDir: string, token: string): void {
  const p = join(dataDir, SERVER_TOKEN_FILE);
  if (readServerToken(dataDir) === token) return;
  writeFileSync(`${p}.tmp`, `${token}\n`, { mode: 0o600 });
  renameSync(`${p}.tmp`, p);
}
