/**
 * Pod networking for one node: each pod gets a named network namespace (`berth-<uid-short>`) wired
 * to the `berth0` bridge by Berth's CNI conflist (bridge, host-local IPAM over the
 * node's pod CIDR). The CNI container id is the pod uid, so IPAM state and cached results name
 * the pod, which is what lets {@link PodNetwork.recover} rebuild the map after an agent restart.
 *
 * Every operation is idempotent and tolerates partial state left by a crash; CNI invocations are
 * serialised (ADDs are fast, and it rules out races on the shared bridge).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../util/log.ts';
import { DEFAULT_CNI_BIN_DIR, ResultCache, primaryIPv4, runConflist, type CniConflist, type CniResult, type CniRuntime } from './cni.ts';
import { DEFAULT_BRIDGE, DEFAULT_NETWORK_NAME, DEFAULT_NODE_POD_CIDR, buildBerthConflist, writeBerthConflist } from './cni-config.ts';
import { DEFAULT_NETNS_PREFIX, createNetns, deleteNetns, listNetns, netnsExists, netnsName, netnsPath } from './netns.ts';

const IFNAME = 'eth0';
/** CNI operations in flight at once (each spawns a few plugin processes). */
const MAX_PARALLEL = 8;

/** Configuration of a {@link PodNetwork}. */
export interface PodNetworkOptions {
  /** Agent data directory; CNI files live in `<dataDir>/cni` (conflist, `ipam/`, `results/`). */
  dataDir: string;
  /** This node's pod range (node.spec.podCIDR). Default 10.88.0.0/24. */
  nodePodCidr?: string;
  bridgeName?: string;
  netnsPrefix?: string;
  networkName?: string;
  cniBinDirs?: string[];
  log?: Logger;
  /** The pods' MTU (the vxlan backend's device MTU); default the bridge plugin's. */
  mtu?: number;
}

/** The pod fields networking needs. */
export interface PodRef {
  uid: string;
  name: string;
  namespace: string;
}

/** A pod's network: where its namespace is and which address it got. */
export interface PodNetworkInfo {
  netnsPath: string;
  ip: string;
  gateway: string;
}

/** Result of {@link PodNetwork.recover}. */
export interface RecoveredPodNetwork {
  netnsPath: string;
  ip: string;
}

/** Sets up and tears down pod network namespaces through Berth's CNI conflist. */
export class PodNetwork {
  readonly cniDir: string;
  readonly ipamDir: string;
  readonly conflist: CniConflist;
  private readonly cache: ResultCache;
  private readonly prefix: string;
  private readonly binDirs: string[];
  private readonly log?: Logger;
  private written?: Promise<string>;
  private readonly perPod = new Map<string, Promise<unknown>>();
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private firstStarted = false;
  private first: Promise<void> = Promise.resolve();

  constructor(opts: PodNetworkOptions) {
    this.cniDir = path.join(opts.dataDir, 'cni');
    this.ipamDir = path.join(this.cniDir, 'ipam');
    this.conflist = buildBerthConflist({
      nodePodCidr: opts.nodePodCidr ?? DEFAULT_NODE_POD_CIDR,
      ipamDataDir: this.ipamDir,
      bridgeName: opts.bridgeName ?? DEFAULT_BRIDGE,
      networkName: opts.networkName ?? DEFAULT_NETWORK_NAME,
      mtu: opts.mtu,
    });
    this.cache = new ResultCache(path.join(this.cniDir, 'results'));
    this.prefix = opts.netnsPrefix ?? DEFAULT_NETNS_PREFIX;
    this.binDirs = opts.cniBinDirs ?? [DEFAULT_CNI_BIN_DIR];
    this.log = opts.log;
  }

