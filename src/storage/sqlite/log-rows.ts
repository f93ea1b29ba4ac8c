/**
 * The log table's statements and its rows as the Backend's vocabulary (kine's row → KeyValue / watch
 * event): a create row, an update row with its previous value, a delete row (a tombstone whose
 * previous value is the deleted one).
 */
import type { KeyValue, WatchEvent } from '../backend.ts';
import type { LogRow } from './schema.ts';

// A key's row without old_value: no point read needs the previous value, and it is as big as the value.
const KV_COLUMNS = 'id, name, created, deleted, create_revision, prev_revision, value';
export const LATEST_SQL = `SELECT ${KV_COLUMNS} FROM log WHERE name = ? ORDER BY id DESC LIMIT 1`;
export const AT_SQL = `SELECT ${KV_COLUMNS} FROM log WHERE name = ? AND id <= ? ORDER BY id DESC LIMIT 1`;
export const INSERT_SQL = `INSERT INTO log (id, name, created, deleted, create_revision, prev_revision, value, old_value)
  VALUES (@id, @name, @created, @deleted, @create_revision, @prev_revision, @value, @old_value)`;

/** The latest row per key in a key range at a revision; `%HI%` is replaced by the optional upper bound. */
export const LATEST_IN_RANGE = `SELECT MAX(id) AS mid FROM log WHERE name >= @lo %HI% AND id <= @rev GROUP BY name`;

export function rowToKv(row: LogRow): KeyValue {
  return { key: row.name, value: row.value ?? '', createRevision: row.create_revision, modRevision: row.id };
}

/** Turns a log row into the watch event it records. */
export function rowToEvent(row: LogRow): WatchEvent {
  if (row.created) return { type: 'create', kv: rowToKv(row), revision: row.id };
  const prevKv: KeyValue = {
    key: row.name, value: row.old_value ?? '', createRevision: row.create_revision, modRevision: row.prev_revision,
  };
  if (row.deleted) return { type: 'delete', kv: { ...prevKv, modRevision: row.id }, prevKv, revision: row.id };
  return { type: 'update', kv: rowToKv(row), prevKv, revision: row.id };
}
