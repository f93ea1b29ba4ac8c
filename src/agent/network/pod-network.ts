/**
 * Pod networking for one node: each pod gets a named network namespace (`berth-<uid-short>`) wired
 * to the `berth0` bridge by a veth pair (veth.ts: what the CNI bridge plugin of Berth's conflist
 * did), with an address of the node's pod CIDR from a host-local-compatible store
 * (host-local-ipam.ts). Allocations and cached results (CNI result format, as libcni caches them)
 * are named by the pod uid, which is what lets {@link PodNetwork.recover} rebuild the map after an
 * agent restart — also from state an agent that still ran the CNI plugins wrote.
 *
 * Every operation is idempotent and tolerates partial state left by a crash.
 */
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../util/log.ts';
import { nthAddress, parseCidr } from '../../apis/cidr.ts';
import { ResultCache, primaryIPv4, type CniConflist, type CniResult } from './cni.ts';
import { DEFAULT_BRIDGE, DEFAULT_NETWORK_NAME, DEFAULT_NODE_POD_CIDR, buildBerthConflist, writeBerthConflist } from './cni-config.ts';
import { ensureBridge } from './host-guard.ts';
import { HostLocalIpam } from './host-local-ipam.ts';
import { ip, ipJson } from './ip.ts';
import { DEFAULT_NETNS_PREFIX, createNetns, deleteNetns, listNetns, netnsExists, netnsName, netnsPath } from './netns.ts';
import { attachVeth, detachVeth, hostVethName, podAddresses } from './veth.ts';

const IFNAME = 'eth0';
/** Pod network operations in flight at once (each runs two or three short `ip` processes). */
const MAX_PARALLEL = 32;

/** Configuration of a {@link PodNetwork}. */
export interface PodNetworkOptions {
  /** Agent data directory; CNI files live in `<dataDir>/cni` (conflist, `ipam/`, `results/`). */
  dataDir: string;
  /** This node's pod range (node.spec.podCIDR). Default 10.88.0.0/24. */
  nodePodCidr?: string;
  bridgeName?: string;
  netnsPrefix?: string;
  networkName?: string;
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
  private readonly ipam: HostLocalIpam;
  private readonly prefix: string;
  private readonly bridge: string;
  private readonly gatewayCidr: string;
  private readonly mtu?: number;
  private readonly log?: Logger;
  private written?: Promise<string>;
  private bridgeReady?: Promise<void>;
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
    const range = parseCidr(opts.nodePodCidr ?? DEFAULT_NODE_POD_CIDR, true);
    const gateway = nthAddress(range, 1);
    this.ipam = new HostLocalIpam(this.ipamDir, this.conflist.name, opts.nodePodCidr ?? DEFAULT_NODE_POD_CIDR, gateway);
    this.gatewayCidr = `${gateway}/${range.prefix}`;
    this.prefix = opts.netnsPrefix ?? DEFAULT_NETNS_PREFIX;
    this.bridge = opts.bridgeName ?? DEFAULT_BRIDGE;
    this.mtu = opts.mtu;
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

  /**
   * The bridge up with the node gateway on it and forwarding on — what the bridge plugin's
   * isGateway did on every ADD; here once (again after a failure). The agent's host network
   * preparation has usually done it already.
   */
  private ensureBridge(): Promise<void> {
    this.bridgeReady ??= (async () => {
      await ensureBridge(this.bridge);
      const have = await ipJson<{ addr_info?: { local: string; prefixlen: number }[] }>('-4', 'addr', 'show', 'dev', this.bridge);
      if (!have.some((l) => (l.addr_info ?? []).some((a) => `${a.local}/${a.prefixlen}` === this.gatewayCidr))) {
        await ip('addr', 'replace', this.gatewayCidr, 'dev', this.bridge);
      }
      await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
    })();
    this.bridgeReady.catch(() => { this.bridgeReady = undefined; });
    return this.bridgeReady;
  }

