/**
 * Group commit for the SQLite backend: writes that arrive close together run in ONE transaction, so
 * one fsync (synchronous=FULL) covers them all — as PostgreSQL's commit_delay and etcd's batched
 * backend transactions (backend.batchInterval) do. Each write still runs its own checks against the
 * state the writes before it in the group left (so revisions stay strictly increasing and a same-key
 * conflict inside a group is found), and gets its own result or error: a failed precondition fails
 * only that write. Only an error of the transaction itself (disk full, I/O error, a failed COMMIT)
 * fails every write of the group, since none of them is durable then.
 *
 * better-sqlite3 is synchronous, so "waiting a few hundred microseconds" means letting the event loop
 * take in more requests: the group closes after `windowUs` (0: the writes of the current turn, on the
 * next setImmediate). While a group's fsync runs the loop is blocked and new requests pile up in the
 * sockets, so under load the next group grows by itself.
 *
 * With a `Durability` (the backend's WAL sync off the loop, wal-sync.ts) a group's writes are
 * acknowledged, and `afterCommit` runs, only once the sync that covers its commit has finished; the
 * loop meanwhile goes on committing further groups, which share the next sync.
 */
import type Database from 'better-sqlite3';

/** Tuning of the group commit. */
export interface GroupCommitOptions {
  /** How long a group stays open after its first write, in microseconds (0: until the next turn of the event loop). */
  windowUs?: number;
  /** At most this many writes per transaction; more start the next group at once. */
  maxBatch?: number;
}

/**
 * Default window: none (the writes of one loop turn). With the WAL's fsync off the loop (wal-sync.ts)
 * a window saves no fsync — the writes that arrive while a sync runs already share the next one —
 * and a commit without its fsync costs ~0.1 ms, so holding a group open only adds its length to every
 * write's latency. `bench api` (bench/README.md, api) rows with 250 and 1,000 µs windows showed no
 * gain beyond the noise of this shared machine.
 */
export const DEFAULT_WINDOW_US = 0;
const DEFAULT_MAX_BATCH = 1000;

/** How a committed group is made durable before it is acknowledged (none: it is when COMMIT returns). */
export interface Durability {
  /** A mark of what has been committed so far (the backend: its revision); see durableMark. */
  mark(): number;
  /** Resolves once everything committed so far is on disk. */
  sync(): Promise<void>;
}

interface PendingWrite {
  run(): unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
  /** Set while the group runs: the write's own outcome. */
  outcome?: { ok: true; value: unknown } | { ok: false; error: unknown };
}

/**
 * `ownError(err)` decides whether an error thrown by one write is that write's alone (returns the
 * error to give it, e.g. a ConflictError) or the transaction's (returns undefined: the group fails).
 * `afterCommit` runs once per committed group, before any write's promise settles (the backend feeds
 * its watch hub there, so a caller that sees its write acknowledged can already watch it).
 */
