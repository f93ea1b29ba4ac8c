/**
 * WAL checkpoints off the event loop: a worker thread with its own SQLite connection runs a PASSIVE
 * checkpoint every `intervalMs` — as kine and rqlite leave checkpointing to a background routine
 * rather than to the committing connection, and as PostgreSQL's checkpointer is its own process.
 *
 * Why: SQLite's auto-checkpoint (every 1,000 WAL pages) runs inside the COMMIT that crosses the
 * threshold, on the one JavaScript thread: it copies the WAL into the database file and fsyncs both,
 * so every ~0.4 s at 500 writes/s the server stood still for 10–30 ms (far longer when the disk is
 * busy), and every request waiting then paid for it (`bench api`: the p99 at 500/s was the
 * checkpoint's length). A PASSIVE checkpoint never blocks writers or readers, and committed frames
 * stay in the WAL until it has copied and synced them, so moving it changes no durability: a write
 * is acknowledged once its WAL frames are on disk (wal-sync.ts), whoever checkpoints them later.
 * The backend keeps SQLite's own auto-checkpoint only as a backstop at a much larger WAL
 * (BACKSTOP_PAGES), for a worker that cannot keep up.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * SQLite's auto-checkpoint threshold while the worker runs (pages; SQLite's default is 1,000). Under
 * a steady stream of writes the worker's PASSIVE checkpoints keep up but the WAL never restarts (it
 * restarts only at a write that finds every frame copied, and some write always lands during a
 * checkpoint), so it grows to this size and SQLite's own checkpoint, in a COMMIT, finishes the last
 * frames and lets the next write restart it: one short on-loop checkpoint per 40 MB of WAL instead
 * of one per 4 MB.
 */
export const BACKSTOP_PAGES = 10_000;

/** What the checkpoints did, for tests and benchmarks. */
export interface CheckpointStats {
  /** Checkpoints that copied frames. */
  checkpoints: number;
  /** Frames copied into the database file in all. */
  frames: number;
  /** The longest checkpoint, in ms (on the worker: the loop did not wait for it). */
  longestMs: number;
}

/**
 * The worker's program, CommonJS evaluated as a string: it needs no TypeScript loader (the server may
 * run from sources through tsx, whose hooks a worker does not inherit) and no file of its own in dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 0');
// The checkpoint syncs the WAL before it copies and the database after (NORMAL and FULL both do).
db.pragma('synchronous = FULL');
let timer;
// wal_checkpoint reports the WAL's frames and how many of them are in the database file so far.
let prev = { log: 0, checkpointed: 0 };
const run = () => {
  const started = performance.now();
  let row;
  try {
    row = db.pragma('wal_checkpoint(PASSIVE)')[0];
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
    return;
  }
  // Copied now: what is checkpointed beyond the last pass (all of it when the WAL has restarted since).
  const restarted = row.log < prev.log || row.checkpointed < prev.checkpointed;
  const frames = restarted ? row.checkpointed : row.checkpointed - prev.checkpointed;
  prev = row;
  if (frames > 0) parentPort.postMessage({ frames, log: row.log, ms: performance.now() - started });
};
timer = setInterval(run, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.postMessage({ stopped: true });
});
`;

/** A running checkpoint worker. */
export class Checkpointer {
  readonly stats: CheckpointStats = { checkpoints: 0, frames: 0, longestMs: 0 };
  /** The last error the worker reported (the backstop checkpoints meanwhile). */
  lastError: string | undefined;
  private readonly worker: Worker;
  private stopped: Promise<void> | undefined;

  constructor(file: string, intervalMs: number) {
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, module, intervalMs } });
    // The worker must not keep a process alive that is otherwise done (close() stops it properly).
    this.worker.unref();
    this.worker.on('message', (m: { frames?: number; ms?: number; error?: string }) => {
      if (m.error) { this.lastError = m.error; return; }
      if (m.frames === undefined) return;
      this.stats.checkpoints++;
      this.stats.frames += m.frames;
      if ((m.ms ?? 0) > this.stats.longestMs) this.stats.longestMs = m.ms ?? 0;
    });
    this.worker.on('error', (err) => { this.lastError = String(err); });
  }

  /** Stops the worker after the checkpoint in progress, if any; its connection is closed. */
  stop(): Promise<void> {
    this.stopped ??= new Promise<void>((resolve) => {
      const done = () => resolve();
      this.worker.once('exit', done);
      this.worker.on('message', (m: { stopped?: boolean }) => { if (m.stopped) void this.worker.terminate().then(done, done); });
      this.worker.postMessage('stop');
    });
    return this.stopped;
  }
}
