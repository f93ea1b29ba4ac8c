/**
 * Seeing a container's exit from its shim's exit record, for every shim-based driver (the role of
 * containerd's shim exit events). Event-driven: fs.watch on the container's state dir sees the
 * record land (the shim renames it into place), and a shim started through the agent's spawn helper
 * is reported the moment it exits (`shimExited`). One sweep every `sweepMs` over all watched
 * containers is the safety net — a shim killed without writing its record, after an agent restart,
 * is seen there; only a dir that cannot be watched is polled on its own.
 *
 * A shim that died without a record, or a state dir removed under the watch, counts as SIGKILL.
 */
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { sameProcessAlive } from './proc.ts';
import { readExit, type ExitRecord, type ShimState } from './shim-files.ts';

/** The safety-net sweep over every watched container (exits are seen by events before that). */
const SWEEP_MS = 10_000;
/** The per-container poll, only for a container whose state dir cannot be watched. */
const POLL_MS = 2000;

/** A kill the shim could not report: what the runtimes say of a container that vanished. */
const KILLED = (): ExitRecord => ({ exitCode: 137, signal: 9, finishedAtMs: Date.now() });

export interface ExitWatcherOptions {
  sweepMs?: number;
  pollMs?: number;
}

export class ExitWatcher {
  /** Containers whose exit is awaited, by state dir: the sweep checks them all in one timer wake-up. */
  private readonly watching = new Map<string, { check(): void; shimPid: number }>();
  private sweepTimer?: NodeJS.Timeout;

  constructor(private readonly opts: ExitWatcherOptions = {}) {}

  /** Resolves with the exit record of the container in `dir` whose shim `st` describes. */
  watch(dir: string, st: Pick<ShimState, 'shimPid' | 'shimStartTime'>): Promise<ExitRecord> {
    return new Promise((resolve) => {
      let watcher: FSWatcher | undefined;
      let timer: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (rec: ExitRecord) => {
        if (done) return;
        done = true;
        watcher?.close();
        clearInterval(timer);
        this.unwatch(dir);
        resolve(rec);
      };
      const check = () => {
        if (done) return;
        // existsSync first: every event in the dir calls this, and a stat is cheaper than a failed read.
        const rec = existsSync(join(dir, 'exit')) ? readExit(dir) : undefined;
        if (rec) return finish(rec);
        if (!existsSync(dir) || !sameProcessAlive(st.shimPid, st.shimStartTime)) finish(readExit(dir) ?? KILLED());
      };
      try {
        watcher = watch(dir, check);
        watcher.on('error', () => {});
      } catch {
        timer = setInterval(check, this.opts.pollMs ?? POLL_MS);
        timer.unref();
      }
      this.watching.set(dir, { check, shimPid: st.shimPid });
      this.ensureSweep();
      check();
    });
  }

  /** The spawn helper saw a shim exit: check its container now. */
  shimExited(pid: number): void {
    for (const w of [...this.watching.values()]) if (w.shimPid === pid) w.check();
  }

  private ensureSweep(): void {
    if (this.sweepTimer || this.watching.size === 0) return;
    this.sweepTimer = setInterval(() => { for (const w of [...this.watching.values()]) w.check(); }, this.opts.sweepMs ?? SWEEP_MS);
    this.sweepTimer.unref();
  }

  private unwatch(dir: string): void {
    this.watching.delete(dir);
    if (this.watching.size === 0 && this.sweepTimer) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }
}
