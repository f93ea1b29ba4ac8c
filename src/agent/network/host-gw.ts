/**
 * The `host-gw` backend (flannel's hostgw): for every other node, `ip route <its pod range> via
 * <its node address>` — nodes must share an L2 segment, since the next hop is the node itself.
 * No encapsulation: a pod's packet leaves with its own source address and arrives as sent. The
 * routes carry protocol {@link ROUTE_PROTO}, which is how the sync tells its own from the host's.
 */
import { ipJson } from './ip.ts';
import { ROUTE_PROTO, runPlan, type NetCommand, type NetworkBackend } from './backend.ts';
import { PUBLIC_IP_ANNOTATION, BACKEND_ANNOTATION, type PeerNode } from './peers.ts';

/** A route of ours as `ip -j route show proto 66` lists it. */
export interface OwnRoute {
  dst: string;
  gateway?: string;
  dev?: string;
}

/** Commands that turn `current` (our routes in the kernel) into one route per peer (pure). */
export function hostGwPlan(peers: PeerNode[], current: OwnRoute[]): NetCommand[] {
  const want = new Map(peers.map((p) => [p.podCidr, p.nodeIP]));
  const plan: NetCommand[] = [];
  const have = new Map(current.map((r) => [r.dst, r]));
  for (const [dst, via] of want) {
    const r = have.get(dst);
    if (r?.gateway === via) continue;
    plan.push({ cmd: 'ip', args: ['route', 'replace', dst, 'via', via, 'proto', ROUTE_PROTO] });
  }
  for (const r of current) {
    if (!want.has(r.dst)) plan.push({ cmd: 'ip', args: ['route', 'del', r.dst, 'proto', ROUTE_PROTO] });
  }
  return plan;
}

export class HostGwBackend implements NetworkBackend {
  readonly kind = 'host-gw' as const;

  constructor(private readonly nodeIP: string) {}

  async setup(): Promise<Record<string, string>> {
    await enableForwarding();
    return { [BACKEND_ANNOTATION]: this.kind, [PUBLIC_IP_ANNOTATION]: this.nodeIP };
  }

  async sync(peers: PeerNode[]): Promise<NetCommand[]> {
    const plan = hostGwPlan(peers, await ownRoutes());
    await runPlan(plan);
    return plan;
  }

  async remove(): Promise<void> {
    await runPlan(hostGwPlan([], await ownRoutes()));
  }
}

/** Our routes in the main table (every backend's, by protocol). */
export async function ownRoutes(): Promise<OwnRoute[]> {
  return ipJson<OwnRoute>('-4', 'route', 'show', 'proto', ROUTE_PROTO);
}

/**
 * A node routes other nodes' pod traffic (and node ports to remote pods) before its first pod
 * exists; the bridge plugin would only turn forwarding on with that pod.
 */
export async function enableForwarding(): Promise<void> {
  const { writeFile } = await import('node:fs/promises');
  await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
}
