/**
 * Conversions from etcd's wire shapes (int64 strings, Buffers) to the Backend's, and recognition of
 * etcd's revision errors by their message.
 */
import type { IEvent, IKeyValue } from 'etcd3';
import type { KeyValue, WatchEvent } from '../backend.ts';

/** An etcd key-value as a Backend KeyValue. */
export function toKv(kv: IKeyValue): KeyValue {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value ? kv.value.toString('utf8') : '',
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}

/** An etcd watch event (requested with prev_kv) as a Backend WatchEvent. */
export function toWatchEvent(ev: IEvent): WatchEvent {
  const revision = Number(ev.kv.mod_revision);
  const prevKv = ev.prev_kv ? toKv(ev.prev_kv) : undefined;
  if (ev.type === 'Delete') {
    // etcd's delete event carries an empty value; the interface wants the last value instead.
    const kv: KeyValue = prevKv
      ? { ...prevKv, modRevision: revision }
      : { key: ev.kv.key.toString('utf8'), value: '', createRevision: 0, modRevision: revision };
    return prevKv ? { type: 'delete', kv, prevKv, revision } : { type: 'delete', kv, revision };
  }
  const kv = toKv(ev.kv);
  // A key's version restarts at 1 each time it is (re)created.
  if (ev.kv.version === '1' || Number(ev.kv.version) === 1) return { type: 'create', kv, revision };
  return prevKv ? { type: 'update', kv, prevKv, revision } : { type: 'update', kv, revision };
}

/** True for etcd's "mvcc: required revision has been compacted". */
export function isCompactedError(err: unknown): boolean {
  return err instanceof Error && err.message.includes('required revision has been compacted');
}

/** True for etcd's "mvcc: required revision is a future revision". */
export function isFutureRevisionError(err: unknown): boolean {
  return err instanceof Error && err.message.includes('future revision');
}