export class GroupCommitter {
  private queue: PendingWrite[] = [];
  private scheduled = false;
  /** A write committed alone in this turn of the event loop: the next ones wait for a group. */
  private turnBusy = false;
  private readonly windowNs: bigint;
  private readonly maxBatch: number;
  /** Groups committed and writes in them, for tests and benchmarks. */
  readonly stats = { groups: 0, writes: 0, largest: 0 };
  /** Groups committed whose sync has not finished yet. */
  private unsynced = 0;
  /** The mark up to which everything is durable, while some group is not. */
  private synced = 0;
  /** Settles when the last committed group's sync has finished (never rejects). */
  private lastSynced: Promise<void> = Promise.resolve();
  /** A sync failed: nothing committed after the last good one can be called durable, so no write is taken any more. */
  private failed: Error | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly ownError: (err: unknown) => Error | undefined,
    private readonly afterCommit: () => void,
    opts: GroupCommitOptions = {},
    private readonly durability?: Durability,
    /** Runs when a group's transaction was rolled back (none of its writes is stored). */
    private readonly onRollback?: () => void,
  ) {
    this.windowNs = BigInt(Math.max(0, Math.round((opts.windowUs ?? DEFAULT_WINDOW_US) * 1000)));
    this.maxBatch = Math.max(1, opts.maxBatch ?? DEFAULT_MAX_BATCH);
  }

  /**
   * Queues `run` (the body of one write: checks, then inserts) for the next group. A write arriving
   * when the store is idle — nothing queued, no commit yet in this turn of the event loop — commits
   * at once, alone, as before group commit (its watchers hear it before the caller goes on); the
   * writes that follow it in the same turn, or arrive while a group is open, form the next group.
   * So a quiet store keeps its one-write-at-a-time behaviour and a busy one batches.
   */
  submit<T>(run: () => T): Promise<T> {
    if (this.failed) return Promise.reject(this.failed);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (this.windowNs === 0n && !this.scheduled && !this.turnBusy && this.queue.length === 1) {
        this.turnBusy = true;
        setImmediate(() => { this.turnBusy = false; });
        this.commitGroup();
        return;
      }
      this.schedule();
    });
  }

  /**
   * While a committed group is not yet durable: a promise settled once every group committed so far
   * is (reads that would see such a group's rows wait for it). Undefined when none is pending.
   */
  whenSynced(): Promise<void> | undefined {
    return this.unsynced > 0 ? this.lastSynced : undefined;
  }

  /** While a committed group is not yet durable, the mark up to which everything is; else undefined. */
  durableMark(): number | undefined {
    return this.unsynced > 0 ? this.synced : undefined;
  }

  /** Commits everything queued now (used on close, so no accepted write is dropped). */
  flushNow(): void {
    while (this.queue.length > 0) this.commitGroup();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    const opened = process.hrtime.bigint();
    const tick = (): void => {
      if (this.queue.length === 0) { this.scheduled = false; return; } // flushed meanwhile
      // Keep the group open across turns of the loop until the window has passed; each turn lets
      // the poll phase take in requests that arrived meanwhile.
      if (this.queue.length < this.maxBatch && process.hrtime.bigint() - opened < this.windowNs) {
        setImmediate(tick);
        return;
      }
      this.scheduled = false;
      this.commitGroup();
      if (this.queue.length > 0) this.schedule();
    };
    setImmediate(tick);
  }

  private commitGroup(): void {
    const group = this.queue.splice(0, this.maxBatch);
    if (group.length === 0) return;
    // Nothing pending: all committed so far is durable (what this group commits will not be, for a while).
    if (this.durability && this.unsynced === 0) this.synced = this.durability.mark();
    try {
      this.db.transaction(() => {
        for (const w of group) {
          try {
            w.outcome = { ok: true, value: w.run() };
          } catch (err) {
            const own = this.ownError(err);
            if (!own) throw err;
            w.outcome = { ok: false, error: own };
          }
        }
      }).immediate();
    } catch (err) {
      // Rolled back: no write of this group happened, each one hears why.
      this.onRollback?.();
      for (const w of group) w.reject(err);
      return;
    }
    this.stats.groups++;
    this.stats.writes += group.length;
    if (group.length > this.stats.largest) this.stats.largest = group.length;
    if (!this.durability) {
      this.acknowledge(group);
      return;
    }
    const mark = this.durability.mark();
    this.unsynced++;
    // Syncs finish in the order they were asked for, so groups are acknowledged in commit order.
    this.lastSynced = this.durability.sync().then(() => {
      this.unsynced--;
      this.synced = mark;
      this.acknowledge(group);
    }, (err: unknown) => {
      this.unsynced--;
      this.failed ??= new Error(`the store could not make its writes durable (${(err as Error).message}); writes are refused until the server restarts`);
      for (const w of group) w.reject(this.failed);
    });
  }

  private acknowledge(group: PendingWrite[]): void {
    try {
      this.afterCommit();
    } finally {
      for (const w of group) {
        const o = w.outcome!;
        if (o.ok) w.resolve(o.value); else w.reject(o.error);
      }
    }
  }
}
