/**
 * The files both runtimes keep in a container's state dir around the shim (native/shim), as
 * containerd's shims keep theirs in the task's bundle dir:
 *
 *   <dir>/state.json   the driver's record (ShimState plus the runtime's own fields), written atomically
 *   <dir>/env          the environment of the shim's command, NUL-separated (mode 0600; read by the shim)
 *   <dir>/exit         written by the shim once the container's pid 1 is reaped and the logs drained
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What every runtime records about a container it started through the shim. */
export interface ShimState {
  id: string;
  /** The shim: parent of the container (or of runc), writer of the log and exit files. */
  shimPid: number;
  shimStartTime: number;
  /** The container's pid 1 (tini) as the host sees it (0 if the container died before it existed). */
  initPid: number;
  initStartTime: number;
  startedAtMs: number;
  /** The container's cgroup, relative to each hierarchy root (as ../cgroups names it). */
  cgroupPath: string;
  logPath: string;
}

/** The shim's exit record. */
export interface ExitRecord {
  exitCode: number;
  /** Signal number that killed the container's first process (0 = none). */
  signal: number;
  finishedAtMs: number;
}

/** Writes state.json atomically (tmp + rename), so a crash never leaves half a file. */
export function writeStateFile(dir: string, state: ShimState): void {
  writeFileSync(join(dir, 'state.json.tmp'), JSON.stringify(state, null, 1), { mode: 0o600 });
  renameSync(join(dir, 'state.json.tmp'), join(dir, 'state.json'));
}

/** Reads state.json, undefined if absent or unreadable. */
export function readStateFile<S extends ShimState>(dir: string): S | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as S;
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
