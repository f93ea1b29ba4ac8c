/**
 * Named network namespaces (`ip netns`): one per pod, `berth-<uid-short>`, bind-mounted at
 * /var/run/netns/NAME so it outlives the agent process (pods keep networking across restarts).
 */
import { readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { netnsAddBySyscall, unmountBySyscall } from '../../host/spawner.ts';
import { ip } from './ip.ts';
import { DEFAULT_BRIDGE } from './cni-config.ts';

/** Where iproute2 bind-mounts named namespaces. */
export const NETNS_DIR = '/var/run/netns';
/** Prefix of every namespace Berth creates. */
export const DEFAULT_NETNS_PREFIX = 'berth-';

/**
 * The pod namespaces' prefix of the agent on `bridge`: `berth-` on the default bridge, `<bridge>-`
 * on another. Agents side by side on one machine (berth lab, two berth ups) share /var/run/netns, and
 * each removes the namespaces of its prefix that no pod of its own holds: one prefix per bridge keeps
 * one node from deleting another's pods' networks.
 */
export function netnsPrefixFor(bridge: string): string {
  return bridge === DEFAULT_BRIDGE ? DEFAULT_NETNS_PREFIX : `${bridge}-`;
}

/** Namespace name for a pod: prefix + the first 16 hex digits of its uid (dashes dropped). */
export function netnsName(podUid: string, prefix = DEFAULT_NETNS_PREFIX): string {
  const short = podUid.replace(/-/g, '').toLowerCase().slice(0, 16);
  if (!/^[0-9a-z]+$/.test(short)) throw new Error(`pod uid "${podUid}" cannot name a network namespace`);
  return prefix + short;
}

/** Path of a named namespace. */
export function netnsPath(name: string): string {
  return path.join(NETNS_DIR, name);
}

/** True when the named namespace exists. */
export function netnsExists(name: string): boolean {
  return existsSync(netnsPath(name));
}

/**
 * Creates the namespace with its `lo` up (no error when it already exists); returns its path. The
 * agent's spawn helper does what `ip netns add` and `ip link set lo up` do (two programs per pod
 * less); without it, ip runs.
 */
export async function createNetns(name: string): Promise<string> {
  const p = netnsPath(name);
  if (!netnsExists(name)) {
    try {
      if (await netnsAddBySyscall(p, true)) return p;
      await ip('netns', 'add', name);
    } catch (err) {
      if (!netnsExists(name)) throw err; // lost a race with a concurrent add: fine
    }
  }
  await loopbackUp(name);
  return p;
}

/** Brings up `lo` in the named namespace (what the CNI `loopback` plugin does). */
export async function loopbackUp(name: string): Promise<void> {
  await ip('-n', name, 'link', 'set', 'lo', 'up');
}

/**
 * Deletes the namespace (as `ip netns del`: a lazy unmount, then the file); a missing one is not an
 * error. The unmount is the spawn helper's system call where it runs.
 */
export async function deleteNetns(name: string): Promise<void> {
  if (!netnsExists(name)) return;
  const p = netnsPath(name);
  try {
    // EINVAL: not a mount point (a namespace file whose creation failed half-way): just remove it.
    const unmounted = await unmountBySyscall(p, MNT_DETACH).catch((err: Error) => { if (/Invalid argument/.test(err.message)) return true; throw err; });
    if (unmounted) await rm(p, { force: true });
    else await ip('netns', 'del', name);
  } catch (err) {
    if (netnsExists(name)) throw err;
  }
}

const MNT_DETACH = 2;

/** Names of the namespaces with the given prefix (Berth's). */
export async function listNetns(prefix = DEFAULT_NETNS_PREFIX): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).filter((n) => n.startsWith(prefix)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Deletes every prefixed namespace not in `keep`; returns the names deleted. */
export async function deleteLeftoverNetns(keep: Iterable<string>, prefix = DEFAULT_NETNS_PREFIX): Promise<string[]> {
  const keepSet = new Set(keep);
  const removed: string[] = [];
  for (const name of await listNetns(prefix)) {
    if (keepSet.has(name)) continue;
    await deleteNetns(name);
    removed.push(name);
  }
  return removed;
}
