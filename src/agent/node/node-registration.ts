/**
 * A node agent's presence in the API: it registers its Node (create, or reconcile labels / podCIDR of
 * an existing one after a restart), keeps the Node's status current — recomputed every 10 s, written
 * only when something changed or every 60 s so heartbeat times stay fresh (the kubelet's
 * nodeStatusReportFrequency) — and renews its Lease in `kube-node-lease` every 2 s (the kubelet's
 * node lease, renewed every 10 s there: the cheap heartbeat the node lifecycle controller watches;
 * controllers/node-lifecycle/node-lease-timing.ts). Stopping ends the loops; the Node stays.
 *
 * One name, one live agent: the Lease carries this agent's instance (a random id kept in its data
 * dir, so a restart is the same instance). An agent finding its node's Lease held by another
 * instance and renewed within the Lease's duration refuses to start — a second machine joined under
 * a live node's name — before it writes anything, so the live node is left as it was.
 */
import { isDeepStrictEqual } from 'node:util';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_LEASE_DURATION_SECONDS, NODE_LEASE_RENEW_INTERVAL_SECONDS } from '../../controllers/node-lifecycle/node-lease-timing.ts';
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.ts';
import type { Logger } from '../../util/log.ts';
import {
  DEFAULT_MAX_PODS, goArch, nodeAddresses, nodeConditions, nodeLabels, nodeResources, nodeSystemInfo, sampleMachine,
  stampConditions, type MachineSample, type NodeCondition, type Reserved,
} from './node-info.ts';
import { rfc3339, rfc3339Micro } from '../../apis/time.ts';
import { monotonicMs } from './heartbeat.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** The Lease annotation naming the agent instance that holds a node's name. */
export const AGENT_INSTANCE_ANNOTATION = 'berth.dev/agent-instance';
const INSTANCE_FILE = 'agent-instance';

/** Another live agent holds the node's name. */
export class DuplicateNodeError extends Error {}

/**
 * This agent's instance id: kept in `<dataDir>/agent-instance` (made on first start), so a restarted
 * agent is the same instance; without a data dir, one per process.
 */
