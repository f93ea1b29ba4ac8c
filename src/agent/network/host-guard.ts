/**
 * Keeps cluster traffic on the machine. Before the agent starts it checks that the pod and service
 * CIDRs overlap none of the host's own networks (interface addresses, routes other than the
 * default route, the DNS servers of /etc/resolv.conf) and refuses to start otherwise. It then
 * installs Berth's host routes: `unreachable <pod cluster CIDR>` (the more specific bridge route
 * wins for this node's range, every other pod IP is dropped instead of following the default
 * route out) and `<service CIDR> dev berth0` (host→service connects are routed before DNAT, so an
 * unreachable route there would break them; the kernel has no dummy interfaces).
 *
 * Berth's own footprint — anything on its bridge or its VXLAN device, the unreachable route for its
 * pod CIDR, and the routes to other nodes' pods its backends install (protocol 66) — is recognised
 * and not reported as a conflict, so a restart with the same flags passes.
 */
import { readFile } from 'node:fs/promises';
import { cidrContains, cidrsOverlap, formatCidr, nthAddress, parseCidr } from '../../apis/cidr.ts';
import { ip, ipJson } from './ip.ts';
import { DEFAULT_BRIDGE } from './cni-config.ts';
import { ROUTE_PROTO } from './backend.ts';
import { vxlanDevice } from './vxlan.ts';

/** An interface address, as the network it implies (`192.0.2.0/24` for `192.0.2.2/24`). */
export interface HostAddr {
  ifname: string;
  cidr: string;
}

/** A main-table route as `ip -j route` prints it (dst is `default`, a CIDR or a bare address). */
export interface HostRoute {
  dst: string;
  dev?: string;
  gateway?: string;
  type?: string;
  protocol?: string;
}

/** What the host has: addresses, routes and resolv.conf nameservers. */
export interface HostNetworks {
  addrs: HostAddr[];
  routes: HostRoute[];
  nameservers: string[];
}

/** The CIDRs Berth wants to use. */
export interface BerthCidrs {
  /** Pod cluster CIDR (every node's pod range lies inside it). */
  podCidr: string;
  serviceCidr?: string;
  /** Berth's bridge (its addresses and routes are Berth's own). Default `berth0`. */
  bridgeName?: string;
}

/** Reads the host's IPv4 addresses, main-table routes and resolv.conf nameservers. */
export async function readHostNetworks(resolvConfPath = '/etc/resolv.conf'): Promise<HostNetworks> {
  const links = await ipJson<{ ifname: string; addr_info?: { family: string; local: string; prefixlen: number }[] }>('-4', 'addr', 'show');
  const addrs: HostAddr[] = [];
  for (const l of links) {
    for (const a of l.addr_info ?? []) {
      if (a.family === 'inet') addrs.push({ ifname: l.ifname, cidr: formatCidr(parseCidr(`${a.local}/${a.prefixlen}`)) });
    }
  }
  const routes = await ipJson<HostRoute>('-4', 'route', 'show');
  let nameservers: string[] = [];
  try {
    const text = await readFile(resolvConfPath, 'utf8');
    nameservers = [...text.matchAll(/^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/gm)].map((m) => m[1]!);
  } catch {
    nameservers = [];
  }
  return { addrs, routes, nameservers };
}

function isOwnRoute(r: HostRoute, cidrs: BerthCidrs, bridge: string): boolean {
  if (r.dev === bridge || r.dev === vxlanDevice(bridge)) return true;
  // A backend's route to another node's pods, inside the pod cluster CIDR only.
  if (r.protocol === ROUTE_PROTO && r.dst !== 'default' && cidrContains(cidrs.podCidr, r.dst)) return true;
  return r.type === 'unreachable' && r.dst === formatCidr(parseCidr(cidrs.podCidr, true));
}

/**
 * Pure core of {@link checkCidrs}: every conflict as a human-readable sentence naming both ranges
 * and the flag to change. Empty when the CIDRs are safe to use.
 */
export function findCidrConflicts(cidrs: BerthCidrs, host: HostNetworks): string[] {
  const bridge = cidrs.bridgeName ?? DEFAULT_BRIDGE;
  const wanted: { label: string; flag: string; cidr: string }[] = [
    { label: 'pod CIDR', flag: '--pod-cidr', cidr: formatCidr(parseCidr(cidrs.podCidr, true)) },
  ];
  if (cidrs.serviceCidr) wanted.push({ label: 'service CIDR', flag: '--service-cidr', cidr: formatCidr(parseCidr(cidrs.serviceCidr, true)) });
  const out: string[] = [];
  if (wanted.length === 2 && cidrsOverlap(wanted[0]!.cidr, wanted[1]!.cidr)) {
    out.push(`pod CIDR ${wanted[0]!.cidr} overlaps service CIDR ${wanted[1]!.cidr}; choose disjoint ranges with --pod-cidr/--service-cidr`);
  }
  for (const w of wanted) {
    const seen = new Set<string>();
    for (const a of host.addrs) {
      if (a.ifname === bridge || a.ifname === vxlanDevice(bridge) || !cidrsOverlap(w.cidr, a.cidr)) continue;
      seen.add(a.cidr);
      out.push(`${w.label} ${w.cidr} overlaps ${a.cidr} on ${a.ifname}; choose another with ${w.flag}`);
    }
    for (const r of host.routes) {
      if (r.dst === 'default' || isOwnRoute(r, cidrs, bridge)) continue;
      const dst = formatCidr(parseCidr(r.dst));
      if (seen.has(dst) || !cidrsOverlap(w.cidr, dst)) continue;
      const via = [r.type && r.type !== 'unicast' ? r.type : '', r.gateway ? `via ${r.gateway}` : '', r.dev ? `dev ${r.dev}` : ''].filter(Boolean).join(' ');
      out.push(`${w.label} ${w.cidr} overlaps route ${dst}${via ? ` (${via})` : ''}; choose another with ${w.flag}`);
    }
    for (const ns of host.nameservers) {
      if (cidrContains(w.cidr, ns)) out.push(`${w.label} ${w.cidr} contains the host's DNS server ${ns} (/etc/resolv.conf); choose another with ${w.flag}`);
    }
  }
  return out;
}

