/**
 * The narrow storage interface every backend implements, in the style of kine: one global revision
 * counter bumped by every write (that revision is the object's `resourceVersion`), compare-and-swap
 * writes, reads at the latest or a past revision, watch from a revision, and compaction.
 *
 * Keys are strings such as `/registry/pods/default/web-0`; values are opaque strings (JSON).
 */

export interface KeyValue {
  key: string;
  value: string;
  /** Revision of the write that created this key (since its last deletion). */
  createRevision: number;
  /** Revision of the write that produced this value. */
  modRevision: number;
}

export interface WatchEvent {
  type: 'create' | 'update' | 'delete';
  /** For create/update the new value; for delete the last value, with `modRevision` = the delete's revision. */
  kv: KeyValue;
  /** The value before an update or delete. */
  prevKv?: KeyValue;
  /** The revision of the write. */
  revision: number;
}

export interface ListOptions {
  /** Read as of this revision (0 or undefined: latest). Fails with CompactedError below the compacted revision. */
  revision?: number;
  /** Return keys strictly greater than this one (for paging). */
  after?: string;
  /** At most this many items (0 or undefined: all). */
  limit?: number;
}

export interface ListResult {
  items: KeyValue[];
  /** The revision the list was read at. */
  revision: number;
  /** True when `limit` cut the list short. */
  more: boolean;
  /**
   * How many keys under the prefix follow the last one returned, at the list's revision — when the
   * backend knows it without more work (the watch cache's snapshot, etcd's range count); undefined
   * otherwise (SQLite would count the rest of the range). Kubernetes' remainingItemCount comes from it.
   */
  remaining?: number;
}

export interface WatchOptions {
  /** Deliver every event with revision > `afterRevision`, in revision order, then live events. */
  afterRevision: number;
  onEvents(events: WatchEvent[]): void;
  /**
   * Called when every event up to `revision` that matches this watch has been delivered; used for
   * watch bookmarks. Called at least every `progressIntervalMs` of the backend while the watch lives.
   */
  onProgress?(revision: number): void;
  /** The watch ended on error (e.g. CompactedError when `afterRevision` is compacted). No more calls follow. */
  onError(err: Error): void;
}

export interface Watch {
  /** Stop delivering; frees everything the watch held. Idempotent. */
  close(): void;
}

export interface Backend {
  /** Latest revision (0 on an empty store). */
  currentRevision(): Promise<number>;
  /** The revision at or below which history is gone. */
  compactedRevision(): Promise<number>;
  /** Fails with KeyExistsError when the key exists. Resolves to the new revision. */
  create(key: string, value: string): Promise<number>;
  /**
   * Replaces the value iff the key's current modRevision equals `expectedRevision`.
   * Fails with NotFoundError (key missing) or ConflictError (revision moved). Resolves to the new revision.
   */
  update(key: string, value: string, expectedRevision: number): Promise<number>;
  /**
   * Deletes the key; with `expectedRevision`, only iff its modRevision equals it.
   * Resolves to the delete's revision and the deleted value. Fails with NotFoundError / ConflictError.
   */
  delete(key: string, expectedRevision?: number): Promise<{ revision: number; kv: KeyValue }>;
  /** The key's value at the latest (or given) revision, or undefined. */
  get(key: string, revision?: number): Promise<KeyValue | undefined>;
  /**
   * The key's value as a cache in front of the store (watch-cache/) last saw it — possibly older than
   * the store's; undefined when no cache holds the key. Only where the store's compare-and-swap judges
   * what is built on it (a read-modify-write: kube's GuaranteedUpdate with the cacher's
   * `cachedExistingObject`); never the answer to a read. Backends without a cache leave it out.
   */
  cachedGet?(key: string): KeyValue | undefined;
  /** Keys starting with `prefix`, in key order. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;
  /** Number of live keys starting with `prefix`. */
  count(prefix: string): Promise<number>;
  /** Watch keys starting with `prefix`. Fails via onError with CompactedError when too old. */
  watch(prefix: string, options: WatchOptions): Watch;
  /** Forget history at or below `revision` (latest value of each live key is kept). */
  compact(revision: number): Promise<void>;
  /** Release connections, timers and files. */
  close(): Promise<void>;
}

export class StorageError extends Error {}
/** create() on an existing key. */
export class KeyExistsError extends StorageError {
  constructor(readonly key: string) { super(`key exists: ${key}`); }
}
/** update()/delete() on a missing key. */
export class NotFoundError extends StorageError {
  constructor(readonly key: string) { super(`key not found: ${key}`); }
}
/** update()/delete() whose expected revision is no longer current. */
export class ConflictError extends StorageError {
  constructor(readonly key: string, readonly currentRevision: number) { super(`revision conflict on ${key}`); }
}
/** A read or watch at a revision that compaction removed (HTTP 410 Gone, reason Expired). */
export class CompactedError extends StorageError {
  constructor(readonly requested: number, readonly compacted: number) {
    super(`required revision ${requested} has been compacted (compacted revision ${compacted})`);
  }
}
/** A read at a revision that does not exist yet. */
export class FutureRevisionError extends StorageError {
  constructor(readonly requested: number, readonly current: number) {
    super(`requested revision ${requested} is newer than the current revision ${current}`);
  }
}
/**
 * The store has no room for the write (SQLite: SQLITE_FULL, the disk or file system is full). Nothing
 * of the write was stored; reads go on working, and writes work again once space returns. The API
 * answers 500 InternalError with this message, as kube-apiserver does for etcd's "database space
 * exceeded".
 */
export class StorageFullError extends StorageError {
  constructor(readonly detail: string) { super(`the store is out of space, the write was not made: ${detail}`); }
}
