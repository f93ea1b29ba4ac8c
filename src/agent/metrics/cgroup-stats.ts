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

/** A file's content: text, or bytes (the sampler's KeptFiles hand out a view of one buffer, parsed before the next read). */
export type FileText = string | Uint8Array;
/** Reads a whole file, undefined when it does not exist (the sampler passes its KeptFiles' bytes). */
export type FileReader = (path: string) => FileText | undefined;

function readOnce(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const codeAt = (t: FileText, i: number): number => (typeof t === 'string' ? t.charCodeAt(i) : t[i]);

function indexOfKey(t: FileText, key: string, from: number): number {
  return typeof t === 'string' ? t.indexOf(key, from) : Buffer.prototype.indexOf.call(t, key, from, 'latin1');
}

/** The decimal number at `i` (digits only), or undefined when none starts there. */
function digitsAt(t: FileText, i: number): number | undefined {
  let n = 0;
  const start = i;
  for (; i < t.length; i++) {
    const d = codeAt(t, i) - 48;
    if (d < 0 || d > 9) break;
    n = n * 10 + d;
  }
  return i > start ? n : undefined;
}

/** The number a one-value file holds (cpuacct.usage, memory.current), blanks before it skipped; 0 when none. */
export function leadingNumber(t: FileText): number {
  let i = 0;
  while (i < t.length && (codeAt(t, i) === 32 || codeAt(t, i) === 10 || codeAt(t, i) === 9)) i++;
  return digitsAt(t, i) ?? 0;
}

/**
 * The value of one `key value` line of a flat-keyed file (memory.stat, cpu.stat), or undefined.
 * Looked up in place: splitting v1's ~40-line memory.stat into a map for four figures, twice per
 * pod every sample, was most of the sampler's garbage.
 */
export function keyedValue(text: FileText, key: string): number | undefined {
  let at = 0;
  for (;;) {
    at = indexOfKey(text, key, at);
    if (at < 0) return undefined;
    const end = at + key.length;
    if ((at === 0 || codeAt(text, at - 1) === 10) && codeAt(text, end) === 32) return digitsAt(text, end + 1);
    at = end;
  }
}

function workingSet(usage: number, inactiveFile: number): number {
  return usage > inactiveFile ? usage - inactiveFile : 0;
}

/** The files of one cgroup the sampler reads, their paths joined once (path.join made ~1 KB of garbage a call, six calls a cgroup a sample). */
export interface CgroupFiles {
  v2: boolean;
  /** cpu.stat (v2) or cpuacct.usage (v1). */
  cpu?: string;
  /** memory.current (v2) or memory.usage_in_bytes (v1). */
  usage?: string;
  stat?: string;
  /** cgroup.procs in each hierarchy that has one, the first that exists counts. */
  procs: string[];
}

export function cgroupFiles(layout: CgroupLayout, relPath: string): CgroupFiles {
  const rel = relPath.replace(/^\/+/, '');
  if (layout.mode === 'v2') {
    const dir = join(layout.unifiedRoot!, rel);
    return { v2: true, cpu: join(dir, 'cpu.stat'), usage: join(dir, 'memory.current'), stat: join(dir, 'memory.stat'), procs: [join(dir, 'cgroup.procs')] };
  }
  const { cpuacct, memory, pids } = layout.v1Roots;
  return {
    v2: false,
    cpu: cpuacct ? join(cpuacct, rel, 'cpuacct.usage') : undefined,
    usage: memory ? join(memory, rel, 'memory.usage_in_bytes') : undefined,
    stat: memory ? join(memory, rel, 'memory.stat') : undefined,
    procs: [memory, cpuacct, pids].filter((r): r is string => !!r).map((r) => join(r, rel, 'cgroup.procs')),
  };
}

/**
 * The figures of the cgroup at `relPath` (relative to every hierarchy root), or undefined when it does
 * not exist (the container is gone, or not started yet).
 */
export function readCgroupStats(layout: CgroupLayout, relPath: string, read: FileReader = readOnce): CgroupStats | undefined {
  return statsOf(cgroupFiles(layout, relPath), read);
}

/** readCgroupStats on paths joined before; each file is parsed before the next is read (a reader may reuse one buffer). */
export function statsOf(files: CgroupFiles, read: FileReader = readOnce): CgroupStats | undefined {
  if (files.v2) {
    const cpu = read(files.cpu!);
    if (cpu === undefined) return undefined;
    const cpuUsageNs = (keyedValue(cpu, 'usage_usec') ?? 0) * 1000;
    const u = read(files.usage!);
    const usage = u === undefined ? 0 : leadingNumber(u);
    const mem = read(files.stat!) ?? '';
    return {
      cpuUsageNs,
      memoryUsageBytes: usage,
      memoryWorkingSetBytes: workingSet(usage, keyedValue(mem, 'inactive_file') ?? 0),
      // cAdvisor's v2 RSS is anon memory.
      memoryRssBytes: keyedValue(mem, 'anon') ?? 0,
      pageFaults: keyedValue(mem, 'pgfault') ?? 0,
      majorPageFaults: keyedValue(mem, 'pgmajfault') ?? 0,
    };
  }
  const cpu = files.cpu ? read(files.cpu) : undefined;
  const cpuUsageNs = cpu === undefined ? 0 : leadingNumber(cpu);
  const u = files.usage ? read(files.usage) : undefined;
  if (cpu === undefined && u === undefined) return undefined;
  const usage = u === undefined ? 0 : leadingNumber(u);
  const mem = (files.stat && read(files.stat)) || '';
  // total_* include the children: a pod's cgroup counts its containers, as cAdvisor reads it.
  return {
    cpuUsageNs,
    memoryUsageBytes: usage,
    memoryWorkingSetBytes: workingSet(usage, keyedValue(mem, 'total_inactive_file') ?? keyedValue(mem, 'inactive_file') ?? 0),
    memoryRssBytes: keyedValue(mem, 'total_rss') ?? keyedValue(mem, 'rss') ?? 0,
    pageFaults: keyedValue(mem, 'total_pgfault') ?? keyedValue(mem, 'pgfault') ?? 0,
    majorPageFaults: keyedValue(mem, 'total_pgmajfault') ?? keyedValue(mem, 'pgmajfault') ?? 0,
  };
}

/** The pids in the cgroup (any hierarchy that has a cgroup.procs), for finding a pod's network namespace. */
export function cgroupPids(layout: CgroupLayout, relPath: string, read: FileReader = readOnce): number[] {
  for (const path of cgroupFiles(layout, relPath).procs) {
    const text = read(path);
    if (text === undefined) continue;
    const s = typeof text === 'string' ? text : Buffer.from(text).toString('latin1');
    return s.split('\n').filter((l) => l.trim()).map(Number);
  }
  return [];
}

/** The first pid in the cgroup, or undefined (no process, or no cgroup): what the sampler needs, without a list. */
export function firstPid(files: CgroupFiles, read: FileReader = readOnce): number | undefined {
  for (const path of files.procs) {
    const text = read(path);
    if (text === undefined) continue;
    return digitsAt(text, 0);
  }
  return undefined;
}
