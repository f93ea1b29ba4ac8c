/**
 * The pod network across nodes as a part of the agent (flannel's daemon): follows every Node through
 * an informer and keeps the backend's routes and entries equal to the peers they describe — a full
 * resync at start (what an earlier run left is corrected, not duplicated), then a sync ~50 ms after
 * a Node change that changes the peers (status heartbeats of every node do not: the kernel is not
 * read for them), and every 30 s in case someone else touched the kernel. A failed sync is retried
 * after a second. This node's annotations (backend, address, VXLAN MAC) are patched onto its Node.
 * Stopping leaves everything in place (an agent restart keeps traffic flowing); `remove` is for an
 * agent leaving for good.
 */
import { R, type Client } from '../../client/client.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import type { Logger } from '../../util/log.ts';
import { formatCommand, type NetworkBackend } from './backend.ts';
import { peersFromNodes } from './peers.ts';

export interface NodeNetworkOptions {
  client: Client;
  informers: InformerFactory;
  nodeName: string;
  clusterCidr: string;
  backend: NetworkBackend;
  log: Logger;
  /** Delay between a Node change and the sync (changes within it are one sync). */
  batchMs?: number;
  resyncMs?: number;
}

export interface RunningNodeNetwork {
  /** Resolves after the next sync that started after this call (tests, benchmarks). */
  synced(): Promise<void>;
  /** How many syncs ran and the last one's commands (for logs and benchmarks). */
  readonly syncs: number;
  stop(): void;
  /** Stops, then removes every route, entry and device of the backend. */
  remove(): Promise<void>;
}

export async function startNodeNetwork(o: NodeNetworkOptions): Promise<RunningNodeNetwork> {
  const { backend, log } = o;
  const annotations = await backend.setup();
  await o.client.patch(R.nodes, undefined, o.nodeName, 'merge', { metadata: { annotations } });
  const nodes: SharedInformer = o.informers.forResource(R.nodes);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let syncs = 0;
  let waiters: (() => void)[] = [];
  let applied: string | undefined;
  let force = true;

  const sync = async (): Promise<void> => {
    const peers = peersFromNodes(nodes.list(), o.nodeName, o.clusterCidr);
    const key = JSON.stringify(peers);
    const done = waiters;
    waiters = [];
    if (!force && !done.length && key === applied) return;
    force = false;
    try {
      const plan = await backend.sync(peers);
      applied = key;
      syncs++;
      if (plan.length) log.info('pod network routes updated', { backend: backend.kind, peers: peers.length, commands: plan.length, first: formatCommand(plan[0]!) });
      for (const w of done) w();
    } catch (err) {
      waiters.push(...done);
      force = true;
      log.warn('pod network sync failed; retrying in 1 s', { backend: backend.kind, error: (err as Error).message });
      schedule(1000);
    }
  };
  const kick = (): void => {
    if (stopped) return;
    if (running) { again = true; return; }
    running = sync().finally(() => {
      running = undefined;
      if (again && !stopped) { again = false; kick(); }
    });
  };
  const schedule = (ms: number): void => {
    if (stopped || timer) return;
    timer = setTimeout(() => { timer = undefined; kick(); }, ms);
  };
  const batch = o.batchMs ?? 50;
  nodes.addHandlers({ add: () => schedule(batch), update: () => schedule(batch), delete: () => schedule(batch) });
  await nodes.synced();
  kick();
  await running;
  const resync = setInterval(() => { force = true; kick(); }, o.resyncMs ?? 30_000);
  resync.unref();
  log.info('pod network across nodes', { backend: backend.kind, clusterCidr: o.clusterCidr });

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    clearInterval(resync);
    for (const w of waiters) w();
    waiters = [];
  };
  return {
    get syncs() { return syncs; },
    synced() {
      return new Promise<void>((resolve) => { waiters.push(resolve); schedule(0); });
    },
    stop,
    async remove() {
      stop();
      await running;
      await backend.remove();
    },
  };
}
