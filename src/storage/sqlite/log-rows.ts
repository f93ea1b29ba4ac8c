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
/** A key's latest row without its value: what a write checks (exists, deleted, revision). */
export const HEAD_SQL = 'SELECT id, create_revision, deleted FROM log WHERE name = ? ORDER BY id DESC LIMIT 1';
/** One row's value by revision (a write's previous value when this connection does not hold it). */
export const VALUE_AT_SQL = 'SELECT value FROM log WHERE id = ?';
/**
 * Every column of a row as a watch event needs it: an update's previous value is the value of the row
 * it replaced (`prev_revision`), read from that row when the update's own `old_value` is NULL — rows
 * written since 2026-12-07 store it once, in the previous row, not again in every update (kine stores
 * it twice). The previous row of an update above the compacted revision is never compacted away: it
 * is superseded only by that update.
 */
export const EVENT_COLUMNS = `id, name, created, deleted, create_revision, prev_revision, value,
  COALESCE(old_value, CASE WHEN created = 0 AND deleted = 0 THEN (SELECT p.value FROM log AS p WHERE p.id = log.prev_revision) END) AS old_value`;
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
  // A tombstone carries the deleted value in `value` (older rows: in old_value too).
  const prevKv: KeyValue = {
    key: row.name, value: row.old_value ?? (row.deleted ? row.value : null) ?? '', createRevision: row.create_revision, modRevision: row.prev_revision,
  };
  if (row.deleted) return { type: 'delete', kv: { ...prevKv, modRevision: row.id }, prevKv, revision: row.id };
  return { type: 'update', kv: rowToKv(row), prevKv, revision: row.id };
}
