/**
 * The lab's cgroups: one subtree per lab (`berth-lab/<id>`), one per host below it, in every mounted
 * hierarchy (cgroup v1 controllers, the v2 unified one, named ones such as systemd's) — runc makes
 * its containers' cgroups in all of them, the process runtime in those it limits. The host's agent
 * lives in `<host>/agent`, its pods below `<host>/pods` (the agent's --cgroup-root), so a host's
 * processes are the ones in its subtree (as the kubelet finds a pod's by its cgroup).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';

/** Mount points of every cgroup hierarchy of this machine. */
export function cgroupMounts(mountsText = readFileSync('/proc/self/mounts', 'utf8')): string[] {
  const out: string[] = [];
  for (const line of mountsText.split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (type === 'cgroup' || type === 'cgroup2') out.push(mountPoint.replace(/\\040/g, ' '));
  }
  return out;
}

/**
 * The `cgroup.procs` files of `rel` in the hierarchies a process can join without settings of its
 * own (not cpuset, whose cpus and mems a new v1 cgroup lacks); `create` makes the directories.
 */
export function cgroupProcsFiles(rel: string, o: { create?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const root of cgroupMounts()) {
    if (/cpuset/.test(root)) continue;
    const dir = join(root, rel);
    if (o.create) {
      try { mkdirSync(dir, { recursive: true }); } catch { continue; }
    }
    if (existsSync(join(dir, 'cgroup.procs'))) out.push(join(dir, 'cgroup.procs'));
  }
  return out;
}

/** Every pid in the subtree `rel` of every hierarchy. */
export function pidsInCgroup(rel: string): Set<number> {
  const pids = new Set<number>();
  const walk = (dir: string) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    try {
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n')) if (p) pids.add(Number(p));
    } catch { /* gone meanwhile */ }
    for (const e of entries) if (e.isDirectory()) walk(join(dir, e.name));
  };
  for (const root of cgroupMounts()) walk(join(root, rel));
  return pids;
}

/**
 * Removes the subtree `rel` in every hierarchy, deepest first (a cgroup goes only once it has no
 * process and no child); returns the directories it could not remove.
 */
export function removeCgroupSubtree(rel: string): string[] {
  const left: string[] = [];
  const remove = (dir: string) => {
    let entries;
    try { entries = readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of entries) if (e.isDirectory()) remove(join(dir, e.name));
    try { rmdirSync(dir); } catch (err) { if ((err as NodeJS.ErrnoException).code !== 'ENOENT') left.push(dir); }
  };
  for (const root of cgroupMounts()) remove(join(root, rel));
  return left;
}

/** Removes `rel` in every hierarchy where it is empty of processes and children (e.g. `berth-lab`). */
export function removeIfEmpty(rel: string): void {
  for (const root of cgroupMounts()) {
    try { rmdirSync(join(root, rel)); } catch { /* not empty, or not there */ }
  }
}
