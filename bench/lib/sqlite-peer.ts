/**
 * The raw-SQLite peer: the same kine-style log table, opened with the same pragmas (WAL, and the
 * `synchronous` level asked for — the schema module of Berth's backend is reused so the two cannot
 * drift), and the same statements Berth's backend runs per operation, called directly with
 * better-sqlite3. `batched`: creates issued in one turn of the event loop share one transaction
 * (the least a group commit can be: a queue flushed on setImmediate), so one fsync covers them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase, type Synchronous } from '../../src/storage/sqlite/schema.ts';

interface Row { id: number; name: string; deleted: number; created: number; create_revision: number; value: string | null }

export interface SqlitePeer {
  db: Database.Database;
  /** create: IMMEDIATE transaction (latest row of the key, current revision, INSERT); batched: a promise. */
  create(key: string, value: string): number | Promise<number>;
  /** The latest value of a key. */
  get(key: string): string | undefined;
  /** The latest live rows of keys under `prefix`, in key order, at most `limit` (0: all). */
  list(prefix: string, limit: number): Row[];
  close(): void;
}

export interface SqlitePeerOptions {
  synchronous?: Synchronous;
  batched?: boolean;
}

export function openSqlitePeer(opts: SqlitePeerOptions = {}): SqlitePeer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-peer-'));
  const db = openDatabase(path.join(dir, 'state.db'), opts.synchronous ?? 'NORMAL');
  const latest = db.prepare('SELECT * FROM log WHERE name = ? ORDER BY id DESC LIMIT 1');
  const seq = db.prepare(`SELECT seq FROM sqlite_sequence WHERE name = 'log'`);
  const insert = db.prepare(`INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value, old_value)
    VALUES (?, ?, 1, 0, ?, ?, ?, NULL)`);
  const listSql = db.prepare(`SELECT l.* FROM log AS l JOIN
      (SELECT MAX(id) AS mid FROM log WHERE name >= @lo AND name < @hi GROUP BY name) AS m ON l.id = m.mid
      WHERE l.deleted = 0 ORDER BY l.name LIMIT @lim`);
  const createTx = db.transaction((key: string, value: string): number => {
    const prev = latest.get(key) as Row | undefined;
    if (prev && !prev.deleted) throw new Error(`key exists: ${key}`);
    const id = ((seq.get() as { seq: number } | undefined)?.seq ?? 0) + 1;
    insert.run(id, key, id, prev?.id ?? 0, value);
    return id;
  });
  let queue: Array<{ key: string; value: string; resolve(id: number): void; reject(e: unknown): void }> = [];
  const createMany = db.transaction((group: typeof queue) => group.map((w) => createTx(w.key, w.value)));
  const flush = () => {
    const group = queue;
    queue = [];
    try {
      createMany.immediate(group).forEach((id, i) => group[i].resolve(id));
    } catch (err) {
      for (const w of group) w.reject(err);
    }
  };
  const batchedCreate = (key: string, value: string) => new Promise<number>((resolve, reject) => {
    if (queue.push({ key, value, resolve, reject }) === 1) setImmediate(flush);
  });
  // Keys are ASCII here, so bumping the last character gives the prefix's exclusive end.
  const end = (p: string) => p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
  return {
    db,
    create: opts.batched ? batchedCreate : (key, value) => createTx.immediate(key, value),
    get: (key) => {
      const r = latest.get(key) as Row | undefined;
      return r && !r.deleted ? r.value ?? '' : undefined;
    },
    list: (prefix, limit) => listSql.all({ lo: prefix, hi: end(prefix), lim: limit > 0 ? limit + 1 : -1 }).slice(0, limit > 0 ? limit : undefined) as Row[],
    close: () => { db.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}
