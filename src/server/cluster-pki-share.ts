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
 * is outside /registry/, so no API resource, list or watch ever shows it. Whoever reads etcd reads
 * the CA key — but whoever reads etcd already reads every Secret: etcd must be reachable only by
 * the servers (as in Kubernetes).
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KeyExistsError, type Backend } from '../storage/backend.ts';
import type { Logger } from '../util/log.ts';
import { ensureClusterPki, type ClusterPki, type ClusterPkiOptions } from './cluster-pki.ts';

/** The store key of the shared secrets (outside every API resource's prefix). */
export const CLUSTER_PKI_KEY = '/berth/cluster-pki';

/** The files that must be the same on every server of a cluster (DATA/pki/…). */
const SHARED_FILES = [['ca.crt', 0o644], ['ca.key', 0o600], ['sa.key', 0o600], ['sa.pub', 0o644]] as const;

type SharedPki = Record<(typeof SHARED_FILES)[number][0], string>;

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

function parse(value: string): SharedPki {
  const v = JSON.parse(value) as Partial<SharedPki>;
  for (const [name] of SHARED_FILES) if (typeof v[name] !== 'string') throw new Error(`the cluster PKI in the store (${CLUSTER_PKI_KEY}) lacks ${name}`);
  return v as SharedPki;
}

/** The local CA differs from the cluster's: say which and how to resolve it. */
function mismatch(dir: string): Error {
  return new Error(`this server's CA (${join(dir, 'ca.crt')}) is not the cluster's: the store already holds another cluster CA `
    + `(created by the first server on it). Every server of a cluster must share one CA — to join this server, move ${dir} away `
    + '(it will take the cluster\'s CA and ServiceAccount key from the store and issue its own certificates from them)');
}

/**
 * The cluster PKI for a server on `store`: shared CA and ServiceAccount key from the store (published
 * by the first server), this server's leaves issued locally. See the file comment.
 */
export async function ensureSharedClusterPki(store: Backend, opts: ClusterPkiOptions, log: Logger): Promise<ClusterPki & { renewed: string[] }> {
  const dir = join(opts.dataDir, 'pki');
  const adopt = async (value: string, replacing: boolean) => {
    const shared = parse(value);
    const local = readLocal(dir);
    if (local['ca.crt'] && local['ca.crt'] !== shared['ca.crt'] && !replacing) throw mismatch(dir);
    if (SHARED_FILES.some(([name]) => local[name] !== shared[name])) {
      writeLocal(dir, shared);
      log.info('cluster CA and ServiceAccount key taken from the store', { key: CLUSTER_PKI_KEY });
    }
    return ensureClusterPki(opts);
  };
  const existing = await store.get(CLUSTER_PKI_KEY);
  if (existing) return adopt(existing.value, false);
  const hadCA = existsSync(join(dir, 'ca.crt'));
  const pki = await ensureClusterPki(opts);
  const mine = readLocal(dir) as SharedPki;
  try {
    await store.create(CLUSTER_PKI_KEY, JSON.stringify(mine));
    log.info('cluster CA and ServiceAccount key published to the store for other servers', { key: CLUSTER_PKI_KEY });
    return pki;
  } catch (err) {
    if (!(err instanceof KeyExistsError)) throw err;
    // Another server started at the same moment and published first: a CA made a moment ago
    // by this call is given up for the cluster's; one that was here before is a real conflict.
    const winner = await store.get(CLUSTER_PKI_KEY);
    if (!winner) throw err;
    return adopt(winner.value, !hadCA);
  }
}
