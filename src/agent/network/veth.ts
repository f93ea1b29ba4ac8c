/**
 * A pod's link to the node bridge: a veth pair whose host end is a port of the bridge (hairpin on)
 * and whose other end is `eth0` in the pod's namespace, with the pod's address and a default route
 * via the node gateway — what the CNI `bridge` plugin did for Berth (isGateway, no masquerade),
 * done by two `ip -batch` runs instead of two Go programs (bridge, then host-local). A Go plugin
 * start costs ~10 ms of CPU and the ADDs of a burst queued behind each other: 100 pods' networks
 * took ~2 s on two cores (issue 19).
 */
import { runCommand } from '../../host/spawner.ts';

/** The host end's name: `vb` + 13 hex digits of the pod uid (interface names have 15 characters at most). */
export function hostVethName(podUid: string): string {
  return `vb${podUid.replace(/-/g, '').slice(0, 13)}`;
}

export interface VethPlan {
  /** The pod's namespace (a name under /var/run/netns). */
  netns: string;
  hostVeth: string;
  bridge: string;
  /** The pod's address, `<ip>/<prefix>`. */
  cidr: string;
  gateway: string;
  mtu?: number;
}

async function ipBatch(args: string[], lines: string[]): Promise<void> {
  const r = await runCommand('ip', [...args, '-batch', '-'], { input: lines.join('\n') + '\n' });
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')} -batch: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
}

/** Creates the pair, plugs the host end into the bridge and configures `eth0` in the namespace. */
export async function attachVeth(p: VethPlan): Promise<void> {
  const mtu = p.mtu ? ` mtu ${p.mtu}` : '';
  await ipBatch([], [
    `link add ${p.hostVeth}${mtu} type veth peer name eth0${mtu} netns ${p.netns}`,
    `link set ${p.hostVeth} master ${p.bridge}`,
    // A pod reaching itself through a Service's address: the reply goes back out of the port it came in.
    `link set ${p.hostVeth} type bridge_slave hairpin on`,
    `link set ${p.hostVeth} up`,
  ]);
  await ipBatch(['-n', p.netns], [
    `addr add ${p.cidr} dev eth0`,
    'link set eth0 up',
    `route add default via ${p.gateway} dev eth0`,
  ]);
}

/** Deletes the host end (and so the pair); a missing link is fine. */
export async function detachVeth(hostVeth: string): Promise<void> {
  const r = await runCommand('ip', ['link', 'del', hostVeth]);
  if (r.code !== 0 && !/Cannot find device|does not exist/.test(r.stderr)) throw new Error(`ip link del ${hostVeth}: ${r.stderr.trim()}`);
}

/** The addresses `eth0` has in the namespace (empty when it has none or the namespace is gone). */
export async function podAddresses(netns: string): Promise<string[]> {
  const r = await runCommand('ip', ['-n', netns, '-j', '-4', 'addr', 'show', 'dev', 'eth0']);
  if (r.code !== 0) return [];
  const links = JSON.parse(r.stdout.trim() || '[]') as { addr_info?: { local: string; prefixlen: number }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`));
}