/**
 * Throws when the pod or service CIDR overlaps the host's networks (see {@link findCidrConflicts});
 * the message names both ranges. Call before touching any host state.
 */
export async function checkCidrs(cidrs: BerthCidrs, host?: HostNetworks): Promise<void> {
  const conflicts = findCidrConflicts(cidrs, host ?? (await readHostNetworks()));
  if (conflicts.length) {
    throw new Error(`refusing to start: cluster traffic could leave the machine.\n  ${conflicts.join('\n  ')}`);
  }
}

/** Options of {@link ensureHostRoutes} / {@link removeHostRoutes}. */
export interface HostRouteOptions {
  podClusterCidr: string;
  serviceCidr?: string;
  bridgeName?: string;
  /**
   * The node gateway, `<first address of the node pod CIDR>/<prefix>`: put on the bridge at start
   * (the CNI bridge plugin would add it with the first pod) so node-local services such as the
   * embedded DNS server can listen on it before any pod exists.
   */
  gatewayCidr?: string;
}

/** `10.42.0.0/24` → `10.42.0.1/24`. */
export function gatewayCidrOf(nodePodCidr: string): string {
  const c = parseCidr(nodePodCidr, true);
  return `${nthAddress(c, 1)}/${c.prefix}`;
}

async function linkExists(name: string): Promise<boolean> {
  try {
    await ip('link', 'show', 'dev', name);
    return true;
  } catch {
    return false;
  }
}

/** Creates Berth's bridge if missing (the CNI bridge plugin adopts it) and sets it up. */
export async function ensureBridge(name = DEFAULT_BRIDGE): Promise<void> {
  if (!(await linkExists(name))) {
    try {
      await ip('link', 'add', name, 'type', 'bridge');
    } catch (err) {
      if (!(await linkExists(name))) throw err;
    }
  }
  await ip('link', 'set', name, 'up');
}

/**
 * Installs (idempotently) the unreachable route for the pod cluster CIDR and the service CIDR
 * route to the bridge, creating the bridge first when needed.
 */
export async function ensureHostRoutes(opts: HostRouteOptions): Promise<void> {
  const bridge = opts.bridgeName ?? DEFAULT_BRIDGE;
  await ip('route', 'replace', 'unreachable', formatCidr(parseCidr(opts.podClusterCidr, true)));
  if (opts.serviceCidr || opts.gatewayCidr) await ensureBridge(bridge);
  if (opts.gatewayCidr) {
    // A node that got another range (its Node deleted and made again, node IPAM gave a new one)
    // loses the old gateway: the CNI bridge plugin refuses a bridge with a different address.
    const cluster = parseCidr(opts.podClusterCidr, true);
    const have = await ipJson<{ addr_info?: { family: string; local: string; prefixlen: number }[] }>('-4', 'addr', 'show', 'dev', bridge);
    for (const a of have.flatMap((l) => l.addr_info ?? [])) {
      const cidr = `${a.local}/${a.prefixlen}`;
      if (cidr !== opts.gatewayCidr && cidrContains(cluster, a.local)) await ip('addr', 'del', cidr, 'dev', bridge);
    }
    await ip('addr', 'replace', opts.gatewayCidr, 'dev', bridge);
  }
  if (opts.serviceCidr) await ip('route', 'replace', formatCidr(parseCidr(opts.serviceCidr, true)), 'dev', bridge);
}

async function routeExists(...selector: string[]): Promise<boolean> {
  return (await ipJson<HostRoute>('-4', 'route', 'show', ...selector)).length > 0;
}

/** Removes the routes {@link ensureHostRoutes} installed (absent ones are fine). */
export async function removeHostRoutes(opts: HostRouteOptions): Promise<void> {
  const pod = formatCidr(parseCidr(opts.podClusterCidr, true));
  if (await routeExists('type', 'unreachable', 'exact', pod)) await ip('route', 'del', 'unreachable', pod);
  if (opts.serviceCidr) {
    const svc = formatCidr(parseCidr(opts.serviceCidr, true));
    const bridge = opts.bridgeName ?? DEFAULT_BRIDGE;
    if ((await linkExists(bridge)) && (await routeExists('exact', svc, 'dev', bridge))) await ip('route', 'del', svc, 'dev', bridge);
  }
}

/** Deletes Berth's bridge (and with it its routes); absent is fine. For `--cleanup` shutdowns. */
export async function removeBridge(name = DEFAULT_BRIDGE): Promise<void> {
  if (await linkExists(name)) await ip('link', 'del', name);
}
