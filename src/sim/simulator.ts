/**
 * kubemark-style hollow nodes: N fake node agents in one process. Per node it keeps a few fields, no
 * timers and no watches of its own:
 *
 *   register (≤ concurrency in flight) ─▶ Node + Lease
 *   SpreadTicker(2 s)  ─▶ renew Lease      (an update of the Lease at its resourceVersion, as the
 *                                           kubelet's lease controller does; 1/N of the fleet per step)
 *   SpreadTicker(5 min) ─▶ heartbeat status (merge patch of the conditions; re-registers lost nodes)
 *   one pod informer   ─▶ Running+Ready / delete on deletionTimestamp (pod-syncer.ts)
 *   one node informer  ─▶ a Node not Ready (marked Unknown after a late renewal) ─▶ heartbeat at once
 *
 * Two write lanes, each its own {@link Limiter} and, given `podClient`, its own HTTP keep-alive
 * sockets (kubelets are separate processes with their own client; one lane for 5,000 of them let
 * 500 renewals a second and the pods' status writes starve each other): node writes (registration,
 * renewals, heartbeats) and pod writes (status, deletes); the pod lane starts nothing while node
 * writes wait. Stopping ends the renewals (the Nodes stay, and go NotReady once their Leases expire)
 * unless `deleteNodesOnExit`.
 */
import { R, type Client } from '../client/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../client/errors.ts';
import { NODE_LEASE_NAMESPACE } from '../agent/node/node-registration.ts';
import type { Logger } from '../util/log.ts';
import { heartbeatPatch, hollowLease, hollowNode, hollowNodeLabels, hollowNodeStatus, renewedLease } from './hollow-node.ts';
import { SIMULATED_LABEL } from '../apis/well-known.ts';
import { SharedInformer } from '../client/informer.ts';
import type { KubeObject } from '../apis/object.ts';
import { Limiter } from './limiter.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { PodIpPool, simNodeIP } from './pod-ip-pool.ts';
import { startPodSyncer, type PodSyncer, type PodSyncStats } from './pod-syncer.ts';
import { DEFAULT_SIM_CONFIG, simNodeName, type SimConfig } from './sim-config.ts';
import { SpreadTicker } from './spread-ticker.ts';
import { rfc3339 } from '../apis/time.ts';

