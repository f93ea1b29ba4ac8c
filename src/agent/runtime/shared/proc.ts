/**
 * What the drivers read about their processes in /proc: a process's start time, which tells a live
 * shim or init from a recycled pid (containerd's shim and runc compare the same field), and its
 * parent and process group. Also the signal that tolerates a process already gone.
 */
import { readFileSync } from 'node:fs';

/** The fields after `comm` of /proc/PID/stat (comm may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** A process's start time in clock ticks since boot (/proc/PID/stat field 22); undefined if gone. */
export function procStartTime(pid: number): number | undefined {
  if (!pid) return undefined;
  const rest = statFields(pid);
  if (!rest || rest[0] === 'Z' || rest[0] === 'X') return undefined; // a zombie has exited, only not yet reaped
  return Number(rest[19]);
}

/** True if `pid` is alive and is still the process that started at `startTime` (no pid reuse). */
export function sameProcessAlive(pid: number, startTime: number): boolean {
  return pid > 0 && procStartTime(pid) === startTime;
}

/** ppid and pgid of a process (/proc/PID/stat fields 4 and 5); undefined if gone. */
export function procParentAndGroup(pid: number): { ppid: number; pgid: number } | undefined {
  const rest = statFields(pid);
  return rest ? { ppid: Number(rest[1]), pgid: Number(rest[2]) } : undefined;
}

/** Sends `signal` to `pid`; a process already gone is not an error (it is what the caller wanted). */
export function signalProcess(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal);
  } catch {
    /* gone */
  }
}
