/**
 * runc's fs cgroup manager creates the container's cgroup in EVERY mounted hierarchy (cpuset,
 * devices, freezer, blkio, name=systemd, the hybrid unified mount …), not only in the four Berth
 * manages (cpu, cpuacct, memory, pids; see ../cgroups). `runc delete` removes the container's own
 * directories, but the pod's parent path stays behind in the hierarchies Berth never looks at.
 * These helpers remove those empty leftovers.
 */
import { readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupLayout } from '../cgroups/index.ts';

/** Mount points of every cgroup (v1) and cgroup2 hierarchy, from /proc/self/mounts. */
export function allCgroupRoots(mountsText = readFileSync('/proc/self/mounts', 'utf8')): string[] {
  const roots = new Set<string>();
  for (const line of mountsText.split('\n')) {
    const [, mountPoint, type] = line.split(' ');
    if (mountPoint && (type === 'cgroup' || type === 'cgroup2')) roots.add(mountPoint.replace(/\\040/g, ' '));
  }
  return [...roots];
}

/** The hierarchies ../cgroups manages (and where the pod worker keeps pod-level settings). */
export function managedRoots(layout: CgroupLayout): Set<string> {
  return new Set(layout.mode === 'v2' ? [layout.unifiedRoot!] : Object.values(layout.v1Roots));
}

/** rmdir that treats "gone" as done and "in use" as a reason to stop; false when the dir stays. */
function tryRmdir(dir: string): boolean {
  try {
    rmdirSync(dir);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * Removes `relPath` and then each empty ancestor, deepest first, in the given roots; stops in a
 * root at the first directory still in use (another container of the pod, another pod).
 */
export function removeEmptyCgroupPath(roots: Iterable<string>, relPath: string): void {
  const parts = relPath.replace(/^\/+|\/+$/g, '').split('/').filter(Boolean);
  if (parts.some((p) => p === '..' || p === '.')) throw new Error(`bad cgroup path ${relPath}`);
  for (const root of roots) {
    for (let i = parts.length; i > 0; i--) if (!tryRmdir(join(root, ...parts.slice(0, i)))) break;
  }
}

/** After destroy: the container's directory everywhere, and its empty ancestors where Berth sets nothing. */
export function pruneRuncCgroups(layout: CgroupLayout, containerRelPath: string): void {
  const managed = managedRoots(layout);
  const all = allCgroupRoots();
  // The container's own directory: in every hierarchy (runc delete normally did it already).
  for (const root of all) tryRmdir(join(root, containerRelPath.replace(/^\/+/, '')));
  // Its ancestors (the pod parent, `berth`): only where nobody else keeps settings on them.
  const parent = containerRelPath.replace(/^\/+|\/+$/g, '').split('/').slice(0, -1).join('/');
  if (parent) removeEmptyCgroupPath(all.filter((r) => !managed.has(r)), parent);
}
