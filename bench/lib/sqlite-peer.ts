/**
 * The raw-SQLite peer: the same kine-style log table, opened with the same pragmas (WAL,
 * synchronous=NORMAL — the schema module of Berth's backend is reused so the two cannot drift), and
 * the same statements Berth's backend runs per operation, called directly with better-sqlite3.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../../src/storage/sqlite/schema.ts';

interface Row { id: number; name: string; deleted: number; created: number; create_revision: number; value: string | null }

export interface SqlitePeer {
  db: Database.Database;
  /** create: IMMEDIATE transaction (latest row of the key, current revision, INSERT). */
  create(key: string, value: string): number;
  /** The latest value of a key. */
  get(key: string): string | undefined;
  /** The latest live rows of keys under `prefix`, in key order, at most `limit` (0: all). */
  list(prefix: string, limit: number): Row[];
  close(): void;
}

export function openSqlitePeer(): SqlitePeer {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-peer-'));
  const db = openDatabase(path.join(dir, 'state.db'));
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
  // Keys are ASCII here, so bumping the last character gives the prefix's exclusive end.
  const end = (p: string) => p.slice(0, -1) + String.fromCharCode(p.charCodeAt(p.length - 1) + 1);
  return {
    db,
    create: (key, value) => createTx.immediate(key, value),
    get: (key) => {
      const r = latest.get(key) as Row | undefined;
      return r && !r.deleted ? r.value ?? '' : undefined;
    },
    list: (prefix, limit) => listSql.all({ lo: prefix, hi: end(prefix), lim: limit > 0 ? limit + 1 : -1 }).slice(0, limit > 0 ? limit : undefined) as Row[],
    close: () => { db.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}
