/**
 * The node's service proxy: Services + EndpointSlices (informer caches) → one nftables table.
 *
 *   informer events ─key─▶ dirty set ─(batchMs)─▶ sync: re-render dirty Services' fragments,
 *   merge all fragments, diff against what the kernel has ─▶ one `nft -f` transaction
 *
 * The first sync, and every sync after a failure, replaces the whole table; the others write only
 * the difference (see transaction.ts). A failed sync is logged and retried with back-off.
 */
import type { KubeObject } from '../apis/object.ts';
import { R } from '../client/client.ts';
import { keyOf, type Informer } from '../client/controller-types.ts';
import type { InformerFactory } from '../client/informer-factory.ts';
import { createLogger, type Logger } from '../util/log.ts';
import { servicePortsOf, sliceServiceKey } from './build-model.ts';
import type { ProxyContext } from './model.ts';
import { NftRunner, type NftRunnerOptions } from './nft-runner.ts';
import { servicePortFragment } from './service-rules.ts';
import { DesiredTable } from './desired-table.ts';
import { copyScope, copyState, type TableState } from './table-state.ts';
import { deleteScript, diffScript, fullScript } from './transaction.ts';
import { conntrackDeleteArgs, staleFlows, udpTargetsOf, type StaleFlow, type UdpTarget } from './udp-conntrack.ts';

export const DEFAULT_TABLE = 'berth-proxy';
const SLICE_INDEX = 'berth-proxy-service';
const ROUTE_LOCALNET = 'net.ipv4.conf.all.route_localnet';

/** An informer the proxy can start itself (SharedInformer, MemoryInformer). */
export type StartableInformer = Informer & { start?(): void };

export interface ServiceProxyOptions extends ProxyContext {
  /** Where Services and EndpointSlices come from: a factory, or the two informers. */
  informers?: InformerFactory;
  source?: { services: StartableInformer; endpointSlices: StartableInformer };
  /** nftables table (family ip); default `berth-proxy`. */
  table?: string;
  logger?: Logger;
  /** How nft is run (e.g. inside a netns), or a runner. */
  runner?: NftRunner | NftRunnerOptions;
  /** Events within this many ms are applied together; default 10. */
  batchMs?: number;
  /** Set route_localnet so node ports answer on 127.0.0.1; default true. */
  localhostNodePorts?: boolean;
}

export interface ProxyStats {
  syncs: number;
  fullSyncs: number;
  failures: number;
  /** Wall time of the last sync: rendering + diff + `nft -f`. */
  lastSyncMs: number;
  /** Lines of the last script sent to nft. */
  lastScriptLines: number;
}

export interface RunningServiceProxy {
  stop(opts?: { cleanup?: boolean }): Promise<void>;
  /** Resolves once every event seen so far is in the kernel. */
  synced(): Promise<void>;
  stats(): ProxyStats;
}

class ServiceProxy implements RunningServiceProxy {
  private readonly table: string;
  private readonly log: Logger;
  private readonly runner: NftRunner;
  private readonly batchMs: number;
  private desired = new DesiredTable();
  private dirty = new Set<string>();
  private needFull = true;
  private applied?: TableState;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private failuresInRow = 0;
  private stopped = false;
  /** No sync before the caches are complete: a partial table would cut live Services on restart. */
  private ready = false;
  private waiters: (() => void)[] = [];
  private routeLocalnetBefore?: string;
  private firstAttempt?: () => void;
  private readonly st: ProxyStats = { syncs: 0, fullSyncs: 0, failures: 0, lastSyncMs: 0, lastScriptLines: 0 };
  /** UDP service ports per Service as last rendered, and the conntrack entries to delete after the next apply. */
  private readonly udp = new Map<string, Map<string, UdpTarget>>();
  private staleFlows: StaleFlow[] = [];
  private conntrackMissing = false;

  constructor(private readonly opts: ServiceProxyOptions, private readonly services: StartableInformer, private readonly slices: StartableInformer) {
    this.table = opts.table ?? DEFAULT_TABLE;
    this.log = opts.logger ?? createLogger();
    this.runner = opts.runner instanceof NftRunner ? opts.runner : new NftRunner(opts.runner);
    this.batchMs = opts.batchMs ?? 10;
  }

  async start(): Promise<void> {
    this.slices.addIndex(SLICE_INDEX, (s) => { const k = sliceServiceKey(s); return k ? [k] : []; });
    const onSvc = (o: KubeObject) => this.enqueue(keyOf(o));
    const onSlice = (o: KubeObject) => { const k = sliceServiceKey(o); if (k) this.enqueue(k); };
    this.services.addHandlers({ add: onSvc, update: (_, o) => onSvc(o), delete: onSvc });
    // A slice moving to another Service (label change) dirties both.
    this.slices.addHandlers({ add: onSlice, update: (a, b) => { onSlice(a); onSlice(b); }, delete: onSlice });
    this.services.start?.();
    this.slices.start?.();
    await Promise.all([this.services.synced(), this.slices.synced()]);
    if (this.opts.localhostNodePorts !== false) await this.enableRouteLocalnet();
    this.needFull = true;
    this.ready = true;
    this.kick(0);
    // Wait for the first attempt only: a failure is logged and retried, start() still returns.
    await new Promise<void>((resolve) => { this.firstAttempt = resolve; });
  }