  /**
   * Runs `fn` after the earlier operations on the same pod; different pods proceed in parallel (at
   * most MAX_PARALLEL at once — host-local locks its own store), except that the very first
   * operation runs alone, so the bridge is created once.
   */
  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.perPod.get(key) ?? Promise.resolve();
    const gate = this.first; // the first operation's own gate is the already-resolved default
    const run = async () => {
      await gate;
      while (this.active >= MAX_PARALLEL) await new Promise<void>((r) => this.waiting.push(r));
      this.active++;
      try {
        return await fn();
      } finally {
        this.active--;
        this.waiting.shift()?.();
      }
    };
    const next = prev.then(run, run);
    const tail = next.catch(() => undefined);
    this.perPod.set(key, tail);
    void tail.then(() => { if (this.perPod.get(key) === tail) this.perPod.delete(key); });
    if (!this.firstStarted) { this.firstStarted = true; this.first = tail.then(() => undefined); }
    return next;
  }

  private runtime(uid: string, netns: string, pod?: PodRef): CniRuntime {
    const args: Record<string, string> = { IgnoreUnknown: '1', K8S_POD_UID: uid };
    if (pod) Object.assign(args, { K8S_POD_NAMESPACE: pod.namespace, K8S_POD_NAME: pod.name });
    return { containerId: uid, netns, ifName: IFNAME, binDirs: this.binDirs, args };
  }

  /** Writes `<dataDir>/cni/berth.conflist` (once per instance); returns its path. */
  writeConfig(): Promise<string> {
    this.written ??= writeBerthConflist(this.cniDir, this.conflist);
    return this.written;
  }

  /**
   * Gives the pod a network namespace and an address (`onNetns` is told as soon as the namespace
   * exists, before the CNI ADD). Idempotent: when the namespace and a cached
   * ADD result exist (agent restart), it runs CNI CHECK and returns the existing address; partial
   * state (namespace without result, result without namespace) is cleaned and set up afresh.
   */
  setup(pod: PodRef, opts: { onNetns?: (netnsPath: string) => void } = {}): Promise<PodNetworkInfo> {
    return this.serial(pod.uid, async () => {
      await this.writeConfig();
      const name = netnsName(pod.uid, this.prefix);
      const nsPath = netnsPath(name);
      const net = this.conflist.name;
      const cached = await this.cache.load(net, pod.uid, IFNAME);
      if (cached && netnsExists(name)) {
        try {
          await runConflist('CHECK', this.conflist, this.runtime(pod.uid, nsPath, pod), cached);
        } catch (err) {
          throw new Error(`network of pod ${pod.namespace}/${pod.name} (${pod.uid}) failed CNI CHECK; tear it down and set it up again: ${(err as Error).message}`);
        }
        return this.info(nsPath, cached, pod);
      }
      if (cached || netnsExists(name)) {
        this.log?.warn('pod network: cleaning partial state before setup', { pod: pod.uid, netns: name, cached: !!cached });
        await this.release(pod.uid, netnsExists(name) ? nsPath : '', cached);
      }
      await createNetns(name);
      opts.onNetns?.(nsPath);
      let result: CniResult | undefined;
      try {
        result = await runConflist('ADD', this.conflist, this.runtime(pod.uid, nsPath, pod));
        if (!result) throw new Error('CNI ADD returned no result');
        await this.cache.save(net, pod.uid, IFNAME, result);
        return this.info(nsPath, result, pod);
      } catch (err) {
        await this.release(pod.uid, nsPath, result).catch(() => undefined);
        await deleteNetns(name).catch(() => undefined);
        await this.cache.remove(net, pod.uid, IFNAME);
        throw err;
      }
    });
  }

  private info(nsPath: string, result: CniResult, pod: PodRef): PodNetworkInfo {
    const v4 = primaryIPv4(result);
    if (!v4 || !v4.gateway) throw new Error(`CNI result for pod ${pod.namespace}/${pod.name} has no IPv4 address/gateway`);
    return { netnsPath: nsPath, ip: v4.ip, gateway: v4.gateway };
  }

  /** CNI DEL (best effort) plus removal of any IPAM allocation DEL left behind. */
  private async release(uid: string, nsPath: string, cached: CniResult | undefined): Promise<void> {
    try {
      await runConflist('DEL', this.conflist, this.runtime(uid, nsPath), cached);
    } catch (err) {
      this.log?.warn('pod network: CNI DEL failed; releasing IPAM state directly', { pod: uid, error: (err as Error).message });
    }
    for (const [ip, owner] of await this.ipamAllocations()) {
      if (owner === uid) await rm(path.join(this.ipamDir, this.conflist.name, ip), { force: true });
    }
  }

  /**
   * Removes the pod's network: CNI DEL (veth, IPAM allocation), the namespace and the cached
   * result. Idempotent; works when any part is already gone.
   */
  teardown(podUid: string): Promise<void> {
    return this.serial(podUid, async () => {
      const name = netnsName(podUid, this.prefix);
      const cached = await this.cache.load(this.conflist.name, podUid, IFNAME);
      await this.release(podUid, netnsExists(name) ? netnsPath(name) : '', cached);
      await deleteNetns(name);
      await this.cache.remove(this.conflist.name, podUid, IFNAME);
    });
  }

  /** host-local allocations of this network: address → container id (pod uid). */
  async ipamAllocations(): Promise<Map<string, string>> {
    const dir = path.join(this.ipamDir, this.conflist.name);
    const out = new Map<string, string>();
    let names: string[];
    try {
      names = await readdir(dir);
    } catch {
      return out;
    }
    for (const n of names) {
      if (!/^\d+\.\d+\.\d+\.\d+$/.test(n)) continue; // skip lock and last_reserved_ip.* files
      const text = await readFile(path.join(dir, n), 'utf8').catch(() => '');
      const owner = text.split(/\r?\n/)[0]?.trim();
      if (owner) out.set(n, owner);
    }
    return out;
  }

  /** Pod uids with a cached CNI result. */
  private async cachedUids(): Promise<string[]> {
    const pre = `${this.conflist.name}-`;
    const suf = `-${IFNAME}.json`;
    try {
      return (await readdir(this.cache.dir)).filter((f) => f.startsWith(pre) && f.endsWith(suf)).map((f) => f.slice(pre.length, -suf.length));
    } catch {
      return [];
    }
  }

  /**
   * Rebuilds pod uid → {netnsPath, ip} from Berth's namespaces, cached CNI results and host-local
   * IPAM state (after an agent restart). Namespaces whose pod cannot be identified are left out
   * (see {@link cleanupOrphans}).
   */
  async recover(): Promise<Map<string, RecoveredPodNetwork>> {
    const byIp = await this.ipamAllocations();
    const candidates = new Set([...byIp.values(), ...(await this.cachedUids())]);
    const byName = new Map<string, string>();
    for (const uid of candidates) byName.set(netnsName(uid, this.prefix), uid);
    const out = new Map<string, RecoveredPodNetwork>();
    for (const name of await listNetns(this.prefix)) {
      const uid = byName.get(name);
      if (!uid) continue;
      const cached = await this.cache.load(this.conflist.name, uid, IFNAME);
      const ip = primaryIPv4(cached)?.ip ?? [...byIp].find(([, owner]) => owner === uid)?.[0];
      if (ip) out.set(uid, { netnsPath: netnsPath(name), ip });
    }
    return out;
  }

  /**
   * Tears down every pod network whose uid is not in `livePodUids` (IPAM allocations, cached
   * results, namespaces), and deletes Berth namespaces no live pod owns. Returns what was removed
   * (pod uids and namespace names).
   */
  async cleanupOrphans(livePodUids: Iterable<string>): Promise<string[]> {
    const live = new Set(livePodUids);
    const removed: string[] = [];
    const known = new Set([...(await this.ipamAllocations()).values(), ...(await this.cachedUids())]);
    for (const uid of known) {
      if (live.has(uid)) continue;
      await this.teardown(uid);
      removed.push(uid);
    }
    const keep = new Set([...live].map((u) => netnsName(u, this.prefix)));
    for (const name of await listNetns(this.prefix)) {
      if (keep.has(name)) continue;
      await this.serial(name, () => deleteNetns(name));
      removed.push(name);
    }
    return removed;
  }
}