  /** Writes `<dataDir>/cni/berth.conflist` (once per instance): what the pod network is, in CNI's words; returns its path. */
  writeConfig(): Promise<string> {
    this.written ??= writeBerthConflist(this.cniDir, this.conflist);
    return this.written;
  }

  /**
   * Gives the pod a network namespace and an address (`onNetns` is told as soon as the namespace
   * exists, before the veth). Idempotent: when the namespace and a cached result exist (agent
   * restart), it checks that the pod still has its address (CNI CHECK's job) and returns it;
   * partial state (namespace without result, result without namespace) is cleaned and set up afresh.
   */
  setup(pod: PodRef, opts: { onNetns?: (netnsPath: string) => void } = {}): Promise<PodNetworkInfo> {
    return this.serial(pod.uid, async () => {
      await this.writeConfig();
      const name = netnsName(pod.uid, this.prefix);
      const nsPath = netnsPath(name);
      const net = this.conflist.name;
      const cached = await this.cache.load(net, pod.uid, IFNAME);
      if (cached && netnsExists(name)) {
        const want = primaryIPv4(cached)?.cidr;
        if (!want || !(await podAddresses(name)).includes(want)) {
          throw new Error(`network of pod ${pod.namespace}/${pod.name} (${pod.uid}) failed its check (${IFNAME} lacks ${want ?? 'an address'}); tear it down and set it up again`);
        }
        return this.info(nsPath, cached, pod);
      }
      if (cached || netnsExists(name)) {
        this.log?.warn('pod network: cleaning partial state before setup', { pod: pod.uid, netns: name, cached: !!cached });
        await this.release(pod.uid, cached);
        await deleteNetns(name);
      }
      await this.ensureBridge();
      await createNetns(name);
      opts.onNetns?.(nsPath);
      const hostVeth = hostVethName(pod.uid);
      try {
        const a = await this.ipam.allocate(pod.uid, IFNAME);
        await attachVeth({ netns: name, hostVeth, bridge: this.bridge, cidr: a.cidr, gateway: a.gateway, mtu: this.mtu });
        const result: CniResult = {
          cniVersion: this.conflist.cniVersion,
          interfaces: [{ name: this.bridge }, { name: hostVeth }, { name: IFNAME, sandbox: nsPath }],
          ips: [{ address: a.cidr, gateway: a.gateway, interface: 2 }],
          routes: [{ dst: '0.0.0.0/0', gw: a.gateway }],
        };
        await this.cache.save(net, pod.uid, IFNAME, result);
        return this.info(nsPath, result, pod);
      } catch (err) {
        await this.release(pod.uid, undefined).catch(() => undefined);
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

  /**
   * The pod's veth (its host end: the cached result's — a plugin-made pair has a random name — or
   * ours) and its address. Deleting the host end removes the pair at once; the namespace going
   * would remove it too, but only once the kernel gets round to destroying the namespace.
   */
  private async release(uid: string, cached: CniResult | undefined): Promise<void> {
    const named = cached?.interfaces?.find((i) => !i.sandbox && i.name !== this.bridge)?.name;
    for (const veth of new Set([named, hostVethName(uid)].filter((n): n is string => !!n))) {
      await detachVeth(veth).catch((err) => this.log?.warn('pod network: veth not deleted', { pod: uid, veth, error: (err as Error).message }));
    }
    await this.ipam.release(uid);
  }

  /**
   * Removes the pod's network: veth, IPAM allocation, the namespace and the cached result.
   * Idempotent; works when any part is already gone.
   */
  teardown(podUid: string): Promise<void> {
    return this.serial(podUid, async () => {
      const name = netnsName(podUid, this.prefix);
      const cached = await this.cache.load(this.conflist.name, podUid, IFNAME);
      await this.release(podUid, cached);
      await deleteNetns(name);
      await this.cache.remove(this.conflist.name, podUid, IFNAME);
    });
  }

  /** host-local allocations of this network: address → container id (pod uid). */
  ipamAllocations(): Promise<Map<string, string>> {
    return this.ipam.allocations();
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
