/**
 * Read-only queries off the event loop: a worker thread with its own SQLite connection answers one
 * query at a time, so a scan that takes hundreds of milliseconds does not hold every request on the
 * API server's one JavaScript thread. WAL mode lets this connection read while the backend's own
 * connection writes; the caller passes the revision bound (`id <= @rev`), so the answer is the one
 * the backend would give on its own thread.
 *
 * Why: counting the stored objects per resource for `apiserver_storage_objects` (at most every 30 s,
 * when /metrics is scraped) grouped every key's rows — 350–540 ms on the loop at 150,000 pods'
 * Events, a stall each scrape during churn. The worker starts on first use and keeps the process
 * alive only while a query is pending.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's program, CommonJS evaluated as a string, as checkpointer.ts's: no TypeScript loader
 * in a worker and no file of its own in dist/.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('query_only = ON');
db.pragma('busy_timeout = 5000');
const statements = new Map();
parentPort.on('message', (m) => {
  if (m === 'stop') { db.close(); parentPort.postMessage({ stopped: true }); return; }
  try {
    let stmt = statements.get(m.sql);
    if (!stmt) statements.set(m.sql, (stmt = db.prepare(m.sql)));
    parentPort.postMessage({ id: m.id, row: stmt.get(m.params) });
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

type Pending = { resolve: (row: unknown) => void; reject: (err: Error) => void };

/** A worker answering read-only single-row queries on `file`. */
export class OffLoopReader {
  /** Queries answered by the worker (for tests). */
  answered = 0;
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stopped = false;

  constructor(private readonly file: string) {}

  /** The first row of `sql` with `params`, read on the worker. Rejects if the worker fails or is stopped. */
  get<T>(sql: string, params: Record<string, unknown>): Promise<T> {
    if (this.stopped) return Promise.reject(new Error('off-loop reader stopped'));
    const worker = this.start();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (row: unknown) => void, reject });
      // Keeps a process whose last work is this query alive until it is answered.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, sql, params });
    });
  }

  /** Stops the worker; pending queries reject. */
  async stop(): Promise<void> {
    this.stopped = true;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    this.failAll(new Error('off-loop reader stopped'));
    await new Promise<void>((resolve) => {
      worker.once('exit', () => resolve());
      worker.on('message', (m: { stopped?: boolean }) => { if (m.stopped) void worker.terminate(); });
      worker.postMessage('stop');
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const module = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, module } });
    worker.unref();
    worker.on('message', (m: { id?: number; row?: unknown; error?: string }) => {
      const p = m.id === undefined ? undefined : this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id!);
      if (this.pending.size === 0) worker.unref();
      if (m.error !== undefined) p.reject(new Error(m.error));
      else { this.answered++; p.resolve(m.row); }
    });
    // A worker that dies fails what it was asked; the next query starts a new one.
    const lost = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(err);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`off-loop reader exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private failAll(err: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const p of all) p.reject(err);
  }
}
