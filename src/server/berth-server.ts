/**
 * `berth server`: the control plane in one process — store, registry, API server, and the
 * controllers that belong to the API's own semantics (namespace lifecycle, garbage collection).
 *
 *   openStore ─▶ Registry ─▶ createApiServer ─▶ listen ─▶ kubeconfig written ─▶ /readyz ok
 *                   │
 *                   └─▶ controllers (namespace, garbage collector)
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { openStore, startCompactor } from '../storage/index.ts';
import type { Backend } from '../storage/backend.ts';
import { Registry } from '../registry/registry.ts';
import { resourceTypes } from '../registry/kinds/index.ts';
import { createApiServer } from '../api/server.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { ensureSystemNamespaces, keepSystemNamespaces } from './bootstrap.ts';
import { BERTH_VERSION } from '../version.ts';
import { LocalClient } from '../client/local-client.ts';
import { startControlLoops } from './control-loops.ts';
import type { Logger } from '../util/log.ts';
import { AllocationStore } from '../registry/allocation/allocation-store.ts';
import { ServiceAllocator } from '../registry/allocation/service-allocator.ts';
import { startAllocationRepair } from '../registry/allocation/allocation-repair.ts';

export const DEFAULT_SERVICE_CIDR = '10.43.0.0/16';
export const DEFAULT_NODE_PORT_RANGE = '30000-32767';

export interface ServerOptions {
  dataDir: string;
  host: string;
  port: number;
  /** `sqlite` or `etcd://host:port[,host:port…]`. */
  store: string;
  log: Logger;
  bookmarkIntervalMs?: number;
  /** Run every controller and the scheduler, under the leader Lease (the CLI turns this on). Off (tests of single parts), only namespace lifecycle and the GC run, with no Lease. */
  controllers?: boolean;
  nodeGracePeriodSeconds?: number;
  /** ClusterIP range (default 10.43.0.0/16). */
  serviceCidr?: string;
  /** NodePort range (default 30000-32767). */
  nodePortRange?: string;
}

export interface RunningServer {
  url: string;
  kubeconfigPath: string;
  registry: Registry;
  backend: Backend;
  stop(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const { log } = opts;
  mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
  const backend = await openStore(opts.store, opts.dataDir);
  log.info('store open', { store: opts.store.startsWith('etcd') ? opts.store : join(opts.dataDir, 'state.db') });
  const registry = new Registry(backend, resourceTypes());
  const serviceAllocator = new ServiceAllocator(new AllocationStore(backend), {
    serviceCidr: opts.serviceCidr ?? DEFAULT_SERVICE_CIDR, nodePortRange: opts.nodePortRange ?? DEFAULT_NODE_PORT_RANGE,
  });
  registry.store('', 'services')!.hooks = serviceAllocator;
  let ready = false;
  const http = createApiServer({ registry, version: BERTH_VERSION, ready: () => ready, bookmarkIntervalMs: opts.bookmarkIntervalMs, log: log.child({ component: 'api-server' }) });
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => { http.off('error', reject); resolve(); });
  });
  const addr = http.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  await ensureSystemNamespaces(registry);
  const systemNamespaces = keepSystemNamespaces(registry, log);
  const compactor = startCompactor(backend, {});
  const repair = startAllocationRepair(backend, serviceAllocator, log);
  // Namespace lifecycle and the GC run even with controllers off (see control-loops.ts).
  const loops = await startControlLoops(new LocalClient(registry), log, { controllers: !!opts.controllers, registry, nodeGracePeriodSeconds: opts.nodeGracePeriodSeconds });
  const kubeconfigPath = join(opts.dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, url);
  ready = true;
  log.info('API server ready', { url, kubeconfig: kubeconfigPath });
  let stopping: Promise<void> | undefined;
  return {
    url, kubeconfigPath, registry, backend,
    stop() {
      stopping ??= (async () => {
        ready = false;
        await loops.stop();
        systemNamespaces.stop();
        compactor.stop();
        repair.stop();
        http.closeAllConnections();
        await new Promise<void>((resolve) => http.close(() => resolve()));
        await backend.close();
      })();
      return stopping;
    },
  };
}
