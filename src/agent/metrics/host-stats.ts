/**
 * The node's own figures and a pod's network counters, from /proc and statfs (cAdvisor's machine and
 * network readers): CPU time (/proc/stat), memory (/proc/meminfo), interface counters
 * (/proc/<pid>/net/dev — a pod's process sees its pod's network namespace) and file-system space.
 */
import { readFileSync, statfsSync } from 'node:fs';

/** USER_HZ: /proc/stat counts in 1/100 s on every Linux architecture Berth runs on. */
const JIFFY_NS = 10_000_000;

/** Busy CPU time of the whole machine: every field of the `cpu` line but idle and iowait. */
export function parseProcStatCpuNs(text: string): number {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) return 0;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user).
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy * JIFFY_NS;
}

export interface NodeMemory {
  capacityBytes: number;
  availableBytes: number;
  /** MemTotal − MemAvailable: the machine's working set (page cache that can go is not in it). */
  workingSetBytes: number;
  /** MemTotal − MemFree (with the page cache), as cAdvisor's machine usage. */
  usageBytes: number;
}

export function parseMeminfo(text: string): NodeMemory {
  const kb = (key: string) => {
    const m = new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text);
    return m ? Number(m[1]) * 1024 : 0;
  };
  const total = kb('MemTotal');
  const available = kb('MemAvailable');
  return { capacityBytes: total, availableBytes: available, workingSetBytes: Math.max(0, total - available), usageBytes: Math.max(0, total - kb('MemFree')) };
}

export interface InterfaceStats {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/** /proc/net/dev: two header lines, then `name: 8 receive fields 8 transmit fields`. */
export function parseNetDev(text: string): InterfaceStats[] {
  const out: InterfaceStats[] = [];
  for (const line of text.split('\n').slice(2)) {
    const i = line.indexOf(':');
    if (i < 0) continue;
    const f = line.slice(i + 1).trim().split(/\s+/).map(Number);
    out.push({
      name: line.slice(0, i).trim(),
      rxBytes: f[0], rxPackets: f[1], rxErrors: f[2], rxDropped: f[3],
      txBytes: f[8], txPackets: f[9], txErrors: f[10], txDropped: f[11],
    });
  }
  return out;
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Interfaces of the network namespace `pid` lives in, without loopback (as cAdvisor); undefined when the process is gone. */
export function netStatsOfPid(pid: number | 'self', procRoot = '/proc'): InterfaceStats[] | undefined {
  const text = readOr(`${procRoot}/${pid}/net/dev`);
  return text === undefined ? undefined : parseNetDev(text).filter((s) => s.name !== 'lo');
}

export function nodeCpuNs(procRoot = '/proc'): number {
  return parseProcStatCpuNs(readOr(`${procRoot}/stat`) ?? '');
}

export function nodeMemory(procRoot = '/proc'): NodeMemory {
  return parseMeminfo(readOr(`${procRoot}/meminfo`) ?? '');
}

export interface FsStats {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
  inodes: number;
  inodesFree: number;
}

/** Space of the file system holding `path` (the agent's data dir: logs, volumes, images). */
export function fsStatsOf(path: string): FsStats | undefined {
  try {
    const s = statfsSync(path);
    const capacity = s.blocks * s.bsize;
    return { capacityBytes: capacity, availableBytes: s.bavail * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize, inodes: s.files, inodesFree: s.ffree };
  } catch {
    return undefined;
  }
}
