/**
 * The on-disk record of one process container, so a restarted agent can re-adopt it:
 *
 *   STATE_DIR/<id>/state.json   pids + start times, cgroup, what exec needs (env, user, cwd)
 *   STATE_DIR/<id>/env          the container env, NUL-separated (read by the shim; mode 0600)
 *   STATE_DIR/<id>/exit         written by the shim when the container is gone: {exitCode, signal, …}
 *   STATE_DIR/<id>/shim.log     the shim's own stderr (diagnostics)
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContainerSpec } from '../driver.ts';

/** What state.json holds. */
export interface ProcessState {
  id: string;
  /** The shim (parent of the chain, writer of the log and exit files). */
  shimPid: number;
  shimStartTime: number;
  /** The chain's first process (unshare), whose exit is the container's exit. */
  chainPid: number;
  /** tini, pid 1 of the container's pid namespace (0 if the chain died before it existed). */
  initPid: number;
  initStartTime: number;
  startedAtMs: number;
  cgroupPath: string;
  logPath: string;
  env: Record<string, string>;
  user?: ContainerSpec['user'];
  workingDir?: string;
  /** Mount points the driver created on the host file system (removed by destroy). */
  createdPaths: string[];
}

/** The shim's exit record. */
export interface ExitRecord {
  exitCode: number;
  /** Signal number that killed the chain (0 = none). */
  signal: number;
  finishedAtMs: number;
}

/** Writes state.json atomically (tmp + rename), so a crash never leaves half a file. */
export function writeState(dir: string, state: ProcessState): void {
  writeFileSync(join(dir, 'state.json.tmp'), JSON.stringify(state, null, 1), { mode: 0o600 });
  renameSync(join(dir, 'state.json.tmp'), join(dir, 'state.json'));
}

/** Reads state.json, undefined if absent. */
export function readState(dir: string): ProcessState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as ProcessState;
  } catch {
    return undefined;
  }
}

/** Reads the shim's exit record, undefined while the container runs. */
export function readExit(dir: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'exit'), 'utf8')) as ExitRecord;
  } catch {
    return undefined;
  }
}

/** Writes the env file the shim reads (NUL-separated `K=V`). */
export function writeEnvFile(dir: string, env: Record<string, string>): void {
  const body = Object.entries(env)
    .map(([k, v]) => `${k}=${v}\0`)
    .join('');
  writeFileSync(join(dir, 'env'), body, { mode: 0o600 });
}

/** A process's start time in clock ticks since boot (/proc/PID/stat field 22); undefined if gone. */
export function procStartTime(pid: number): number | undefined {
  if (!pid) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: count fields after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined; // zombie: exited, not yet reaped
    return Number(rest[19]);
  } catch {
    return undefined;
  }
}

/** True if `pid` is alive and is still the process that started at `startTime` (no pid reuse). */
export function sameProcessAlive(pid: number, startTime: number): boolean {
  return pid > 0 && procStartTime(pid) === startTime;
}

/** ppid and pgid of a process (/proc/PID/stat fields 4 and 5); undefined if gone. */
export function procParentAndGroup(pid: number): { ppid: number; pgid: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(rest[1]), pgid: Number(rest[2]) };
  } catch {
    return undefined;
  }
}
