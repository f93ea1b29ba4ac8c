/**
 * Reads one cgroup's usage for metrics, as cAdvisor's cgroup handlers do (container/libcontainer
 * handler.go): cumulative CPU time, memory usage and working set (usage − inactive_file), RSS and
 * page faults — from the v1 controllers' files (cpuacct, memory) or the one v2 directory.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CgroupLayout } from '../runtime/cgroups/index.ts';

/** One cgroup's figures at one instant. */
export interface CgroupStats {
  cpuUsageNs: number;
  memoryUsageBytes: number;
  /** usage − inactive_file (floored at 0): what the kubelet evicts on and `kubectl top` shows. */
  memoryWorkingSetBytes: number;
  memoryRssBytes: number;
  pageFaults: number;
  majorPageFaults: number;
}

/** Reads a whole file, undefined when it does not exist (the sampler passes its KeptFiles' read). */
export type FileReader = (path: string) => string | undefined;

function readOnce(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The value of one `key value` line of a flat-keyed file (memory.stat, cpu.stat), or undefined.
 * Looked up in place: splitting v1's ~40-line memory.stat into a map for four figures, twice per
 * pod every sample, was most of the sampler's garbage.
 */
export function keyedValue(text: string, key: string): number | undefined {
  let at = 0;
  for (;;) {
    at = text.indexOf(key, at);
    if (at < 0) return undefined;
    const end = at + key.length;
    if ((at === 0 || text.charCodeAt(at - 1) === 10) && text.charCodeAt(end) === 32) {
      let n = 0;
      let i = end + 1;
      for (; i < text.length; i++) {
        const d = text.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
      }
      return i > end + 1 ? n : undefined;
    }
    at = end;
  }
}

function workingSet(usage: number, inactiveFile: number): number {
  return usage > inactiveFile ? usage - inactiveFile : 0;
}

/**
 * The figures of the cgroup at `relPath` (relative to every hierarchy root), or undefined when it does
 * not exist (the container is gone, or not started yet).
 */
export function readCgroupStats(layout: CgroupLayout, relPath: string, read: FileReader = readOnce): CgroupStats | undefined {
  const rel = relPath.replace(/^\/+/, '');
  if (layout.mode === 'v2') {
    const dir = join(layout.unifiedRoot!, rel);
    const cpu = read(join(dir, 'cpu.stat'));
    if (cpu === undefined) return undefined;
    const mem = read(join(dir, 'memory.stat')) ?? '';
    const usage = Number(read(join(dir, 'memory.current'))?.trim() ?? 0) || 0;
    return {
      cpuUsageNs: (keyedValue(cpu, 'usage_usec') ?? 0) * 1000,
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: workingSet(usage, keyedValue(mem, 'inactive_file') ?? 0),
      // cAdvisor's v2 RSS is anon memory.
      memoryRssBytes: keyedValue(mem, 'anon') ?? 0,
      pageFaults: keyedValue(mem, 'pgfault') ?? 0,
      majorPageFaults: keyedValue(mem, 'pgmajfault') ?? 0,
    };
  }
  const cpuRoot = layout.v1Roots.cpuacct;
  const memRoot = layout.v1Roots.memory;
  const cpu = cpuRoot ? read(join(cpuRoot, rel, 'cpuacct.usage')) : undefined;
  const usageText = memRoot ? read(join(memRoot, rel, 'memory.usage_in_bytes')) : undefined;
  if (cpu === undefined && usageText === undefined) return undefined;
  const mem = (memRoot && read(join(memRoot, rel, 'memory.stat'))) || '';
  const usage = Number(usageText?.trim() ?? 0) || 0;
  // total_* include the children: a pod's cgroup counts its containers, as cAdvisor reads it.
  return {
    cpuUsageNs: Number(cpu?.trim() ?? 0) || 0,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: workingSet(usage, keyedValue(mem, 'total_inactive_file') ?? keyedValue(mem, 'inactive_file') ?? 0),
    memoryRssBytes: keyedValue(mem, 'total_rss') ?? keyedValue(mem, 'rss') ?? 0,
    pageFaults: keyedValue(mem, 'total_pgfault') ?? keyedValue(mem, 'pgfault') ?? 0,
    majorPageFaults: keyedValue(mem, 'total_pgmajfault') ?? keyedValue(mem, 'pgmajfault') ?? 0,
  };
}

/** The pids in the cgroup (any hierarchy that has a cgroup.procs), for finding a pod's network namespace. */
export function cgroupPids(layout: CgroupLayout, relPath: string, read: FileReader = readOnce): number[] {
  const rel = relPath.replace(/^\/+/, '');
  const roots = layout.mode === 'v2' ? [layout.unifiedRoot!] : [layout.v1Roots.memory, layout.v1Roots.cpuacct, layout.v1Roots.pids].filter((r): r is string => !!r);
  for (const root of roots) {
    const text = read(join(root, rel, 'cgroup.procs'));
    if (text === undefined) continue;
    return text.split('\n').filter((l) => l.trim()).map(Number);
  }
  return [];
}
