/**
 * The watch cache: a Backend in front of the store that keeps every key's current value in memory
 * from one list and one watch of the store, and answers lists from memory — kube-apiserver's cacher
 * (k8s.io/apiserver/pkg/storage/cacher) with ConsistentListFromCache and ListFromCacheSnapshot.
 *
 * - A list at the latest revision (what the registry asks for RV unset, RV=0 and NotOlderThan) is a
 *   consistent read from the cache: ask the store for its current revision, wait until the cache's
 *   watch has reached it, answer from memory. A cache that does not catch up within
 *   `freshnessTimeoutMs` (upstream: 3 s) hands the list to the store (upstream's fallback).
 * - A list cut short by `limit` keeps its snapshot (an array of references to the immutable
 *   KeyValues), so the next pages at that revision — the registry's streamed chunks and clients'
 *   continue tokens — come from memory too, consistent with the first.
 * - A list at a past revision with no snapshot (Exact, an expired continue) goes to the store, which
 *   keeps history; below the compacted revision it fails there with CompactedError (410).
 * - Writes, gets and watches go to the store: writes must be compare-and-swap on the truth, a get is
 *   one indexed read, and the store's watch hub already serves watches from its ring of recent events.
 *   A read-modify-write may start from the cached value (`cachedGet`, upstream's cachedExistingObject):
 *   its compare-and-swap on the store still judges it.
 *
 * Values are kept as the store returned them (the encoded bytes), never decoded: one string per key.
 */
import { Counter } from 'prom-client';
import type { Backend, KeyValue, ListOptions, ListResult, Watch, WatchEvent, WatchOptions } from '../backend.ts';
import { storageRegistry } from '../storage-metrics.ts';
import type { Logger } from '../../util/log.ts';
import { KeyIndex, indexAfter } from './key-index.ts';

export interface WatchCacheOptions {
  /**
   * Key prefixes never cached; lists that reach into them go to the store. Default: Events, as
   * kube-apiserver's default watch cache sizes turn the cache off for events.
   */
  uncached?: string[];
  /** How long a consistent read waits for the cache to reach the store's revision (default 3,000 ms). */
  freshnessTimeoutMs?: number;
  /** How long an unused list snapshot is kept for its next page (default 60 s); one whose last page was read goes at once. */
  snapshotTtlMs?: number;
  /** At most this many snapshots are kept; the least recently used goes first (default 32). */
  maxSnapshots?: number;
  /** Rows per read of the initial list (default 10,000). */
  loadChunk?: number;
  /** Pause before re-listing after the store's watch broke (default 1,000 ms). */
  relistDelayMs?: number;
  log?: Logger;
}

export const DEFAULT_UNCACHED = ['/registry/core/events/', '/registry/events.k8s.io/events/'];

/** What the cache answered and how (tests and benchmarks read these). */
export interface WatchCacheStats {
  listsFromCache: number;
  listsFromStore: number;
  /** Consistent reads the cache could not serve fresh in time, handed to the store. */
  consistentFallbacks: number;
  /** Full loads of the cache (the first, and one per broken watch). */
  loads: number;
}

interface Snapshot {
  items: KeyValue[];
  usedAt: number;
}

const listsCounter = new Counter({
  name: 'apiserver_cache_list_total', help: 'Number of LIST requests served from watch cache.', labelNames: ['source'], registers: [storageRegistry],
});
const fallbackCounter = new Counter({
  name: 'apiserver_watch_cache_consistent_read_total', help: 'Counter for consistent reads from cache.', labelNames: ['fallback'], registers: [storageRegistry],
});

/** A Backend that serves lists from memory; see the file comment. */
export class WatchCache implements Backend {
  readonly stats: WatchCacheStats = { listsFromCache: 0, listsFromStore: 0, consistentFallbacks: 0, loads: 0 };
  private readonly index = new KeyIndex();
  private readonly uncached: string[];
  /** Every event up to this revision has been applied. */
  private revision = 0;
  /** The revision of the last event applied: the state is the store's at any revision in [this, revision]. */
  private stateSince = 0;
  private compacted = 0;
  private ready = false;
  private closed = false;
  private feed?: Watch;
  private relistTimer?: NodeJS.Timeout;
  private waiters: Array<{ revision: number; wake: (ok: boolean) => void }> = [];
  /** Snapshots of lists cut short, by `${revision} ${prefix}`, in least-recently-used order. */
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly loaded: Promise<void>;

