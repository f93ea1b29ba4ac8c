/**
 * The on-disk record of one runc container, so a restarted agent can re-adopt it. The container's
 * directory is also its OCI bundle:
 *
 *   STATE_DIR/<id>/config.json   the OCI spec (runc run --bundle, and runc exec reads it again)
 *   STATE_DIR/<id>/rootfs        overlay mount point (upper/, work/ beside it)
 *   STATE_DIR/<id>/state.json    shim, runc and init pids with start times, cgroup, log path
 *   STATE_DIR/<id>/env           the env of `runc run` itself (read by the shim; NOT the container's)
 *   STATE_DIR/<id>/init.pid      written by runc (--pid-file): the container's pid 1 on the host
 *   STATE_DIR/<id>/exit          written by the shim once runc run returned: {exitCode, signal, …}
 *   STATE_DIR/<id>/runc.log      runc's own JSON log (the reason of a failed start)
 *   STATE_DIR/<id>/shim.log      the shim's own stderr
 */
import { existsSync, readFileSync, renameSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { readExit, sameProcessAlive, type ExitRecord } from '../process/state.ts';

/** What state.json holds. */
export interface RuncState {
  id: string;
  /** The shim: parent of `runc run`, writer of the log and exit files. */
  shimPid: number;
  shimStartTime: number;
  /** `runc run` in the foreground (the shim's child; returns the container's exit status). */
  runcPid: number;
  /** The container's pid 1 (tini) as the host sees it. */
  initPid: number;
  initStartTime: number;
  startedAtMs: number;
  /** Relative to each hierarchy root (as ../cgroups names it). */
  cgroupPath: string;
  logPath: string;
  image: string;
  tty: boolean;
}

/** Writes state.json atomically (tmp + rename). */
export function writeRuncState(dir: string, state: RuncState): void {
  writeFileSync(join(dir, 'state.json.tmp'), JSON.stringify(state, null, 1), { mode: 0o600 });
  renameSync(join(dir, 'state.json.tmp'), join(dir, 'state.json'));
}

/** Reads state.json, undefined if absent or unreadable. */
export function readRuncState(dir: string): RuncState | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as RuncState;
  } catch {
    return undefined;
  }
}

export { readExit, type ExitRecord };

/**
 * Resolves with the shim's exit record: fs.watch on the container dir for speed, a slow poll as the
 * safety net. A shim that died without a record (killed by hand) or a removed dir counts as SIGKILL.
 */
export function watchExit(dir: string, st: Pick<RuncState, 'shimPid' | 'shimStartTime'>): Promise<ExitRecord> {
  return new Promise((resolve) => {
    let watcher: FSWatcher | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (rec: ExitRecord) => {
      if (done) return;
      done = true;
      watcher?.close();
      clearInterval(timer);
      resolve(rec);
    };
    const check = () => {
      const rec = readExit(dir);
      if (rec) return finish(rec);
      if (!existsSync(dir) || !sameProcessAlive(st.shimPid, st.shimStartTime)) {
        finish(readExit(dir) ?? { exitCode: 137, signal: 9, finishedAtMs: Date.now() });
      }
    };
    try {
      watcher = watch(dir, check);
      watcher.on('error', () => {});
    } catch {
      /* the poll covers it */
    }
    timer = setInterval(check, 2000);
    check();
  });
}
