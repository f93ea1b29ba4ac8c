/**
 * Opens the configured store: `sqlite` (a file in the data directory) or `etcd://host:port[,…]`.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Backend } from './backend.ts';
import { openSqliteBackend, type SqliteBackendOptions } from './sqlite/index.ts';

export * from './backend.ts';
export { startCompactor, compactOnce, type Compactor, type CompactorOptions } from './compactor.ts';

/** `host:port` or `[ipv6]:port`. */
const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+):\d+$/;

/**
 * SQLite knobs for measurements and the power-loss test, from the environment (not flags: nobody
 * should run a cluster with them): BERTH_SQLITE_SYNCHRONOUS=NORMAL gives up power-loss durability;
 * BERTH_SQLITE_GROUP_WINDOW_US keeps each commit group open that long (default: one loop turn);
 * BERTH_SQLITE_GROUP_MAX caps a group's writes (default 1,000);
 * BERTH_SQLITE_WAL_SYNC=inline makes FULL fsync inside COMMIT, on the event loop (default: async);
 * BERTH_SQLITE_CHECKPOINT=inline leaves WAL checkpoints to SQLite, inside COMMIT (default: worker).
 */
export function sqliteOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): SqliteBackendOptions {
  const opts: SqliteBackendOptions = {};
  const sync = env.BERTH_SQLITE_SYNCHRONOUS?.toUpperCase();
  if (sync !== undefined && sync !== '') {
    if (sync !== 'FULL' && sync !== 'NORMAL') throw new Error(`BERTH_SQLITE_SYNCHRONOUS must be FULL or NORMAL, not "${sync}"`);
    opts.synchronous = sync;
  }
  const window = env.BERTH_SQLITE_GROUP_WINDOW_US;
  if (window !== undefined && window !== '') {
    if (!/^\d+$/.test(window)) throw new Error(`BERTH_SQLITE_GROUP_WINDOW_US must be a number of microseconds, not "${window}"`);
    opts.groupCommit = { windowUs: Number(window) };
  }
  const max = env.BERTH_SQLITE_GROUP_MAX;
  if (max !== undefined && max !== '') {
    if (!/^[1-9]\d*$/.test(max)) throw new Error(`BERTH_SQLITE_GROUP_MAX must be a positive number of writes, not "${max}"`);
    opts.groupCommit = { ...opts.groupCommit, maxBatch: Number(max) };
  }
  const walSync = env.BERTH_SQLITE_WAL_SYNC;
  if (walSync !== undefined && walSync !== '') {
    if (walSync !== 'async' && walSync !== 'inline') throw new Error(`BERTH_SQLITE_WAL_SYNC must be async or inline, not "${walSync}"`);
    opts.walSync = walSync;
  }
  const checkpoint = env.BERTH_SQLITE_CHECKPOINT;
  if (checkpoint !== undefined && checkpoint !== '') {
    if (checkpoint !== 'worker' && checkpoint !== 'inline') throw new Error(`BERTH_SQLITE_CHECKPOINT must be worker or inline, not "${checkpoint}"`);
    opts.checkpoint = checkpoint;
  }
  return opts;
}

/** Opens the store named by `spec`; SQLite keeps its file at `${dataDir}/state.db`. */
export async function openStore(spec: string, dataDir: string): Promise<Backend> {
  if (spec === 'sqlite') {
    mkdirSync(dataDir, { recursive: true });
    return openSqliteBackend(join(dataDir, 'state.db'), sqliteOptionsFromEnv());
  }
  if (spec.startsWith('etcd://')) {
    const endpoints = spec.slice('etcd://'.length).split(',').map((e) => e.trim()).filter((e) => e !== '');
    if (endpoints.length === 0 || endpoints.some((e) => !ENDPOINT.test(e))) {
      throw new Error(`invalid etcd store "${spec}": expected etcd://host:port[,host:port...]`);
    }
    return (await import('./etcd/index.ts')).openEtcdBackend(endpoints);
  }
  throw new Error(`unknown store "${spec}": expected "sqlite" or "etcd://host:port[,host:port...]"`);
}
