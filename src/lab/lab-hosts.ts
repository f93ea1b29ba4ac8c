/**
 * Each lab host's own /etc/hosts, as a machine of its own has one: the machine's entries, then every
 * lab host's name and address (and the server's). The hosts share the machine's file system, so
 * without it a program on a host finds none of its neighbours by name or address — glusterd's reverse
 * lookup of each peer's address ended in "Could not lookup hostname" for every connection (the
 * machine's DNS server is out of the hosts' reach). Like `ip netns exec`'s /etc/netns/<name>/hosts,
 * the file is bind-mounted over /etc/hosts in a mount namespace of the host's own — but not that
 * command's whole recipe: it remounts /sys, which hides the cgroups.
 *
 * The agent's mount namespace is a copy of the machine's that keeps each mount's propagation
 * (`unshare --propagation unchanged`): mounts under the host's data dir (a shared bind mount of
 * itself, made before each start and undone by a power cut with everything under it) and in
 * /run/netns (shared since `ip netns add`) pass both ways, as when the agent ran in the machine's
 * namespace — a volume's FUSE mount is seen and unmounted by `lab kill`, and a test's mount under
 * the data dir (a small brick filesystem) reaches the host's glusterd. Only the mount holding
 * /etc/hosts is made a slave first, so the bind over it never propagates back to the machine.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run } from './host-command.ts';
import { mountsUnder } from './host-teardown.ts';
import type { LabPlan, NodePlan } from './lab-plan.ts';

/** The host's /etc/hosts file in its data dir (bind-mounted over /etc/hosts for its agent). */
export function hostsFilePath(node: Pick<NodePlan, 'dataDir'>): string {
  return join(node.dataDir, 'hosts');
}

/** The file: the machine's own entries (its name, localhost) first, then the lab's hosts and server. */
export function renderHostsFile(lab: Pick<LabPlan, 'id' | 'serverAddress'> & { nodes: readonly Pick<NodePlan, 'name' | 'address'>[] }, machineHosts: string): string {
  const lines = [machineHosts.trimEnd(), '', `# berth lab ${lab.id}`, `${lab.serverAddress}\tserver`, ...lab.nodes.map((n) => `${n.address}\t${n.name}`)];
  return `${lines.join('\n')}\n`;
}

/** Writes the host's file (again at every start: the machine's entries may have changed). */
export function writeHostsFile(lab: Parameters<typeof renderHostsFile>[0], node: Pick<NodePlan, 'dataDir'>): string {
  const file = hostsFilePath(node);
  writeFileSync(file, renderHostsFile(lab, readFileSync('/etc/hosts', 'utf8')));
  return file;
}

/**
 * `argv` run in a mount namespace of its own with `hostsFile` over /etc/hosts (the rest of the
 * machine's mounts as they propagate): unshare execs a shell that execs `argv`, so the pid stays.
 */
export function withOwnHosts(argv: readonly string[], hostsFile: string): string[] {
  const script = 'mount --make-slave "$(stat -c %m /etc/hosts)" && mount --bind "$0" /etc/hosts && exec "$@"';
  return ['unshare', '--mount', '--propagation', 'unchanged', '--', '/bin/sh', '-c', script, hostsFile, ...argv];
}

/** Makes `dir` a shared mount (a bind mount of itself) unless it is a mount point already. */
export async function ensureSharedMount(dir: string): Promise<void> {
  if (mountsUnder(dir).includes(dir)) return;
  await run('mount', ['--bind', dir, dir]);
  await run('mount', ['--make-shared', dir]);
}
