/** Processes from /proc (Linux): memory and CPU of a pid, finding pids by command line and ancestry. */
import { readdirSync, readFileSync } from 'node:fs';

export interface Mem {
  /** Resident set size now (MB). */
  rssMb: number;
  /** Peak resident set size (MB). */
  hwmMb: number;
}

/** VmRSS / VmHWM of a pid, in MB. */
export function memOf(pid: number): Mem {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m ? Number(m[1]) : NaN;
  };
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

/** utime+stime of a pid, in clock ticks (USER_HZ, 100 on Linux). */
export function cpuTicksOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the `(comm)` which may itself contain spaces; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

export const CLOCK_TICKS_PER_S = 100;

function numericPids(): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number);
}

export function cmdlineOf(pid: number): string {
  try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' '); } catch { return ''; }
}

/**
 * pid of every process whose full cmdline equals one of `cmdlines`; with `under`, only descendants
 * of that pid (another cluster on the machine may run the same command lines).
 */
export function pidsByCmdline(cmdlines: Set<string>, under?: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of numericPids()) {
    const c = cmdlineOf(pid);
    if (cmdlines.has(c) && (under === undefined || descendsFrom(pid, under))) out.set(c, pid);
  }
  return out;
}

function descendsFrom(pid: number, root: number): boolean {
  for (let p = ppidOf(pid), n = 0; p > 1 && n < 64; p = ppidOf(p), n++) if (p === root) return true;
  return false;
}

export function pidsWhoseCmdlineHas(s: string): number[] {
  return numericPids().filter((p) => p !== process.pid && cmdlineOf(p).includes(s));
}

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch { return undefined; }
}

/** Process start time on the nowMs() clock (10 ms resolution: clock ticks since boot). */
export function procStartMs(pid: number): number {
  const f = statFields(pid);
  return f ? (Number(f[19]) / CLOCK_TICKS_PER_S) * 1000 : NaN;
}

export function ppidOf(pid: number): number {
  const f = statFields(pid);
  return f ? Number(f[1]) : 0;
}

/** Ancestors of pid (nearest first), stopping before any pid in `stopAt` or pid 1. */
export function ancestors(pid: number, stopAt: Set<number>): number[] {
  const out: number[] = [];
  let p = ppidOf(pid);
  while (p > 1 && !stopAt.has(p) && out.length < 32) { out.push(p); p = ppidOf(p); }
  return out;
}

/** VmRSS and Pss (from smaps_rollup) of pid, kB (NaN if gone). */
export function rssPssKb(pid: number): { rss: number; pss: number } {
  const field = (text: string, name: string) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  let rss = NaN, pss = NaN;
  try { rss = field(readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS'); } catch { /* gone */ }
  try { pss = field(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss'); } catch { /* gone */ }
  return { rss, pss };
}
