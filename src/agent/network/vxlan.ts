/**
 * The `vxlan` backend (flannel's vxlan backend, its kernel-route mode): one VXLAN device per node
 * (VNI 1, UDP 8472, no learning) whose address is the network address of the node's pod range
 * (`10.42.1.0/32`, the "VTEP IP"), and per other node three kernel entries kept from its Node:
 *
 *   route   <their pod range> via <their VTEP IP> dev berth.1 onlink   which device, which next hop
 *   neigh   <their VTEP IP> lladdr <their VTEP MAC> dev berth.1 permanent   next hop → their MAC
 *   fdb     <their VTEP MAC> dev berth.1 dst <their node address>   their MAC → where to send the UDP
 *
 * so no ARP or flooding ever crosses the wire, and nodes may be on different L3 networks. The device
 * MAC and node address are published on this node's Node (annotations in peers.ts). The device's
 * MTU is the link's minus the 50-byte VXLAN overhead; pods get the same MTU (see agent.ts).
 */
import { formatCidr, intToIp, parseCidr } from '../../apis/cidr.ts';
import { ip, ipJson } from './ip.ts';
import { ROUTE_PROTO, runPlan, type NetCommand, type NetworkBackend } from './backend.ts';
import { enableForwarding } from './host-gw.ts';
import { BACKEND_ANNOTATION, PUBLIC_IP_ANNOTATION, VXLAN_MAC_ANNOTATION, type PeerNode } from './peers.ts';
import { runCommand } from '../../host/spawner.ts';

export const VXLAN_VNI = 1;
export const VXLAN_PORT = 8472;
/** IPv4 + UDP + VXLAN + inner Ethernet. */
export const VXLAN_OVERHEAD = 50;

/** The VXLAN device beside `bridge` (`berth.1` for berth0; interface names have 15 characters at most). */
export function vxlanDevice(bridge: string): string {
  return bridge === 'berth0' ? `berth.${VXLAN_VNI}` : `${bridge.slice(0, 13)}.${VXLAN_VNI}`;
}

/** The VTEP address of a node: its pod range's network address (flannel's choice). */
export function vtepIP(podCidr: string): string {
  return intToIp(parseCidr(podCidr, true).base);
}

/** The kernel state of the device, as `ip -j` and `bridge -j` list it. */
export interface VxlanState {
  /** Our routes through the device (protocol 66). */
  routes: { dst: string; gateway?: string; dev?: string }[];
  /** Permanent neighbours on the device. */
  neighs: { dst: string; lladdr?: string }[];
  /** Unicast FDB entries on the device (`dst` = the remote node). */
  fdb: { mac: string; dst?: string }[];
}

/** Commands that turn `current` into the route/neighbour/FDB triple per peer (pure). Peers without a VTEP MAC are skipped. */
export function vxlanPlan(dev: string, peers: PeerNode[], current: VxlanState): NetCommand[] {
  const want = peers.filter((p) => p.vtepMac).map((p) => ({ cidr: formatCidr(parseCidr(p.podCidr, true)), vtep: vtepIP(p.podCidr), mac: p.vtepMac!, nodeIP: p.nodeIP }));
  const plan: NetCommand[] = [];
  const fdb = new Map(current.fdb.filter((f) => f.dst).map((f) => [f.mac.toLowerCase(), f.dst]));
  const neigh = new Map(current.neighs.map((n) => [n.dst, n.lladdr?.toLowerCase()]));
  const route = new Map(current.routes.map((r) => [r.dst, r]));
  // Additions in the order a packet needs them: where the MAC lives, the MAC of the next hop, the route.
  for (const w of want) {
    if (fdb.get(w.mac) !== w.nodeIP) plan.push({ cmd: 'bridge', args: ['fdb', 'replace', w.mac, 'dev', dev, 'dst', w.nodeIP, 'self', 'permanent'] });
  }
  for (const w of want) {
    if (neigh.get(w.vtep) !== w.mac) plan.push({ cmd: 'ip', args: ['neigh', 'replace', w.vtep, 'lladdr', w.mac, 'dev', dev, 'nud', 'permanent'] });
  }
  for (const w of want) {
    const r = route.get(w.cidr);
    if (r?.gateway === w.vtep && r.dev === dev) continue;
    plan.push({ cmd: 'ip', args: ['route', 'replace', w.cidr, 'via', w.vtep, 'dev', dev, 'onlink', 'proto', ROUTE_PROTO] });
  }
  // Removals the other way round: nothing routes to an entry that is going.
  const cidrs = new Set(want.map((w) => w.cidr));
  const vteps = new Set(want.map((w) => w.vtep));
  const macs = new Set(want.map((w) => w.mac));
  for (const r of current.routes) if (!cidrs.has(r.dst)) plan.push({ cmd: 'ip', args: ['route', 'del', r.dst, 'proto', ROUTE_PROTO] });
  for (const n of current.neighs) if (!vteps.has(n.dst)) plan.push({ cmd: 'ip', args: ['neigh', 'del', n.dst, 'dev', dev] });
  for (const [mac, dst] of fdb) if (!macs.has(mac)) plan.push({ cmd: 'bridge', args: ['fdb', 'del', mac, 'dev', dev, 'dst', dst!, 'self'] });
  return plan;
}

