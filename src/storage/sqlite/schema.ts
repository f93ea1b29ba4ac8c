/**
 * Opens the SQLite file and creates kine's log table: every write appends one row whose `id` is the
 * global revision.
 */
import Database from 'better-sqlite3';

/** One row of the log table. */
export interface LogRow {
  id: number;
  name: string;
  created: number;
  deleted: number;
  create_revision: number;
  prev_revision: number;
  value: string | null;
  old_value: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  created INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  value TEXT,
  old_value TEXT
);
-- Two writes based on the same previous row cannot both commit (optimistic concurrency, as in kine).
CREATE UNIQUE INDEX IF NOT EXISTS log_name_prev_revision ON log (name, prev_revision);
-- Latest row per key, and lists over a key range, walk this index.
CREATE INDEX IF NOT EXISTS log_name_id ON log (name, id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

/** SQLite's `synchronous` levels the backend offers. */
export type Synchronous = 'FULL' | 'NORMAL';

/** Opens (creating if needed) the database file with the pragmas the backend relies on. */
export function openDatabase(file: string, synchronous: Synchronous = 'FULL'): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  // WAL + FULL: the WAL is fsynced at every commit, before the write is acknowledged, so an OS crash
  // or power loss loses nothing acknowledged (kine and etcd fsync every commit too). Group commit
  // makes that one fsync per group, not per write. NORMAL only writes the WAL (it survives kill -9,
  // not power loss: the WAL is fsynced at checkpoints); it stays selectable for measurements.
  db.pragma(`synchronous = ${synchronous}`);
  // Another process (e.g. a second Berth on the same file) may hold the write lock briefly.
  db.pragma('busy_timeout = 5000');
  db.exec(SCHEMA);
  return db;
}
