/**
 * Opens the configured store: `sqlite` (a file in the data directory) or `etcd://host:port[,…]`.
 */
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Backend } from './backend.ts';
import { openSqliteBackend } from './sqlite/index.ts';

export * from './backend.ts';
export { startCompactor, compactOnce, type Compactor, type CompactorOptions } from './compactor.ts';

/** `host:port` or `[ipv6]:port`. */
const ENDPOINT = /^(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+):\d+$/;

/** Opens the store named by `spec`; SQLite keeps its file at `${dataDir}/state.db`. */
export async function openStore(spec: string, dataDir: string): Promise<Backend> {
  if (spec === 'sqlite') {
    mkdirSync(dataDir, { recursive: true });
    return openSqliteBackend(join(dataDir, 'state.db'));
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