/** True when the Node's Ready condition is True. */
function isReady(node: KubeObject): boolean {
  return (node.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

/** One hollow node: all the simulator keeps per node. */
interface HollowNodeState {
  index: number;
  name: string;
  /** Node uid once registered. */
  uid?: string;
  /** lastTransitionTime of the conditions (when this process made the node Ready). */
  since?: string;
  /** A lease renewal / heartbeat / registration is in flight. */
  busy: boolean;
  /** The Lease as the server last returned it (its resourceVersion is the next update's precondition). */
  lease?: KubeObject;
  /** When the oldest renewal not yet done was due (ms); undefined when none is owed. */
  renewDue?: number;
  /** When the renewal that failed last was due (the next one's lateness counts from it). */
  failedDue?: number;
  /** When the last renewal completed (ms). */
  renewedAt?: number;
  /** Its Node was seen not Ready: a status heartbeat is owed (goes right after a renewal in flight). */
  heartbeatOwed?: boolean;
}

export interface SimulatorOptions {
  /** Node writes (registration, Lease renewals, heartbeats) and the node informer. */
  client: Client;
  /** Pod writes and the pod informer (default: `client`); its own client keeps its own sockets. */
  podClient?: Client;
  config: Partial<SimConfig> & { nodes: number };
  log?: Logger;
  /** Called after each registration; the CLI prints every 1,000. */
  onRegistered?(done: number, total: number): void;
}

/** Counters of a running simulator. */
export interface SimStats {
  registered: number;
  registrationFailures: number;
  leaseRenewals: number;
  heartbeats: number;
  errors: number;
  pods: PodSyncStats;
  /** How late each renewal completed against its schedule (ms): since start, and since the last report. */
  renewalLateness: LatencyHistogram;
  renewalLatenessWindow: LatencyHistogram;
  /** The longest time between two completed renewals of one node (ms). */
  longestRenewalGapMs: number;
  /** Node writes in flight / waiting now. */
  readonly nodeWrites: { running: number; queued: number };
  /** Nodes of this fleet whose Ready condition is not True (the node informer's view). */
  readonly notReady: number;
}

export interface Simulator {
  readonly config: SimConfig;
  /** Node names, index order. */
  readonly nodeNames: string[];
  readonly stats: SimStats;
  /** Resolves when every node had its first registration attempt; the failed ones are retried by the heartbeat. */
  readonly registered: Promise<void>;
  /** Stops renewals and the pod informer; deletes the Nodes if `deleteNodesOnExit`. */
  stop(): Promise<void>;
}

/** Starts the fleet; registration runs in the background (see `registered`). */
export function startSimulator(opts: SimulatorOptions): Simulator {
  const cfg: SimConfig = { ...DEFAULT_SIM_CONFIG, ...opts.config, labels: { ...(opts.config.labels ?? {}) }, taints: [...(opts.config.taints ?? [])] };
  const { client, log } = opts;
  const podClient = opts.podClient ?? client;
  const limiter = new Limiter(cfg.concurrency);
  // Pod writes yield to node writes, down to a tenth of their slots (see limiter.ts), while some node
  // is at risk: its last renewal more than two periods ago (the server's grace is ≥ 4). A renewal
  // queue that only delays every node alike (a standing queue on a busy server: each node still
  // renews every period, 15 s after its slot) is no reason to hold the pods back — it did, at
  // 10 status writes in flight, for the whole of a 30,000-pod fill.
  let atRiskUntil = 0;
  const atRisk = (n: HollowNodeState, now: number) => {
    if (n.renewedAt !== undefined && now - n.renewedAt > 2 * cfg.leaseIntervalMs) atRiskUntil = now + cfg.leaseIntervalMs;
  };
  const podLimiter = new Limiter(cfg.concurrency, limiter, Math.ceil(cfg.concurrency / 10), () => Date.now() < atRiskUntil);
  const ips = new PodIpPool();
  const nodes: HollowNodeState[] = [];
  const byName = new Map<string, HollowNodeState>();
  for (let i = 0; i < cfg.nodes; i++) {
    const n: HollowNodeState = { index: i, name: simNodeName(cfg.prefix, i, cfg.nodes), busy: false };
    nodes.push(n);
    byName.set(n.name, n);
  }
  const stats: SimStats = {
    registered: 0, registrationFailures: 0, leaseRenewals: 0, heartbeats: 0, errors: 0, pods: undefined!,
    renewalLateness: new LatencyHistogram(), renewalLatenessWindow: new LatencyHistogram(), longestRenewalGapMs: 0,
    get nodeWrites() { return { running: limiter.running, queued: limiter.queued }; },
    get notReady() {
      let c = 0;
      for (const node of nodeInformer.list()) if (!isReady(node)) c++;
      return c;
    },
  };
  let stopped = false;
  const inFlight = new Set<Promise<unknown>>();
  const track = (p: Promise<unknown>) => { inFlight.add(p); void p.finally(() => inFlight.delete(p)); };

  /** Creates (or adopts) the Node and its Lease. */
  const register = async (n: HollowNodeState): Promise<void> => {
    const now = rfc3339();
    let uid: string | undefined;
    try {
      uid = (await limiter.run(() => client.create(R.nodes, undefined, hollowNode(n.name, n.index, cfg, now)))).metadata.uid;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      // Left by an earlier run: take it over (labels, taints, fresh status).
      const spec = cfg.taints.length ? { taints: cfg.taints } : {};
      uid = (await limiter.run(() => client.patch(R.nodes, undefined, n.name, 'merge', { metadata: { labels: hollowNodeLabels(n.name, cfg) }, spec }))).metadata.uid;
      await limiter.run(() => client.patch(R.nodes, undefined, n.name, 'merge', { status: hollowNodeStatus(n.name, n.index, cfg, now) }, 'status'));
    }
    const lease = hollowLease(n.name, uid!, cfg.leaseDurationSeconds);
    try {
      n.lease = await limiter.run(() => client.create(R.leases, NODE_LEASE_NAMESPACE, lease));
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      n.lease = await limiter.run(() => client.patch(R.leases, NODE_LEASE_NAMESPACE, n.name, 'merge', { metadata: { ownerReferences: lease.metadata.ownerReferences }, spec: lease.spec }));
    }
    n.renewedAt = Date.now();
    if (!n.uid) stats.registered++;
    n.uid = uid;
    n.since = now;
  };

  const registerWithRetry = async (n: HollowNodeState): Promise<boolean> => {
    for (let attempt = 0; ; attempt++) {
      if (stopped) return false;
      try {
        await register(n);
        return true;
      } catch (err) {
        if (attempt >= 4) {
          log?.warn('node registration failed; the heartbeat retries it', { node: n.name, error: (err as Error).message });
          return false;
        }
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  };

  /**
   * One renewal as the kubelet's lease controller makes it: an update of the Lease it last got back,
   * renewTime now, at that resourceVersion (a conflict — someone else wrote it — reads it and tries
   * once more). The object is built when the request goes out, so a renewal that waited for a slot
   * still carries the time it is sent.
   */
  const renewLease = async (n: HollowNodeState): Promise<void> => {
    const due = Math.min(n.failedDue ?? Infinity, n.renewDue ?? Date.now());
    n.renewDue = n.failedDue = undefined;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          n.lease = await limiter.run(() => n.lease
            ? client.update(R.leases, NODE_LEASE_NAMESPACE, renewedLease(n.lease, n.name, cfg.leaseDurationSeconds))
            : client.get(R.leases, NODE_LEASE_NAMESPACE, n.name).then((l) => client.update(R.leases, NODE_LEASE_NAMESPACE, renewedLease(l, n.name, cfg.leaseDurationSeconds))));
          break;
        } catch (err) {
          if (!isConflict(err) || attempt >= 1) throw err;
          n.lease = undefined;
        }
      }
    } catch (err) {
      // Failed (not re-run at once: the next tick retries, or an owed renewal).
      if (!isNotFound(err)) { n.failedDue = due; throw err; }
      // Lease (or Node, taking its Lease along) was deleted: register again.
      n.uid = undefined;
      n.lease = undefined;
      stats.registered--;
      await register(n);
      return;
    }
    const now = Date.now();
    stats.leaseRenewals++;
    stats.renewalLateness.record(now - due);
    stats.renewalLatenessWindow.record(now - due);
    if (n.renewedAt !== undefined) stats.longestRenewalGapMs = Math.max(stats.longestRenewalGapMs, now - n.renewedAt);
    atRisk(n, now);
    n.renewedAt = now;
  };

  const heartbeat = async (n: HollowNodeState): Promise<void> => {
    if (n.heartbeatOwed) {
      // Ready again from now (the node lifecycle controller marked it Unknown).
      n.heartbeatOwed = false;
      n.since = rfc3339();
    }
    if (!n.uid) { await register(n); return; }
    try {
      await limiter.run(() => client.patch(R.nodes, undefined, n.name, 'merge', heartbeatPatch(n.name, n.index, n.since!), 'status'));
      stats.heartbeats++;
    } catch (err) {
      if (!isNotFound(err)) throw err;
      n.uid = undefined;
      stats.registered--;
      await register(n);
    }
  };

  /**
   * Runs one per-node task unless one is in flight for that node already (coalescing); `again` says
   * whether the node owes another run once this one is done.
   */
  const visit = (what: string, fn: (n: HollowNodeState) => Promise<void>, needsUid: boolean, again?: (n: HollowNodeState) => boolean) => {
    const go = (i: number): void => {
      const n = nodes[i];
      if (stopped || n.busy || (needsUid && !n.uid)) return;
      n.busy = true;
      track(fn(n).catch((err) => {
        stats.errors++;
        log?.warn(`${what} failed`, { node: n.name, error: (err as Error).message });
      }).finally(() => {
        n.busy = false;
        if (again?.(n)) go(i);
      }));
    };
    return go;
  };

  // A kubelet compares its Node with the status it would post every 10 s and posts at once when they
  // differ — as after the node lifecycle controller marked it Unknown (a renewal that came late on a
  // loaded machine). Hollow nodes watch their Nodes for that (one informer for the fleet); without it
  // such a node stayed NotReady until its next heartbeat, 5 minutes later.
  const nodeInformer = new SharedInformer(client, R.nodes, { labelSelector: `${SIMULATED_LABEL}=true`, log });
  const recheck = (node: KubeObject): void => {
    const n = byName.get(node.metadata.name ?? '');
    if (!n?.uid || stopped || isReady(node)) return;
    // Owed; with a renewal in flight it goes right after it (one node's writes never overlap).
    n.heartbeatOwed = true;
    nodeWorkNow(n.index);
  };
  nodeInformer.addHandlers({ add: recheck, update: (_old, node) => recheck(node) });
  nodeInformer.start();

  // A renewal due while the previous one is still in flight is owed, not skipped: it goes as soon as
  // that one is done (a kubelet renews again right after a slow renewal), and its lateness counts
  // from when it was due. An owed heartbeat (the Node not Ready) follows the renewal.
  const nodeWork = async (n: HollowNodeState): Promise<void> => {
    if (n.renewDue !== undefined || !n.heartbeatOwed) await renewLease(n);
    if (n.heartbeatOwed) await heartbeat(n);
  };
  const nodeWorkNow = visit('lease renewal', nodeWork, true, (n) => n.renewDue !== undefined || n.heartbeatOwed === true);
  const leaseTicker = new SpreadTicker({
    periodMs: cfg.leaseIntervalMs, count: () => nodes.length,
    visit: (i) => { const now = Date.now(); nodes[i].renewDue ??= now; atRisk(nodes[i], now); nodeWorkNow(i); },
  });
  const statusTicker = new SpreadTicker({ periodMs: cfg.statusIntervalMs, count: () => nodes.length, visit: visit('node heartbeat', heartbeat, false) });
  // Renewals start at once: with thousands of nodes, early ones would expire before registration ends.
  leaseTicker.start();

  const pods: PodSyncer = startPodSyncer({
    client: podClient, ips, limiter: podLimiter, log,
    node: (name) => { const n = byName.get(name); return n ? { index: n.index, hostIP: simNodeIP(n.index) } : undefined; },
  });
  stats.pods = pods.stats;

  // Whole registrations are bounded too, so each node's Lease follows its Node closely (a FIFO of
  // single requests would create all Nodes before the first Lease).
  const registrations = new Limiter(cfg.concurrency);
  const registered = (async () => {
    let done = 0;
    await Promise.all(nodes.map((n) => registrations.run(async () => {
      n.busy = true;
      try {
        if (!(await registerWithRetry(n))) stats.registrationFailures++;
      } finally {
        n.busy = false;
      }
      opts.onRegistered?.(++done, nodes.length);
    })));
    if (!stopped) statusTicker.start();
  })();
  track(registered);

  return {
    config: cfg,
    nodeNames: nodes.map((n) => n.name),
    stats,
    registered,
    async stop() {
      if (stopped) return;
      stopped = true;
      leaseTicker.stop();
      statusTicker.stop();
      nodeInformer.stop();
      await pods.stop();
      await Promise.allSettled([...inFlight]);
      if (cfg.deleteNodesOnExit) {
        await Promise.all(nodes.map((n) => limiter.run(() => client.delete(R.nodes, undefined, n.name)).catch((err) => {
          if (!isNotFound(err)) log?.warn('node delete failed', { node: n.name, error: (err as Error).message });
        })));
      }
    },
  };
}
