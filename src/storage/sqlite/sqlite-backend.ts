/**
 * The SQLite backend, after kine: an append-only log table whose row id is the revision. Writes are
 * group-committed (group-commit.ts): those arriving together share one IMMEDIATE transaction and one
 * fsync, which runs off the event loop (wal-sync.ts); once it has, the poller reads the group's rows
 * and feeds the watch hub in revision order, then the writes are acknowledged. A timer poll picks up
 * rows written by other processes. Readers see only durable rows: a read that would see a row whose
 * sync is still running waits for it.
 */
import type Database from 'better-sqlite3';
import {
  CompactedError, ConflictError, FutureRevisionError, KeyExistsError, NotFoundError, StorageError, StorageFullError,
  type Backend, type KeyValue, type ListOptions, type ListResult, type Watch, type WatchEvent, type WatchOptions,
} from '../backend.ts';
import { pageStart, prefixEndString } from '../key-range.ts';
import { WatchHub } from '../watch-hub.ts';
import type { SqliteBackend, SqliteBackendOptions } from './backend-options.ts';
import { BACKSTOP_PAGES, Checkpointer, type CheckpointStats } from './checkpointer.ts';
import { GroupCommitter } from './group-commit.ts';
import { AT_SQL, EVENT_COLUMNS, HEAD_SQL, INSERT_SQL, LATEST_IN_RANGE, LATEST_SQL, VALUE_AT_SQL, rowToEvent, rowToKv } from './log-rows.ts';
import { openDatabase, type LogRow } from './schema.ts';
import { OffLoopReader } from './off-loop-reader.ts';
import { RecentValues } from './recent-values.ts';
import { WalSync } from './wal-sync.ts';

/** Opens the SQLite file (created if missing) as a Backend. */
export function openSqliteBackend(file: string, opts: SqliteBackendOptions = {}): SqliteBackend {
  return new SqliteStore(file, opts);
}

/** Revisions compacted per transaction (kine's batch size). */
const COMPACT_STEP = 1000;

/** A key's latest row as a write checks it: no value. */
interface Head { id: number; create_revision: number; deleted: number }

class SqliteStore implements SqliteBackend {
  private readonly db: Database.Database;
  private readonly hub: WatchHub;
  private readonly pollTimer: NodeJS.Timeout;
  /** Highest revision handed to the hub. */
  private polled: number;
  private closed = false;
  /** close() has begun: no new write is taken. */
  private closing = false;
  /** Off-loop WAL sync (synchronous FULL, walSync async); undefined when commits are durable as they return or never synced. */
  private readonly walSync: WalSync | undefined;
  private readonly stmt: Record<string, Database.Statement>;
  private readonly cache = new Map<string, Database.Statement>();
  private readonly committer: GroupCommitter;
  private readonly checkpointer: Checkpointer | undefined;
  /** Counts run here (off-loop-reader.ts); none for an in-memory database. */
  private readonly reader: OffLoopReader | undefined;
  /** The compaction under way, if any. */
  private compacting: Promise<void> | undefined;
  /**
   * The watch events of this connection's committed rows not yet published, by revision: the poll
   * that publishes them takes these instead of reading the rows (value and old_value) back. Rows of
   * other processes are not here, and the poll then reads its range from the table.
   */
  private readonly written = new Map<number, WatchEvent>();
  /** Previous values of the keys this connection wrote last (recent-values.ts). */
  private readonly values = new RecentValues();