  constructor(private readonly inner: Backend, private readonly opts: WatchCacheOptions = {}) {
    this.uncached = opts.uncached ?? DEFAULT_UNCACHED;
    this.loaded = this.load();
  }

  /** Resolves once the first load is done (or failed: lists then go to the store until a re-list works). */
  whenReady(): Promise<void> {
    return this.loaded;
  }

  /** Keys held in memory. */
  get size(): number {
    return this.index.size;
  }

  /** The revision the cache has caught up to (0 before its first load). */
  get cachedRevision(): number {
    return this.ready ? this.revision : 0;
  }

  private cacheable(prefix: string): boolean {
    return !this.uncached.some((u) => prefix.startsWith(u) || u.startsWith(prefix));
  }

  private keyCached(key: string): boolean {
    return !this.uncached.some((u) => key.startsWith(u));
  }

  /** One list of everything at one revision, then one watch from it. */
  private async load(): Promise<void> {
    this.stats.loads++;
    const chunk = this.opts.loadChunk ?? 10_000;
    const started = Date.now();
    try {
      this.index.clear();
      this.compacted = await this.inner.compactedRevision();
      let res = await this.inner.list('', { limit: chunk });
      const at = res.revision;
      for (;;) {
        for (const kv of res.items) if (this.keyCached(kv.key)) this.index.put(kv);
        if (!res.more || res.items.length === 0 || this.closed) break;
        res = await this.inner.list('', { revision: at, after: res.items[res.items.length - 1].key, limit: chunk });
      }
      if (this.closed) return;
      this.revision = at;
      this.stateSince = at;
      this.feed = this.inner.watch('', {
        afterRevision: at,
        onEvents: (events) => this.apply(events),
        onProgress: (rev) => this.advance(rev),
        onError: (err) => this.broken(err),
      });
      this.ready = true;
      this.opts.log?.info('watch cache loaded', { keys: this.index.size, revision: at, ms: Date.now() - started });
    } catch (err) {
      this.broken(err as Error);
    }
  }

  private apply(events: WatchEvent[]): void {
    for (const e of events) {
      if (this.keyCached(e.kv.key)) {
        if (e.type === 'delete') this.index.remove(e.kv.key);
        else this.index.put(e.kv);
      }
      this.stateSince = e.revision;
    }
    this.advance(events[events.length - 1].revision);
  }

  private advance(revision: number): void {
    if (revision <= this.revision) return;
    this.revision = revision;
    if (this.waiters.length === 0) return;
    const still: typeof this.waiters = [];
    for (const w of this.waiters) if (w.revision <= revision) w.wake(true); else still.push(w);
    this.waiters = still;
  }

  /** The store's watch ended (compacted past the cache, a feed restart): forget, and list again. */
  private broken(err: Error): void {
    this.ready = false;
    this.feed?.close();
    this.feed = undefined;
    this.index.clear();
    this.snapshots.clear();
    for (const w of this.waiters.splice(0)) w.wake(false);
    if (this.closed) return;
    this.opts.log?.warn('watch cache lost its watch; lists go to the store until it has listed again', { error: err.message });
    this.relistTimer = setTimeout(() => { void this.load(); }, this.opts.relistDelayMs ?? 1000);
    this.relistTimer.unref();
  }

