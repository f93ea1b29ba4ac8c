/**
 * Pulling the plug on one lab host: every process of it killed (its agent, the agent's shims and
 * spawn helper, every pod's processes — found by the host's cgroup subtree and by network namespace:
 * the host's own and its pods'), then what a reboot would not find again: runc's record of its
 * containers, the mounts under its data directory, its pods' network namespaces and its cgroups.
 * `berth lab kill` stops here (the host's namespace and data stay for `restart`); `down` also
 * removes the host's namespace. The counterpart of `docker kill` on a kind node, whose container
 * boundary does this for kind.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unmountBySyscall } from '../host/spawner.ts';
import { run, tryRun } from './host-command.ts';
import { pidsInCgroup, removeCgroupSubtree } from './lab-cgroups.ts';
import { NETNS_DIR, netnsPath } from './lab-network.ts';
import type { NodePlan } from './lab-plan.ts';
import type { ProcessRecord } from './lab-state.ts';
import { forgetPidFile, isAlive } from './lab-processes.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MNT_DETACH = 2;

/** Names in /run/netns of the host's pods (the agent names them `<pod bridge>-<uid>`). */
export function podNetnsNames(node: Pick<NodePlan, 'podNetnsPrefix'>): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((n) => n.startsWith(node.podNetnsPrefix));
  } catch {
    return [];
  }
}

function nsInode(path: string): number | undefined {
  try { return statSync(path).ino; } catch { return undefined; }
}

/** Pids whose network namespace is one of `inodes`. */
function pidsInNetns(inodes: Set<number>): Set<number> {
  const out = new Set<number>();
  if (!inodes.size) return out;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(readlinkSync(`/proc/${p}/ns/net`));
      if (m && inodes.has(Number(m[1]))) out.add(Number(p));
    } catch { /* gone, or a kernel thread */ }
  }
  return out;
}

/** Every process of the host now: its agent, its cgroup subtree, its namespaces' processes. */
export function hostPids(node: Pick<NodePlan, 'netns' | 'podNetnsPrefix' | 'cgroup'>, agent?: ProcessRecord): Set<number> {
  const pids = pidsInCgroup(node.cgroup);
  const inodes = new Set<number>();
  for (const name of [node.netns, ...podNetnsNames(node)]) {
    const ino = nsInode(netnsPath(name));
    if (ino !== undefined) inodes.add(ino);
  }
  for (const p of pidsInNetns(inodes)) pids.add(p);
  if (agent && isAlive(agent)) pids.add(agent.pid);
  pids.delete(process.pid);
  return pids;
}

/**
 * SIGKILLs every process of the host until none is left (a process forking meanwhile is caught by
 * the next round); returns how many were killed. Throws when some survive 10 s.
 */
export async function killHostProcesses(node: Pick<NodePlan, 'name' | 'netns' | 'podNetnsPrefix' | 'cgroup'>, agent?: ProcessRecord): Promise<number> {
  const killed = new Set<number>();
  const deadline = Date.now() + 10_000;
  for (;;) {
    const pids = hostPids(node, agent);
    // A zombie stays listed until its parent reaps it; it runs nothing.
    for (const pid of [...pids]) if (isZombie(pid)) pids.delete(pid);
    if (!pids.size) return killed.size;
    if (Date.now() > deadline) throw new Error(`processes of ${node.name} still run after SIGKILL: ${[...pids].join(' ')}`);
    for (const pid of pids) {
      try { process.kill(pid, 'SIGKILL'); killed.add(pid); } catch { /* gone */ }
    }
    await sleep(50);
  }
}

function isZombie(pid: number): boolean {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s[s.lastIndexOf(')') + 2] === 'Z';
  } catch {
    return true;
  }
}

/** runc's state directory of a host's agent (the runc driver's `--root`, see src/agent/runtime/runc). */
export function runcRoot(node: Pick<NodePlan, 'dataDir'>): string {
  return join(node.dataDir, 'runtime', 'runc', 'runc-root');
}

/** Deletes every runc container the host's agent made (their processes are dead already). */
export async function deleteRuncContainers(node: Pick<NodePlan, 'dataDir'>): Promise<string[]> {
  const root = runcRoot(node);
  if (!existsSync(root)) return [];
  const ids = (await run('runc', ['--root', root, 'list', '-q'])).split('\n').filter(Boolean);
  for (const id of ids) await tryRun('runc', ['--root', root, 'delete', '--force', id]);
  return ids.map((id) => `runc container ${id}`);
}

/** Mount points at or below `dir` (this mount namespace), deepest first. */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of mountinfo.split('\n')) {
    const mp = line.split(' ')[4];
    if (!mp) continue;
    const path = mp.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (path === dir || path.startsWith(dir.endsWith('/') ? dir : `${dir}/`)) out.push(path);
  }
  return [...new Set(out)].sort((a, b) => b.length - a.length);
}

/** Detaches every mount under `dir` (volumes, runc root file systems); returns them. */
export async function unmountUnder(dir: string): Promise<string[]> {
  const done: string[] = [];
  // Stacked mounts on one point come off one at a time.
  for (let round = 0; round < 5; round++) {
    const left = mountsUnder(dir);
    if (!left.length) break;
    for (const mp of left) {
      const ok = await unmountBySyscall(mp, MNT_DETACH).catch(() => false) || await tryRun('umount', ['-l', mp]);
      if (ok) done.push(`mount ${mp}`);
    }
  }
  return [...new Set(done)];
}

/** Deletes the host's pods' network namespaces, one at a time. */
export async function deletePodNetns(node: Pick<NodePlan, 'podNetnsPrefix'>): Promise<string[]> {
  const removed: string[] = [];
  for (const name of podNetnsNames(node)) {
    if (await tryRun('ip', ['netns', 'del', name])) removed.push(`netns ${name}`);
  }
  return removed;
}

/**
 * Everything of a host a power cut ends: processes, runc's containers, mounts, pod namespaces,
 * cgroups. Returns what it removed (for `down`'s report).
 */
export async function powerOff(node: NodePlan, agent?: ProcessRecord): Promise<string[]> {
  const killed = await killHostProcesses(node, agent);
  forgetPidFile(agent);
  const removed = killed ? [`${killed} process(es)`] : [];
  removed.push(...await deleteRuncContainers(node));
  removed.push(...await unmountUnder(node.dataDir));
  removed.push(...await deletePodNetns(node));
  await removeCgroupsOf(node.cgroup, node.name);
  return removed;
}

/**
 * Removes a cgroup subtree whose processes were just killed: a cgroup stays busy until its last
 * process has fully exited (been reaped), which takes a moment after SIGKILL.
 */
export async function removeCgroupsOf(rel: string, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = removeCgroupSubtree(rel);
    if (!left.length) return;
    if (Date.now() > deadline) throw new Error(`cgroups of ${what} not removed (still in use): ${left.join(', ')}`);
    await sleep(100);
  }
}
