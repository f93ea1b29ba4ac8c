/**
 * The lab's wires: a private bridge in the machine's own namespace and one network namespace per
 * host, joined to it by a veth pair (kind's docker network and node containers, made of bare
 * iproute2). Hosts get their address and `lo`, and no default route: nothing they send has a way
 * off the lab's /24. A host's "cable" is the bridge-side end of its veth: pulling it (link down)
 * leaves the host's own eth0 and routes as they are, as a real unplugged cable does.
 */
import { existsSync } from 'node:fs';
import { run, tryRun } from './host-command.ts';
import type { NodePlan } from './lab-plan.ts';

export const NETNS_DIR = '/run/netns';

export function netnsPath(name: string): string {
  return `${NETNS_DIR}/${name}`;
}

/** Every IPv4 address on this machine's own interfaces (to pick a lab subnet nobody uses). */
export async function machineAddresses(): Promise<string[]> {
  const links = JSON.parse(await run('ip', ['-j', '-4', 'addr', 'show'])) as { addr_info?: { local?: string }[] }[];
  return links.flatMap((l) => (l.addr_info ?? []).map((a) => a.local ?? '')).filter(Boolean);
}

export async function linkExists(name: string): Promise<boolean> {
  return tryRun('ip', ['link', 'show', 'dev', name]);
}

/** The lab bridge with the server's address on it; refuses when a link of that name exists. */
export async function createBridge(bridge: string, serverAddress: string): Promise<void> {
  if (await linkExists(bridge)) throw new Error(`a link named ${bridge} exists already (another lab in the same data directory, or one not cleaned up: berth lab down)`);
  await run('ip', ['link', 'add', bridge, 'type', 'bridge']);
  await run('ip', ['addr', 'add', `${serverAddress}/24`, 'dev', bridge]);
  await run('ip', ['link', 'set', bridge, 'up']);
}

/** A host: its namespace with `lo` up, a veth into `bridge`, its address on eth0; no default route. */
export async function createHost(node: NodePlan, bridge: string): Promise<void> {
  if (existsSync(netnsPath(node.netns))) throw new Error(`network namespace ${node.netns} exists already (berth lab down cleans up an old lab)`);
  await run('ip', ['netns', 'add', node.netns]);
  await run('ip', ['-n', node.netns, 'link', 'set', 'lo', 'up']);
  await run('ip', ['link', 'add', node.hostVeth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', node.netns]);
  await run('ip', ['link', 'set', node.hostVeth, 'master', bridge]);
  await run('ip', ['link', 'set', node.hostVeth, 'up']);
  await run('ip', ['-n', node.netns, 'addr', 'add', `${node.address}/24`, 'dev', 'eth0']);
  await run('ip', ['-n', node.netns, 'link', 'set', 'eth0', 'up']);
}

/** Plugs (up) or pulls (down) the host's cable: the bridge side of its veth. */
export async function setCable(node: NodePlan, up: boolean): Promise<void> {
  await run('ip', ['link', 'set', node.hostVeth, up ? 'up' : 'down']);
}

/** True when the host's cable is plugged in (its bridge port is administratively up). */
export async function cableUp(node: NodePlan): Promise<boolean> {
  const [link] = JSON.parse(await run('ip', ['-j', 'link', 'show', 'dev', node.hostVeth])) as { flags?: string[] }[];
  return !!link?.flags?.includes('UP');
}

/**
 * Removes a host's veth and namespace (the namespace's own links, routes and nftables tables go
 * with it). One namespace at a time: deleting many at once stalls new ones for minutes.
 */
export async function deleteHost(node: Pick<NodePlan, 'netns' | 'hostVeth'>): Promise<string[]> {
  const removed: string[] = [];
  if (await tryRun('ip', ['link', 'del', node.hostVeth])) removed.push(`link ${node.hostVeth}`);
  if (existsSync(netnsPath(node.netns))) {
    await run('ip', ['netns', 'del', node.netns]);
    removed.push(`netns ${node.netns}`);
  }
  return removed;
}

export async function deleteBridge(bridge: string): Promise<string[]> {
  return (await tryRun('ip', ['link', 'del', bridge])) ? [`link ${bridge}`] : [];
}