  private async enableRouteLocalnet(): Promise<void> {
    try {
      this.routeLocalnetBefore = (await this.runner.sysctlRead(ROUTE_LOCALNET)).trim();
      if (this.routeLocalnetBefore !== '1') await this.runner.sysctl(ROUTE_LOCALNET, '1');
    } catch (err) {
      this.log.warn('service proxy: cannot set route_localnet; node ports will not answer on 127.0.0.1', { error: (err as Error).message });
    }
  }

  private enqueue(serviceKey: string): void {
    if (this.stopped) return;
    this.dirty.add(serviceKey);
    this.kick(this.batchMs);
  }

  /** Starts a sync after `delayMs` unless one is pending or running (which re-kicks at its end). */
  private kick(delayMs: number): void {
    if (this.timer || this.running || this.stopped || !this.ready) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.syncOnce().finally(() => {
        this.running = undefined;
        this.firstAttempt?.();
        this.firstAttempt = undefined;
        if (this.dirty.size > 0 || this.needFull) {
          // Back off after failures (100 ms doubling to 30 s); otherwise go again after the batch delay.
          this.kick(this.failuresInRow > 0 ? Math.min(30_000, 100 * 2 ** (this.failuresInRow - 1)) : this.batchMs);
        } else {
          for (const w of this.waiters.splice(0)) w();
        }
      });
    }, delayMs);
  }

  private render(serviceKey: string): void {
    const svc = this.services.get(serviceKey);
    const ports = svc ? servicePortsOf(svc, this.slices.byIndex(SLICE_INDEX, serviceKey)) : [];
    const udp = udpTargetsOf(ports, this.opts.nodeName);
    this.staleFlows.push(...staleFlows(this.udp.get(serviceKey), udp));
    if (udp.size) this.udp.set(serviceKey, udp);
    else this.udp.delete(serviceKey);
    const conflicts = this.desired.set(serviceKey, ports.map((p) => servicePortFragment(p, this.opts)));
    if (conflicts.length) this.log.warn('service proxy: service port already taken by another Service', { service: serviceKey, conflicts: conflicts.slice(0, 5) });
  }

  private async syncOnce(): Promise<void> {
    const started = performance.now();
    const full = this.needFull || !this.applied;
    const keys = this.dirty;
    this.dirty = new Set();
    try {
      if (full) {
        this.desired = new DesiredTable();
        for (const key of this.services.list().map(keyOf).sort()) this.render(key);
      } else {
        for (const k of keys) this.render(k);
      }
      const changes = this.desired.takeChanges();
      const state = this.desired.state;
      const script = full ? fullScript(this.table, this.opts, state) : diffScript(this.table, this.applied!, state, changes);
      await this.runner.apply(script);
      if (full) this.applied = copyState(state);
      else copyScope(state, this.applied!, changes);
      this.needFull = false;
      this.failuresInRow = 0;
      await this.deleteStaleFlows();
      this.st.syncs++;
      if (full) this.st.fullSyncs++;
      this.st.lastScriptLines = script ? script.split('\n').length - 1 : 0;
      this.st.lastSyncMs = performance.now() - started;
      this.log.debug('service proxy synced', { full, lines: this.st.lastScriptLines, ms: Math.round(this.st.lastSyncMs) });
    } catch (err) {
      this.st.failures++;
      this.failuresInRow++;
      this.needFull = true;
      for (const k of keys) this.dirty.add(k);
      this.log.error('service proxy sync failed; retrying with a full resync', { error: (err as Error).message, failures: this.failuresInRow });
    }
  }

  /** Deletes the UDP conntrack entries the last rule change left pointing at the wrong place (udp-conntrack.ts). */
  private async deleteStaleFlows(): Promise<void> {
    const flows = this.staleFlows.splice(0);
    if (this.conntrackMissing) return;
    for (const f of flows) {
      try {
        await this.runner.conntrack(conntrackDeleteArgs(f));
      } catch (err) {
        if (/cannot run conntrack/.test((err as Error).message)) {
          this.conntrackMissing = true;
          this.log.warn('service proxy: conntrack not found (Debian package conntrack); stale UDP flows are not cleared after endpoint changes');
          return;
        }
        this.log.warn('service proxy: conntrack cleanup failed', { error: (err as Error).message });
      }
    }
  }

  synced(): Promise<void> {
    if (!this.timer && !this.running && this.dirty.size === 0 && !this.needFull) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stats(): ProxyStats {
    return { ...this.st };
  }

  async stop(opts: { cleanup?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    for (const w of this.waiters.splice(0)) w();
    if (!opts.cleanup) return;
    await this.runner.apply(deleteScript(this.table));
    if (this.routeLocalnetBefore !== undefined && this.routeLocalnetBefore !== '1') {
      await this.runner.sysctl(ROUTE_LOCALNET, this.routeLocalnetBefore).catch(() => {});
    }
  }
}

/** Starts the proxy: waits for the informers, writes the whole table, then follows changes. */
export async function startServiceProxy(opts: ServiceProxyOptions): Promise<RunningServiceProxy> {
  const services = opts.source?.services ?? opts.informers?.forResource(R.services);
  const slices = opts.source?.endpointSlices ?? opts.informers?.forResource(R.endpointslices);
  if (!services || !slices) throw new Error('startServiceProxy: give informers or source');
  const proxy = new ServiceProxy(opts, services, slices);
  await proxy.start();
  return proxy;
}