  /**
   * The revision the cache can answer a consistent read at: the store's current one or later, once
   * the cache has caught up with it; undefined when it cannot in time (the caller reads the store).
   */
  private async fresh(): Promise<number | undefined> {
    if (!this.ready) return undefined;
    const want = await this.inner.currentRevision();
    if (this.ready && this.revision >= want) return this.revision;
    const ok = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        resolve(false);
      }, this.opts.freshnessTimeoutMs ?? 3000);
      const waiter = { revision: want, wake: (v: boolean) => { clearTimeout(timer); resolve(v); } };
      this.waiters.push(waiter);
    });
    return ok && this.ready ? this.revision : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    if (!this.cacheable(prefix)) return this.fromStore(prefix, options);
    let items: KeyValue[] | undefined;
    let revision: number;
    if (!options.revision) {
      const at = await this.fresh();
      if (at === undefined) {
        if (this.ready) { this.stats.consistentFallbacks++; fallbackCounter.inc({ fallback: 'true' }); }
        return this.fromStore(prefix, options);
      }
      fallbackCounter.inc({ fallback: 'false' });
      revision = at;
      // Synchronous from here: no event can land between the revision and the state read.
      items = this.index.range(prefix);
    } else {
      revision = options.revision;
      items = this.snapshotAt(prefix, revision);
      if (!items) return this.fromStore(prefix, options);
    }
    this.stats.listsFromCache++;
    listsCounter.inc({ source: 'cache' });
    const start = options.after === undefined ? 0 : indexAfter(items, options.after);
    const end = options.limit && options.limit > 0 ? Math.min(items.length, start + options.limit) : items.length;
    const more = end < items.length;
    // Kept only while a paging is under way: a snapshot holds the values of its revision alive (nodes
    // and pods that changed since), so one that served its last page goes at once.
    if (more) this.keepSnapshot(prefix, revision, items);
    else this.snapshots.delete(`${revision} ${prefix}`);
    return { items: start === 0 && end === items.length ? items : items.slice(start, end), revision, more, remaining: items.length - end };
  }

  /** The list under `prefix` as of `revision`, when memory still holds it. */
  private snapshotAt(prefix: string, revision: number): KeyValue[] | undefined {
    // Below the compacted revision the store answers 410, and so must the cache.
    if (!this.ready || revision < this.compacted) return undefined;
    const id = `${revision} ${prefix}`;
    const snap = this.snapshots.get(id);
    if (snap) {
      this.snapshots.delete(id);
      snap.usedAt = Date.now();
      this.snapshots.set(id, snap);
      return snap.items;
    }
    if (revision >= this.stateSince && revision <= this.revision) return this.index.range(prefix);
    return undefined;
  }

  private keepSnapshot(prefix: string, revision: number, items: KeyValue[]): void {
    const id = `${revision} ${prefix}`;
    const now = Date.now();
    this.snapshots.delete(id);
    this.snapshots.set(id, { items, usedAt: now });
    const ttl = this.opts.snapshotTtlMs ?? 60_000;
    const max = this.opts.maxSnapshots ?? 32;
    for (const [k, s] of this.snapshots) {
      if (this.snapshots.size <= max && now - s.usedAt <= ttl) break;
      this.snapshots.delete(k);
    }
  }

  private fromStore(prefix: string, options: ListOptions): Promise<ListResult> {
    this.stats.listsFromStore++;
    listsCounter.inc({ source: 'store' });
    return this.inner.list(prefix, options);
  }

  async count(prefix: string): Promise<number> {
    if (!this.cacheable(prefix) || (await this.fresh()) === undefined) return this.inner.count(prefix);
    return this.index.count(prefix);
  }

  currentRevision(): Promise<number> {
    return this.inner.currentRevision();
  }

  async compactedRevision(): Promise<number> {
    const rev = await this.inner.compactedRevision();
    this.noteCompacted(rev);
    return rev;
  }

  private noteCompacted(revision: number): void {
    if (revision <= this.compacted) return;
    this.compacted = revision;
    for (const k of [...this.snapshots.keys()]) if (Number(k.slice(0, k.indexOf(' '))) < revision) this.snapshots.delete(k);
  }

  async compact(revision: number): Promise<void> {
    await this.inner.compact(revision);
    this.noteCompacted(revision);
  }

  create(key: string, value: string): Promise<number> {
    return this.inner.create(key, value);
  }

  update(key: string, value: string, expectedRevision: number): Promise<number> {
    return this.inner.update(key, value, expectedRevision);
  }

  delete(key: string, expectedRevision?: number): Promise<{ revision: number; kv: KeyValue }> {
    return this.inner.delete(key, expectedRevision);
  }

  get(key: string, revision?: number): Promise<KeyValue | undefined> {
    return this.inner.get(key, revision);
  }

  /**
   * The key's value as the cache's watch last delivered it (the cacher's object that kube's
   * GuaranteedUpdate starts from): maybe behind the store, so only for a read-modify-write whose
   * compare-and-swap on the store judges it — a stale one costs that write a re-read, never an answer.
   */
  cachedGet(key: string): KeyValue | undefined {
    if (!this.ready || !this.keyCached(key)) return undefined;
    return this.index.get(key);
  }

  watch(prefix: string, options: WatchOptions): Watch {
    return this.inner.watch(prefix, options);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.ready = false;
    clearTimeout(this.relistTimer);
    this.feed?.close();
    for (const w of this.waiters.splice(0)) w.wake(false);
    this.index.clear();
    this.snapshots.clear();
    await this.inner.close();
  }
}
