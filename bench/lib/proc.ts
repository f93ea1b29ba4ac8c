/** Memory and CPU of a process from /proc (Linux). */
import { readFileSync } from 'node:fs';

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
