/**
 * The cluster's shared secrets in the store, so every `berth server` on one etcd uses the same CA
 * and ServiceAccount signing key (k3s: servers joining a datastore read the cluster's bootstrap data
 * — CA, service-account key — from it; kubeadm instead copies /etc/kubernetes/pki by hand or with
 * `--upload-certs`).
 *
 *   start ─▶ store has /berth/cluster-pki? ── yes ─▶ DATA/pki/ca.*, sa.* written from it (the local
 *        │                                            CA must be absent or the same: else refuse)
 *        └─ no ─▶ ensureClusterPki (creates or keeps the local CA) ─▶ create /berth/cluster-pki
 *                    lost the race to another server ─▶ take its CA if ours is brand new, else refuse
 *
 * Then ensureClusterPki issues this server's own leaves (serving certificate for its addresses,
 * admin and kubelet-client certificates) from the shared CA, so a node's or kubectl's trust in the
 * CA works against every server, as does every ServiceAccount token.
 *
 * Why the store and not a join flag: the servers of one cluster already share it, nothing else is
 * to copy or to keep in step, and a second server needs no other server up when it starts. The key
 * is outside /registry/, so no API resource, list or watch ever shows it, and its secrets (CA key,
 * ServiceAccount key) are sealed with the server token (cluster-pki-seal.ts): the first server
 * makes one (DATA/server-token) unless given `--server-token-file`; every other server of the
 * cluster is given a copy, as k3s's servers are given its `--token`. A store written before the
 * seal existed is sealed by the next server that starts on it.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyExistsError, type Backend } from '../storage/backend.ts';
import type { Logger } from '../util/log.ts';
import { ensureClusterPki, type ClusterPki, type ClusterPkiOptions } from './cluster-pki.ts';
import { newServerToken, parseStored, readServerToken, seal, SERVER_TOKEN_FILE, SHARED_FILES, writeServerToken, type SharedPki } from './cluster-pki-seal.ts';

/** The store key of the shared secrets (outside every API resource's prefix). */
export const CLUSTER_PKI_KEY = '/berth/cluster-pki';

function readLocal(dir: string): Partial<SharedPki> {
  const out: Partial<SharedPki> = {};
  for (const [name] of SHARED_FILES) {
    const p = join(dir, name);
    if (existsSync(p)) out[name] = readFileSync(p, 'utf8');
  }
  return out;
}

function writeLocal(dir: string, shared: SharedPki): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [name, mode] of SHARED_FILES) {
    const p = join(dir, name);
    writeFileSync(`${p}.tmp`, shared[name], { mode });
    renameSync(`${p}.tmp`, p);
  }
}

/** The local CA differs from the cluster's: say which and how to resolve it. */
function mismatch(dir: string): Error {
  return new Error(`this server's CA (${join(dir, 'ca.crt')}) is not the cluster's: the store already holds another cluster CA `
    + `(created by the first server on it). Every server of a cluster must share one CA — to join this server, move ${dir} away `
    + '(it will take the cluster\'s CA and ServiceAccount key from the store and issue its own certificates from them)');
}

/**
 * The cluster PKI for a server on `store`: shared CA and ServiceAccount key from the store (published
 * by the first server, sealed with the server token), this server's leaves issued locally. See the
 * file comment. `serverToken`: given with --server-token-file; else DATA/server-token's.
 */
export async function ensureSharedClusterPki(store: Backend, opts: ClusterPkiOptions & { serverToken?: string }, log: Logger): Promise<ClusterPki & { renewed: string[] }> {
  const dir = join(opts.dataDir, 'pki');
  const given = opts.serverToken?.trim() || readServerToken(opts.dataDir);
  const open = (value: string): { shared: SharedPki; token?: string } => {
    const stored = parseStored(value, CLUSTER_PKI_KEY);
    if (!stored.sealed) return { shared: stored.shared };
    if (!given) {
      throw new Error(`the cluster's CA and ServiceAccount keys in the store (${CLUSTER_PKI_KEY}) are sealed with its server token: give this server `
        + `--server-token-file with a copy of the first server's ${join('DATA', SERVER_TOKEN_FILE)}`);
    }
    return { shared: stored.open(given), token: given };
  };
  const adopt = async (shared: SharedPki, token: string | undefined, replacing: boolean) => {
    const local = readLocal(dir);
    if (local['ca.crt'] && local['ca.crt'] !== shared['ca.crt'] && !replacing) throw mismatch(dir);
    if (SHARED_FILES.some(([name]) => local[name] !== shared[name])) {
      writeLocal(dir, shared);
      log.info('cluster CA and ServiceAccount key taken from the store', { key: CLUSTER_PKI_KEY });
    }
    if (token) writeServerToken(opts.dataDir, token);
    return ensureClusterPki(opts);
  };
  const existing = await store.get(CLUSTER_PKI_KEY);
  if (existing) {
    const { shared, token } = open(existing.value);
    if (token) return adopt(shared, token, false);
    // Written before the seal existed: this server seals it (another one doing so at the same moment wins).
    const sealWith = given ?? newServerToken();
    const pki = await adopt(shared, undefined, false);
    try {
      await store.update(CLUSTER_PKI_KEY, seal(shared, sealWith), existing.modRevision);
      writeServerToken(opts.dataDir, sealWith);
      log.warn(`the cluster's CA and ServiceAccount keys in the store are now sealed with the server token: every other server of the cluster needs a copy of ${join(opts.dataDir, SERVER_TOKEN_FILE)} (--server-token-file)`);
    } catch (err) {
      // Most likely another server sealed it first (its token then opens it; this one's next start asks for it).
      log.warn('the cluster PKI in the store was not sealed by this server: left as it is', { key: CLUSTER_PKI_KEY, error: (err as Error).message });
    }
    return pki;
  }
  const hadCA = existsSync(join(dir, 'ca.crt'));
  const token = given ?? newServerToken();
  const pki = await ensureClusterPki(opts);
  const mine = readLocal(dir) as SharedPki;
  try {
    await store.create(CLUSTER_PKI_KEY, seal(mine, token));
    writeServerToken(opts.dataDir, token);
    log.info('cluster CA and ServiceAccount key published to the store for other servers, sealed with the server token', { key: CLUSTER_PKI_KEY, serverToken: join(opts.dataDir, SERVER_TOKEN_FILE) });
    return pki;
  } catch (err) {
    if (!(err instanceof KeyExistsError)) throw err;
    // Another server started at the same moment and published first: a CA made a moment ago
    // by this call is given up for the cluster's; one that was here before is a real conflict.
    const winner = await store.get(CLUSTER_PKI_KEY);
    if (!winner) throw err;
    const opened = open(winner.value);
    return adopt(opened.shared, opened.token ?? token, !hadCA);
  }
}
