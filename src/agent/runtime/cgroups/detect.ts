/**
 * Finds how cgroups are mounted on this machine, at run time: pure v2 (`cgroup.controllers` at the
 * root), v1, or hybrid (v1 controllers plus a v2 mount without controllers, e.g. /sys/fs/cgroup/unified).
 */
import { existsSync, readFileSync } from 'node:fs';

/** The controllers Berth manages. */
export const CONTROLLERS = ['cpu', 'cpuacct', 'memory', 'pids'] as const;
export type Controller = (typeof CONTROLLERS)[number];

export interface CgroupLayout {
  mode: 'v1' | 'v2' | 'hybrid';
  /** v2: the unified mount point (root of the one hierarchy). */
  unifiedRoot?: string;
  /** v1/hybrid: controller → mount point (co-mounted controllers share one). */
  v1Roots: Partial<Record<Controller, string>>;
}

/** Parses /proc/self/mounts (or the given text) into a layout; `v2Root` is where pure v2 would live. */
export function detectCgroupLayout(mountsText?: string, v2Root = '/sys/fs/cgroup'): CgroupLayout {
  const text = mountsText ?? readFileSync('/proc/self/mounts', 'utf8');
  const v1Roots: Partial<Record<Controller, string>> = {};
  let unified: string | undefined;
  for (const line of text.split('\n')) {
    const [, mountPoint, type, opts] = line.split(' ');
    if (!mountPoint) continue;
    const path = mountPoint.replace(/\\040/g, ' ');
    if (type === 'cgroup2') unified ??= path;
    if (type !== 'cgroup') continue;
    const options = opts.split(',');
    for (const c of CONTROLLERS) if (options.includes(c)) v1Roots[c] ??= path;
  }
  const hasV1 = Object.keys(v1Roots).length > 0;
  if (!hasV1 && (mountsText === undefined ? existsSync(`${v2Root}/cgroup.controllers`) : unified !== undefined)) {
    return { mode: 'v2', unifiedRoot: unified ?? v2Root, v1Roots };
  }
  if (!hasV1) throw new Error('no cgroup hierarchy mounted (neither v1 controllers nor cgroup2)');
  return { mode: unified ? 'hybrid' : 'v1', unifiedRoot: unified, v1Roots };
}

let cached: CgroupLayout | undefined;
/** The machine's layout, detected once per process. */
export function hostCgroupLayout(): CgroupLayout {
  return (cached ??= detectCgroupLayout());
}