export function agentInstanceId(dataDir?: string): string {
  if (!dataDir) return randomBytes(8).toString('hex');
  const path = join(dataDir, INSTANCE_FILE);
  if (existsSync(path)) {
    const id = readFileSync(path, 'utf8').trim();
    if (id) return id;
  }
  const id = randomBytes(8).toString('hex');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(`${path}.tmp`, `${id}\n`, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
  return id;
}

/** A node taint. */
export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

export interface RegisterNodeOptions {
  nodeName: string;
  /** spec.podCIDR; applied on create, or to an existing Node that has none. */
  podCIDR?: string;
  /** The agent's stream server port (status.daemonEndpoints.kubeletEndpoint.Port). */
  agentPort: number;
  /** Whether the agent can run pods now (the Ready condition). */
  ready(): boolean;
  /** Extra labels, set over the well-known ones. */
  labels?: Record<string, string>;
  /** Taints applied when the Node is created (as the kubelet's --register-with-taints). */
  taints?: Taint[];
  /** Directory whose filesystem is ephemeral-storage (default: the working directory). */
  dataDir?: string;
  /** Pod capacity (default 110). */
  maxPods?: number;
  /** Held back from allocatable. */
  reserved?: Reserved;
  /** The Hostname address (default: os.hostname()). */
  hostname?: string;
  /** How often status is recomputed (default 10 000 ms). */
  statusIntervalMs?: number;
  /** Status is written at least this often even when unchanged (default 60 000 ms). */
  statusReportIntervalMs?: number;
  /** How often the Lease is renewed (default 2 000 ms). */
  leaseRenewIntervalMs?: number;
  /** spec.leaseDurationSeconds (default 10). */
  leaseDurationSeconds?: number;
  /** This agent's instance (default: agentInstanceId(dataDir)). */
  instance?: string;
  /** Reads the machine; replaceable in tests. */
  sample?: () => MachineSample;
  log?: Logger;
  /**
   * Called after every successful Lease renewal with the CLOCK_MONOTONIC ms at which it was sent
   * (the self-fencing heartbeat, heartbeat.ts).
   */
  onRenewed?: (sentAtMonoMs: number) => void;
  /**
   * Called after the first successful renewal following failures (the end of a partition), before
   * `onRenewed`: the agent stops what the cluster moved meanwhile. When it throws, `onRenewed` is not
   * called and it is tried again at the next renewal (the node's stateful containers stay fenced).
   */
  onResume?: () => Promise<void>;
}

export interface NodeRegistration {
  /** The Node as last written or read. */
  readonly node: KubeObject;
  /** The Lease as last written. */
  readonly lease: KubeObject | undefined;
  /** Recomputes status and writes it if changed (or `force`); true when written. */
  syncStatus(force?: boolean): Promise<boolean>;
  /** Renews the Lease now. */
  renewLease(): Promise<KubeObject>;
  /** Stops the loops and waits for a write in flight. Does not delete the Node or the Lease. */
  stop(): Promise<void>;
}

/** The status without heartbeat times: what decides whether a write is needed. */
function comparable(status: KubeObject['status']): unknown {
  return { ...status, conditions: (status?.conditions ?? []).map((c: NodeCondition) => ({ ...c, lastHeartbeatTime: undefined })) };
}

/**
 * Refuses (DuplicateNodeError) when another live agent holds `nodeName`: its Lease names another
 * instance and was renewed within its duration (see the file comment). Reads only. The agent calls it
 * before anything else it does for the node (its pod range, host network), and registerNode again.
 */
export async function ensureNodeNameFree(client: Client, o: { nodeName: string; instance?: string; dataDir?: string; log?: Logger }): Promise<void> {
  const name = o.nodeName;
  const instance = o.instance ?? agentInstanceId(o.dataDir);
  let current: KubeObject;
  try {
    current = await client.get(R.leases, NODE_LEASE_NAMESPACE, name);
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
  const holder = current.metadata.annotations?.[AGENT_INSTANCE_ANNOTATION];
  // No instance: an agent from before instances, or a simulated node; nothing to compare.
  if (!holder || holder === instance) return;
  const renewed = Date.parse(current.spec?.renewTime ?? '');
  const lifeMs = (current.spec?.leaseDurationSeconds ?? NODE_LEASE_DURATION_SECONDS) * 1000;
  const age = Date.now() - renewed;
  if (Number.isNaN(renewed) || age >= lifeMs) {
    o.log?.warn('taking over a node name from an agent that stopped renewing', { node: name, previousInstance: holder, lastRenewedSecondsAgo: Math.round(age / 1000) });
    return;
  }
  throw new DuplicateNodeError(`node name "${name}" is held by a live node: its Lease was renewed ${(Math.max(0, age) / 1000).toFixed(1)} s ago by another agent `
    + `(instance ${holder}; this one is ${instance}${o.dataDir ? `, ${join(o.dataDir, INSTANCE_FILE)}` : ''}). Nothing was changed. `
    + `Give this machine another --node-name, or stop the other node first (its name is free ${lifeMs / 1000} s after its last renewal).`);
}

/** Registers the Node, starts the status and lease loops. */
export async function registerNode(client: Client, opts: RegisterNodeOptions): Promise<NodeRegistration> {
  const name = opts.nodeName;
  const sample = opts.sample ?? (() => sampleMachine(opts.dataDir ?? process.cwd()));
  const statusEvery = opts.statusIntervalMs ?? 10_000;
  const reportEvery = opts.statusReportIntervalMs ?? 60_000;
  const leaseEvery = opts.leaseRenewIntervalMs ?? NODE_LEASE_RENEW_INTERVAL_SECONDS * 1000;
  const instance = opts.instance ?? agentInstanceId(opts.dataDir);
  const log = opts.log;

  let node: KubeObject;
  let lease: KubeObject | undefined;
  let lastWrittenAt = 0;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();

  const computeStatus = (previous: NodeCondition[] | undefined): KubeObject['status'] => {
    const s = sample();
    const { capacity, allocatable } = nodeResources(s, opts.maxPods ?? DEFAULT_MAX_PODS, opts.reserved);
    return {
      capacity, allocatable,
      conditions: stampConditions(nodeConditions(s, opts.ready()), previous, rfc3339()),
      addresses: nodeAddresses(s, opts.hostname),
      daemonEndpoints: { kubeletEndpoint: { Port: opts.agentPort } },
      nodeInfo: nodeSystemInfo(s),
    };
  };

  const wantedLabels = (): Record<string, string> => ({ ...nodeLabels(name, goArch()), ...(opts.labels ?? {}) });

  /** Creates the Node, or reconciles labels/podCIDR of the one that exists; then writes status. */
  const ensureNode = async (): Promise<void> => {
    const status = computeStatus(undefined);
    const fresh: KubeObject = {
      apiVersion: 'v1', kind: 'Node',
      metadata: { name, labels: wantedLabels() },
      spec: { ...(opts.podCIDR ? { podCIDR: opts.podCIDR } : {}), ...(opts.taints?.length ? { taints: opts.taints } : {}) },
      status,
    };
    try {
      node = await client.create(R.nodes, undefined, fresh);
      lastWrittenAt = Date.now();
      return;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    for (let attempt = 0; ; attempt++) {
      const existing = await client.get(R.nodes, undefined, name);
      const next = structuredClone(existing);
      next.metadata.labels = { ...(existing.metadata.labels ?? {}), ...wantedLabels() };
      next.spec = next.spec ?? {};
      if (opts.podCIDR && !next.spec.podCIDR) next.spec.podCIDR = opts.podCIDR;
      else if (opts.podCIDR && next.spec.podCIDR !== opts.podCIDR) {
        log?.warn('node has another podCIDR; keeping it', { node: name, podCIDR: next.spec.podCIDR, wanted: opts.podCIDR });
      }
      try {
        node = isDeepStrictEqual(next, existing) ? existing : await client.update(R.nodes, undefined, next);
        break;
      } catch (err) {
        if (!isConflict(err) || attempt >= 5) throw err;
      }
    }
    await writeStatus(computeStatus(node.status?.conditions));
  };

  const writeStatus = async (status: KubeObject['status']): Promise<void> => {
    node = await client.update(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name }, status }, 'status');
    lastWrittenAt = Date.now();
  };

  const syncStatus = async (force = false): Promise<boolean> => {
    // Compared with what the API holds, not with this agent's last write: the node lifecycle
    // controller sets the conditions Unknown while the agent cannot reach the API (a partition), and
    // a node back must say Ready at once, not at the next 60 s report (the kubelet reads its Node
    // before each status update for the same reason).
    try {
      node = await client.get(R.nodes, undefined, name);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      log?.warn('node object is gone; registering again', { node: name });
      await ensureNode();
      return true;
    }
    const status = computeStatus(node.status?.conditions);
    const due = Date.now() - lastWrittenAt >= reportEvery;
    if (!force && !due && isDeepStrictEqual(comparable(status), comparable(node.status))) return false;
    try {
      await writeStatus(status);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      log?.warn('node object is gone; registering again', { node: name });
      await ensureNode();
    }
    return true;
  };

  const leaseBody = (base?: KubeObject): KubeObject => {
    const obj: KubeObject = base ? structuredClone(base) : {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: NODE_LEASE_NAMESPACE },
    };
    obj.metadata.ownerReferences = [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid! }];
    obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), [AGENT_INSTANCE_ANNOTATION]: instance };
    obj.spec = { ...(obj.spec ?? {}), holderIdentity: name, leaseDurationSeconds: opts.leaseDurationSeconds ?? NODE_LEASE_DURATION_SECONDS, renewTime: rfc3339Micro() };
    return obj;
  };

  const renewLease = async (): Promise<KubeObject> => {
    for (let attempt = 0; ; attempt++) {
      try {
        lease = lease ? await client.update(R.leases, NODE_LEASE_NAMESPACE, leaseBody(lease)) : await client.create(R.leases, NODE_LEASE_NAMESPACE, leaseBody());
        return lease;
      } catch (err) {
        if (attempt >= 3 || !(isConflict(err) || isNotFound(err) || isAlreadyExists(err))) throw err;
        // Stale cache, lease deleted, or created by an earlier run: start from what is stored.
        try {
          lease = await client.get(R.leases, NODE_LEASE_NAMESPACE, name);
        } catch (e) {
          if (!isNotFound(e)) throw e;
          lease = undefined;
        }
      }
    }
  };

  const loop = (every: number, what: string, fn: () => Promise<unknown>) => {
    const tick = () => {
      timers.delete(t);
      if (stopped) return;
      const run = fn().catch((err) => log?.warn(`${what} failed`, { node: name, error: (err as Error).message }));
      running.add(run);
      void run.finally(() => {
        running.delete(run);
        if (stopped) return;
        t = setTimeout(tick, every);
        t.unref();
        timers.add(t);
      });
    };
    let t = setTimeout(tick, every);
    t.unref();
    timers.add(t);
  };

  await ensureNodeNameFree(client, { nodeName: name, instance, dataDir: opts.dataDir, log });
  await ensureNode();
  const firstSentAt = monotonicMs();
  await renewLease();
  opts.onRenewed?.(firstSentAt);
  loop(statusEvery, 'node status update', () => syncStatus());
  // A renewal that succeeds after failures is the end of a partition: the status is synced at once
  // (the controller set the Node Unknown meanwhile; its taint evicts pods until Ready is back).
  let renewalsFailing = false;
  loop(leaseEvery, 'node lease renewal', async () => {
    const sentAt = monotonicMs();
    try {
      await renewLease();
    } catch (err) {
      renewalsFailing = true;
      throw err;
    }
    if (!renewalsFailing) return opts.onRenewed?.(sentAt);
    // Back after failures: what the cluster moved meanwhile is stopped before the heartbeat vouches
    // for this node again (a failure here leaves renewalsFailing set: tried again next time).
    await opts.onResume?.();
    opts.onRenewed?.(sentAt);
    renewalsFailing = false;
    log?.info('API reachable again: syncing the node status now', { node: name });
    await syncStatus();
  });

  return {
    get node() { return node; },
    get lease() { return lease; },
    syncStatus,
    renewLease,
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all([...running]);
    },
  };
}