  constructor(file: string, opts: SqliteBackendOptions) {
    const synchronous = opts.synchronous ?? 'FULL';
    const offLoop = synchronous === 'FULL' && (opts.walSync ?? 'async') === 'async' && file !== ':memory:';
    // Off-loop FULL: SQLite commits as NORMAL (no fsync in COMMIT) and WalSync makes each group
    // durable before it is acknowledged; see wal-sync.ts for why that is FULL's durability.
    this.db = openDatabase(file, offLoop ? 'NORMAL' : synchronous);
    this.walSync = offLoop ? new WalSync(`${file}-wal`) : undefined;
    if (file !== ':memory:' && (opts.checkpoint ?? 'worker') === 'worker') {
      // SQLite's own checkpoint stays as a backstop, far above what the worker lets the WAL reach.
      this.db.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
      this.checkpointer = new Checkpointer(file, opts.checkpointIntervalMs ?? 250);
    }
    if (file !== ':memory:') this.reader = new OffLoopReader(file);
    const prepare = (sql: string) => this.db.prepare(sql);
    this.stmt = {
      seq: prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'log'`),
      compacted: prepare(`SELECT value FROM meta WHERE key = 'compacted_revision'`),
      setCompacted: prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('compacted_revision', ?)`),
      latest: prepare(LATEST_SQL),
      head: prepare(HEAD_SQL),
      valueAt: prepare(VALUE_AT_SQL),
      at: prepare(AT_SQL),
      insert: prepare(INSERT_SQL),
      since: prepare(`SELECT ${EVENT_COLUMNS} FROM log WHERE id > ? AND id <= ? ORDER BY id`),
      // One step of a compaction to @rev: the rows in (@lo, @hi] that a newer row at or below @rev
      // supersedes, and tombstones.
      compact: prepare(`DELETE FROM log WHERE id > @lo AND id <= @hi AND (deleted = 1 OR id <
        (SELECT MAX(l2.id) FROM log AS l2 WHERE l2.name = log.name AND l2.id <= @rev))`),
    };
    this.polled = this.current();
    this.hub = new WatchHub(
      { history: async (prefix, after, upTo) => this.history(prefix, after, upTo) },
      this.polled,
      { progressIntervalMs: opts.progressIntervalMs, refresh: () => this.poll() },
    );
    this.hub.setCompacted(this.compacted());
    // A precondition that fails (exists, not found, conflict) is that write's own error; anything
    // else SQLite throws mid-group (disk full, I/O error) fails the whole group's transaction.
    const walSync = this.walSync;
    this.committer = new GroupCommitter(
      this.db, (err) => err instanceof StorageError ? err : undefined,
      () => this.poll(false),
      opts.groupCommit,
      walSync && { mark: () => this.current(), sync: () => walSync.sync() },
      // A group rolled back: its revisions were never stored and the next group takes them again.
      () => { this.written.clear(); this.values.clear(); },
    );
    this.pollTimer = setInterval(() => this.poll(), opts.pollIntervalMs ?? 1000);
    this.pollTimer.unref();
  }

  async currentRevision(): Promise<number> {
    return this.visible();
  }

  async compactedRevision(): Promise<number> {
    return this.compacted();
  }

  async create(key: string, value: string): Promise<number> {
    return this.write(key, () => {
      const latest = this.stmt.head.get(key) as Head | undefined;
      if (latest && !latest.deleted) throw new KeyExistsError(key);
      const id = this.current() + 1;
      this.insert({ id, name: key, created: 1, deleted: 0, create_revision: id, prev_revision: latest?.id ?? 0, value, old_value: null });
      return id;
    });
  }

  // An update row stores its value only: the previous value is the previous row's (log-rows.ts
  // EVENT_COLUMNS), so a pod's update writes ~2.6 KB, not twice that (kine's old_value).
  async update(key: string, value: string, expectedRevision: number): Promise<number> {
    return this.write(key, () => {
      const latest = this.live(key);
      if (latest.id !== expectedRevision) throw new ConflictError(key, latest.id);
      const id = this.current() + 1;
      this.insert({
        id, name: key, created: 0, deleted: 0, create_revision: latest.create_revision, prev_revision: latest.id,
        value, old_value: null,
      }, this.valueOf(key, latest.id));
      return id;
    });
  }

  async delete(key: string, expectedRevision?: number): Promise<{ revision: number; kv: KeyValue }> {
    return this.write(key, () => {
      const latest = this.live(key);
      if (expectedRevision !== undefined && latest.id !== expectedRevision) throw new ConflictError(key, latest.id);
      const id = this.current() + 1;
      const old = this.valueOf(key, latest.id);
      // The tombstone carries the deleted value once (rowToEvent reads it as the previous value).
      this.insert({
        id, name: key, created: 0, deleted: 1, create_revision: latest.create_revision, prev_revision: latest.id,
        value: old, old_value: null,
      }, old);
      return { revision: id, kv: { key, value: old, createRevision: latest.create_revision, modRevision: latest.id } };
    });
  }

  async get(key: string, revision?: number): Promise<KeyValue | undefined> {
    let row = revision ? this.stmt.at.get(key, this.readable(revision)) as LogRow | undefined
      : this.stmt.latest.get(key) as LogRow | undefined;
    const synced = this.committer.whenSynced();
    if (synced && row && row.id > this.visible()) {
      // This key's latest row is committed but not yet on disk: wait for its sync rather than answer
      // with the older row (a read-modify-write would only conflict with the newer one, again and again).
      await synced;
      const bound = this.visible();
      row = this.stmt.at.get(key, revision ? Math.min(revision, bound) : bound) as LogRow | undefined;
    }
    return row && !row.deleted ? rowToKv(row) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const rev = options.revision ? this.readable(options.revision) : this.visible();
    const limit = options.limit && options.limit > 0 ? options.limit : 0;
    const hi = prefixEndString(prefix);
    // A page (limit) walks the (name, id) index in key order and stops after `limit` live keys, so
    // its cost follows the page size; a full list groups the whole range once.
    const sql = limit
      ? `SELECT l.* FROM log AS l WHERE l.name >= @lo ${hi === undefined ? '' : 'AND l.name < @hi'} AND l.id <= @rev
          AND l.id = (SELECT MAX(l2.id) FROM log AS l2 WHERE l2.name = l.name AND l2.id <= @rev)
          AND l.deleted = 0 ORDER BY l.name LIMIT @lim`
      : `SELECT l.* FROM log AS l JOIN (${this.rangeSql(hi)}) AS m ON l.id = m.mid
      WHERE l.deleted = 0 ORDER BY l.name LIMIT @lim`;
    const rows = this.prepared(sql).all({
      lo: pageStart(prefix, options.after), ...(hi === undefined ? {} : { hi }), rev, lim: limit ? limit + 1 : -1,
    }) as LogRow[];
    const more = limit > 0 && rows.length > limit;
    return { items: (more ? rows.slice(0, limit) : rows).map(rowToKv), revision: rev, more };
  }

  async count(prefix: string): Promise<number> {
    const hi = prefixEndString(prefix);
    const sql = `SELECT COUNT(*) AS n FROM log AS l JOIN (${this.rangeSql(hi)}) AS m ON l.id = m.mid WHERE l.deleted = 0`;
    const params = { lo: prefix, ...(hi === undefined ? {} : { hi }), rev: this.visible() };
    // A count groups every row of the range: on the reader's thread, here only if it failed.
    if (this.reader) {
      const row = await this.reader.get<{ n: number }>(sql, params).catch(() => undefined);
      if (row) return row.n;
    }
    return (this.prepared(sql).get(params) as { n: number }).n;
  }

  watch(prefix: string, options: WatchOptions): Watch {
    return this.hub.watch(prefix, options);
  }

  async compact(revision: number): Promise<void> {
    this.poll();
    const current = this.current();
    if (revision > current) throw new FutureRevisionError(revision, current);
    // One compaction at a time; a second one waits and then does what is left of its own.
    while (this.compacting) await this.compacting;
    if (revision <= this.compacted()) return;
    this.compacting = this.compactInSteps(revision).finally(() => { this.compacting = undefined; });
    await this.compacting;
  }

  /**
   * Compacts up to `revision` COMPACT_STEP revisions per transaction, yielding to the event loop
   * between steps, as kine compacts in batches of 1,000: one DELETE over the whole range held the
   * loop for ~1 s at 134,000 rows (every request waited), and the compactor runs every 5 minutes.
   * Each step raises the compacted revision with its deletes, so no read ever sees a half-compacted
   * revision.
   */
  private async compactInSteps(revision: number): Promise<void> {
    let done = this.compacted();
    while (done < revision && !this.closing) {
      const hi = Math.min(revision, done + COMPACT_STEP);
      this.db.transaction(() => {
        this.stmt.compact.run({ lo: done, hi, rev: revision });
        this.stmt.setCompacted.run(hi);
      }).immediate();
      this.hub.setCompacted(hi);
      done = hi;
      if (done < revision) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async close(): Promise<void> {
    if (this.closed || this.closing) return;
    this.closing = true;
    // Writes already accepted are committed, not dropped, and acknowledged once synced.
    this.committer.flushNow();
    await this.committer.whenSynced();
    this.walSync?.close();
    // The worker's connection goes first: closing the last connection checkpoints and removes the WAL.
    await this.reader?.stop();
    await this.checkpointer?.stop();
    this.closed = true;
    clearInterval(this.pollTimer);
    this.written.clear();
    this.values.clear();
    this.hub.close();
    this.db.close();
  }

  /**
   * Publishes the durable rows newer than the last poll; cheap when there are none. After a group
   * commit (`timer` false) the rows are this connection's own, whose events it kept when it inserted
   * them; the timer's poll also picks up other processes' rows and the compacted revision.
   */
  private poll(timer = true): void {
    if (this.closed) return;
    if (timer) this.hub.setCompacted(this.compacted());
    const upTo = this.visible();
    if (upTo <= this.polled) return;
    let events: WatchEvent[] | undefined = [];
    // Revisions are consecutive: when every one in the range is ours, no other row is in it.
    for (let id = this.polled + 1; id <= upTo; id++) {
      const e = this.written.get(id);
      if (!e) { events = undefined; break; }
      events.push(e);
    }
    events ??= (this.stmt.since.all(this.polled, upTo) as LogRow[]).map(rowToEvent);
    for (let id = this.polled + 1; id <= upTo; id++) this.written.delete(id);
    if (events.length === 0) return;
    this.polled = events[events.length - 1].revision;
    // One publish per row: every watcher gets a write before any watcher gets the next one, as when
    // each write committed alone (the PV controller's tests depend on that cross-watch interleaving).
    for (const e of events) this.hub.publish([e]);
  }

  private async history(prefix: string, after: number, upTo: number): Promise<WatchEvent[]> {
    const compacted = this.compacted();
    if (after < compacted) throw new CompactedError(after, compacted);
    const hi = prefixEndString(prefix);
    const sql = `SELECT ${EVENT_COLUMNS} FROM log WHERE id > @after AND id <= @upTo AND name >= @lo ${hi === undefined ? '' : 'AND name < @hi'} ORDER BY id`;
    const rows = this.prepared(sql).all({ after, upTo, lo: prefix, ...(hi === undefined ? {} : { hi }) }) as LogRow[];
    return rows.map(rowToEvent);
  }

  /**
   * Queues a write for the next group commit. `fn` runs inside the group's transaction, after the
   * writes queued before it, so its checks see their rows.
   */
  private write<T>(key: string, fn: () => T): Promise<T> {
    if (this.closed || this.closing) return Promise.reject(new Error('store is closed'));
    return this.committer.submit(() => {
      try {
        return fn();
      } catch (err) {
        // Another process wrote from the same previous row first: the unique index refused our row
        // (only that statement is undone; the group's transaction goes on).
        if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE') {
          const latest = this.stmt.head.get(key) as Head | undefined;
          throw new ConflictError(key, latest?.id ?? 0);
        }
        throw err;
      }
    }).catch((err: unknown) => {
      // The disk or file system filled up: the group's transaction was rolled back.
      if ((err as { code?: string }).code === 'SQLITE_FULL') throw new StorageFullError((err as Error).message);
      throw err;
    });
  }

  watchCount(): number {
    return this.hub.watchCount;
  }

  /** Group commit counters (groups, writes, largest group), for tests and benchmarks. */
  groupStats(): { groups: number; writes: number; largest: number; syncs: number } {
    return { ...this.committer.stats, syncs: this.walSync?.syncs ?? 0 };
  }

  checkpointStats(): CheckpointStats | undefined {
    return this.checkpointer && { ...this.checkpointer.stats };
  }

  /** Inserts `row`; `old` is the previous value its watch event carries (an update's or delete's). */
  private insert(row: LogRow, old?: string): void {
    this.stmt.insert.run(row);
    this.written.set(row.id, rowToEvent(old === undefined ? row : { ...row, old_value: old }));
    this.values.wrote(row.name, row.id, row.deleted ? undefined : row.value ?? '');
  }

  /** The value of `key`'s row at revision `id`: remembered when this connection wrote it, else read. */
  private valueOf(key: string, id: number): string {
    return this.values.get(key, id) ?? (this.stmt.valueAt.get(id) as { value: string | null } | undefined)?.value ?? '';
  }

  /** The latest row of a live key (without its value), or NotFoundError. */
  private live(key: string): Head {
    const latest = this.stmt.head.get(key) as Head | undefined;
    if (!latest || latest.deleted) throw new NotFoundError(key);
    return latest;
  }

  /** The newest revision readers may see: all of them, but while a group's sync runs, only what is durable. */
  private visible(): number {
    return this.committer.durableMark() ?? this.current();
  }

  private current(): number {
    const row = this.stmt.seq.get() as { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  private compacted(): number {
    const row = this.stmt.compacted.get() as { value: number } | undefined;
    return row?.value ?? 0;
  }

  /** Checks a past revision is still readable and returns it. */
  private readable(revision: number): number {
    const compacted = this.compacted();
    if (revision < compacted) throw new CompactedError(revision, compacted);
    const current = this.visible();
    if (revision > current) throw new FutureRevisionError(revision, current);
    return revision;
  }

  /** Statements whose text depends on the query shape, prepared once per shape. */
  private prepared(sql: string): Database.Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare(sql);
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  private rangeSql(hi: string | undefined): string {
    return LATEST_IN_RANGE.replace('%HI%', hi === undefined ? '' : 'AND name < @hi');
  }
}