interface LinkInfo {
  ifname: string;
  address?: string;
  mtu?: number;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number; link?: string } };
}

export class VxlanBackend implements NetworkBackend {
  readonly kind = 'vxlan' as const;
  readonly dev: string;

  /** `nodeIP`: this node's address (the VXLAN source); `podCidr`: this node's pod range. */
  constructor(private readonly nodeIP: string, private readonly podCidr: string, bridge: string) {
    this.dev = vxlanDevice(bridge);
  }

  /** The MTU pods get: the underlying link's minus the VXLAN overhead. */
  static async podMtu(nodeIP: string): Promise<number> {
    const link = await linkOf(nodeIP);
    return (link.mtu ?? 1500) - VXLAN_OVERHEAD;
  }

  async setup(): Promise<Record<string, string>> {
    await enableForwarding();
    const under = await linkOf(this.nodeIP);
    let dev = (await ipJson<LinkInfo>('-d', 'link', 'show')).find((l) => l.ifname === this.dev);
    const data = dev?.linkinfo?.info_data;
    // A device of another shape (another address after a re-address, another VNI) is made again.
    if (dev && (dev.linkinfo?.info_kind !== 'vxlan' || data?.id !== VXLAN_VNI || data?.local !== this.nodeIP || data?.port !== VXLAN_PORT)) {
      await ip('link', 'del', this.dev);
      dev = undefined;
    }
    if (!dev) {
      await ip('link', 'add', this.dev, 'type', 'vxlan', 'id', String(VXLAN_VNI), 'dstport', String(VXLAN_PORT),
        'local', this.nodeIP, 'dev', under.ifname, 'nolearning', 'ttl', '64');
    }
    await ip('link', 'set', this.dev, 'mtu', String((under.mtu ?? 1500) - VXLAN_OVERHEAD));
    // Only the VTEP address: no subnet route, the per-peer routes say everything.
    const vtep = `${vtepIP(this.podCidr)}/32`;
    const addrs = await ipJson<{ addr_info?: { local: string; prefixlen: number }[] }>('-4', 'addr', 'show', 'dev', this.dev);
    for (const a of addrs.flatMap((l) => l.addr_info ?? [])) {
      if (`${a.local}/${a.prefixlen}` !== vtep) await ip('addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', this.dev);
    }
    await ip('addr', 'replace', vtep, 'dev', this.dev);
    await ip('link', 'set', this.dev, 'up');
    const mac = (await ipJson<LinkInfo>('link', 'show', 'dev', this.dev))[0]?.address;
    if (!mac) throw new Error(`${this.dev} has no MAC address`);
    return { [BACKEND_ANNOTATION]: this.kind, [PUBLIC_IP_ANNOTATION]: this.nodeIP, [VXLAN_MAC_ANNOTATION]: mac };
  }

  async state(): Promise<VxlanState> {
    const routes = await ipJson<VxlanState['routes'][number]>('-4', 'route', 'show', 'proto', ROUTE_PROTO, 'dev', this.dev);
    const neighs = (await ipJson<VxlanState['neighs'][number] & { state?: string[] }>('-4', 'neigh', 'show', 'dev', this.dev, 'nud', 'permanent'));
    const r = await runCommand('bridge', ['-j', 'fdb', 'show', 'dev', this.dev]);
    if (r.code !== 0) throw new Error(`bridge fdb show dev ${this.dev}: ${r.stderr.trim()}`);
    const fdb = (r.stdout.trim() ? JSON.parse(r.stdout) as VxlanState['fdb'] : []).filter((f) => f.dst && f.mac !== '00:00:00:00:00:00');
    return { routes: routes.map((x) => ({ ...x, dev: this.dev })), neighs, fdb };
  }

  async sync(peers: PeerNode[]): Promise<NetCommand[]> {
    const plan = vxlanPlan(this.dev, peers, await this.state());
    await runPlan(plan);
    return plan;
  }

  async remove(): Promise<void> {
    try { await ip('link', 'del', this.dev); } catch { /* gone already: its routes and entries went with it */ }
  }
}

/** The interface holding `address` (and its MTU). */
async function linkOf(address: string): Promise<{ ifname: string; mtu?: number }> {
  const links = await ipJson<{ ifname: string; mtu?: number; addr_info?: { local: string }[] }>('-4', 'addr', 'show');
  const link = links.find((l) => l.addr_info?.some((a) => a.local === address));
  if (!link) throw new Error(`no interface has the node address ${address}`);
  return link;
}
