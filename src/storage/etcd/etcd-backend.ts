/**
 * The etcd v3 backend (kube-apiserver's storage/etcd3): compare-and-swap transactions for writes,
 * linearizable ranges for reads, and ONE etcd watch over all keys feeding the shared watch hub. The
 * client knows every member and moves to the next when one is lost (etcd-fault-handling.ts); the
 * watch resumes on another member from the hub's revision, so no event is skipped.
 */
import { Etcd3, type IRangeRequest, type IRequestOp, type ICompare, type IWatchResponse, type Watcher } from 'etcd3';
import {
  CompactedError, ConflictError, FutureRevisionError, KeyExistsError, NotFoundError,
  type Backend, type KeyValue, type ListOptions, type ListResult, type Watch, type WatchOptions,
} from '../backend.ts';
import { pageStart, prefixEndBytes } from '../key-range.ts';
import { WatchHub } from '../watch-hub.ts';
import { isCompactedError, isFutureRevisionError, toKv, toWatchEvent } from './etcd-events.ts';
import { ALL_KEYS, readHistory } from './etcd-history.ts';
import { etcdFaultHandling } from './etcd-fault-handling.ts';

/** Options of the etcd backend. */
export interface EtcdBackendOptions {
  /** How often watchers get `onProgress` (ms). Default 1000. */
  progressIntervalMs?: number;
}

/** Connects to etcd (`host:port` or URLs) and resolves once the backend's watch is established. */
export async function openEtcdBackend(endpoints: string[], opts: EtcdBackendOptions = {}): Promise<Backend> {
  const hosts = endpoints.map((e) => (/^https?:\/\//.test(e) ? e : `http://${e}`));
  const client = new Etcd3({ hosts, dialTimeout: 5000, ...etcdFaultHandling() });
  try {
    const backend = new EtcdBackend(client, opts);
    await backend.start();
    return backend;
  } catch (err) {
    client.close();
    throw err;
  }
}

/** A key that no Backend key (they all start with `/`) can be; used for revision-only reads. */
const PROBE_KEY = Buffer.from([0]);

const key = (k: string) => Buffer.from(k, 'utf8');
const exists = (k: string): ICompare => ({ key: key(k), target: 'Version', result: 'Greater', version: 0 });
const modIs = (k: string, rev: number): ICompare => ({ key: key(k), target: 'Mod', result: 'Equal', mod_revision: rev });
const readOp = (k: string): IRequestOp => ({ request_range: { key: key(k) } });

class EtcdBackend implements Backend {
  private hub!: WatchHub;
  private watcher?: Watcher;
  /** Highest compacted revision this process knows of (ours, or learnt from etcd). */
  private knownCompacted = 0;
  private closed = false;

  constructor(private readonly client: Etcd3, private readonly opts: EtcdBackendOptions) {}

  /** Creates the hub at the current revision and the one watch that feeds it. */
  async start(): Promise<void> {
    const rev = await this.currentRevision();
    this.hub = new WatchHub(
      { history: (prefix, after, upTo) => this.history(prefix, after, upTo) },
      rev,
      { progressIntervalMs: this.opts.progressIntervalMs },
    );
    await this.startFeed(rev);
  }

  async currentRevision(): Promise<number> {
    const res = await this.client.kv.range({ key: PROBE_KEY, count_only: true });
    return Number(res.header.revision);
  }

  async compactedRevision(): Promise<number> {
    // etcd does not report its compacted revision; find the oldest readable revision by bisection.
    const current = await this.currentRevision();
    let lo = Math.max(1, this.knownCompacted);
    let hi = current;
    if (hi < lo) return this.knownCompacted;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (await this.readableAt(mid)) hi = mid;
      else lo = mid + 1;
    }
    // Revision 1 is readable both before and right after compacting at 1: keep what we know.
    if (lo > 1) this.knownCompacted = Math.max(this.knownCompacted, lo);
    this.hub?.setCompacted(this.knownCompacted);
    return this.knownCompacted;
  }

  async create(k: string, value: string): Promise<number> {
    const res = await this.client.kv.txn({
      compare: [{ key: key(k), target: 'Create', result: 'Equal', create_revision: 0 }],
      success: [{ request_put: { key: key(k), value: Buffer.from(value, 'utf8') } }],
    });
    if (!res.succeeded) throw new KeyExistsError(k);
    return Number(res.header.revision);
  }

  async update(k: string, value: string, expectedRevision: number): Promise<number> {
    const res = await this.client.kv.txn({
      compare: [exists(k), modIs(k, expectedRevision)],
      success: [{ request_put: { key: key(k), value: Buffer.from(value, 'utf8') } }],
      failure: [readOp(k)],
    });
    if (!res.succeeded) this.refuse(k, res.responses[0]?.response_range.kvs ?? []);
    return Number(res.header.revision);
  }

  async delete(k: string, expectedRevision?: number): Promise<{ revision: number; kv: KeyValue }> {
    const compare = expectedRevision === undefined ? [exists(k)] : [exists(k), modIs(k, expectedRevision)];
    const res = await this.client.kv.txn({
      compare,
      success: [{ request_delete_range: { key: key(k), prev_kv: true } }],
      failure: [readOp(k)],
    });
    if (!res.succeeded) this.refuse(k, res.responses[0]?.response_range.kvs ?? []);
    const prev = res.responses[0].response_delete_range.prev_kvs[0];
    return { revision: Number(res.header.revision), kv: toKv(prev) };
  }

  async get(k: string, revision?: number): Promise<KeyValue | undefined> {
    const res = await this.range({ key: key(k), revision: revision ?? 0 }, revision ?? 0);
    return res.kvs.length > 0 ? toKv(res.kvs[0]) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    const start = key(pageStart(prefix, options.after));
    const revision = options.revision ?? 0;
    const res = await this.range({
      key: start.length > 0 ? start : PROBE_KEY,
      range_end: prefixEndBytes(key(prefix)),
      revision,
      limit: options.limit ?? 0,
    }, revision);
    // etcd counts the whole range at the revision, the keys past the limit included.
    return { items: res.kvs.map(toKv), revision: revision || Number(res.header.revision), more: res.more, remaining: Math.max(0, Number(res.count) - res.kvs.length) };
  }

  async count(prefix: string): Promise<number> {
    const p = key(prefix);
    const res = await this.range({ key: p.length > 0 ? p : PROBE_KEY, range_end: prefixEndBytes(p), count_only: true }, 0);
    return Number(res.count);
  }

  watch(prefix: string, options: WatchOptions): Watch {
    return this.hub.watch(prefix, options);
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.client.kv.compact({ revision, physical: true });
    } catch (err) {
      // Compacting at or below an earlier compaction is a no-op, as in the SQLite backend.
      if (isCompactedError(err)) return;
      if (isFutureRevisionError(err)) throw new FutureRevisionError(revision, await this.currentRevision());
      throw err;
    }
    this.knownCompacted = Math.max(this.knownCompacted, revision);
    this.hub.setCompacted(revision);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub?.close();
    const watcher = this.watcher;
    this.watcher = undefined;
    if (watcher) {
      // Cancelling waits for etcd's answer; do not hang shutdown on a dead connection.
      await Promise.race([watcher.cancel().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
    }
    this.client.close();
  }

  /** Starts the single etcd watch (all keys, with previous values) from `after + 1`. */
  private async startFeed(after: number): Promise<void> {
    const watcher = this.client.watch().inRange(ALL_KEYS).startRevision(String(after + 1)).withPreviousKV().watcher();
    this.watcher = watcher;
    watcher.on('data', (res: IWatchResponse) => {
      if (this.watcher !== watcher) return;
      if (res.events.length > 0) this.hub.publish(res.events.map(toWatchEvent));
      else this.hub.progress(Number(res.header.revision));
    });
    // On reconnect the client would resume after the last *header* revision, which may be past the
    // last event we got; resume right after what the hub has instead so nothing is skipped.
    watcher.on('disconnected', () => { watcher.request.start_revision = String(this.hub.revision + 1); });
    watcher.on('error', (err: Error) => void this.feedFailed(watcher, err));
    await new Promise<void>((resolve, reject) => {
      watcher.once('connected', () => resolve());
      watcher.once('error', reject);
    });
  }

  /** The feed cannot resume (e.g. its revision was compacted while disconnected): end watches, restart. */
  private async feedFailed(watcher: Watcher, err: Error): Promise<void> {
    if (this.closed || this.watcher !== watcher) return;
    this.watcher = undefined;
    try {
      const rev = await this.currentRevision();
      if (this.closed) return;
      this.hub.restart(new CompactedError(this.hub.revision, rev), rev);
      await this.startFeed(rev);
    } catch {
      if (!this.closed) setTimeout(() => void this.feedFailed(watcher, err), 1000).unref();
    }
  }

  private async history(prefix: string, after: number, upTo: number) {
    const compacted = await this.compactedRevision();
    if (after < compacted) throw new CompactedError(after, compacted);
    try {
      return await readHistory(this.client, prefix, after, upTo);
    } catch (err) {
      // etcd cancels a compacted watch without a reason; check whether that is what happened.
      const now = await this.compactedRevision();
      if (after < now) throw new CompactedError(after, now);
      throw err;
    }
  }

  /** A range read with etcd's revision errors mapped to the Backend's. */
  private async range(req: IRangeRequest, revision: number) {
    try {
      return await this.client.kv.range({ ...req, serializable: false });
    } catch (err) {
      if (isCompactedError(err)) throw new CompactedError(revision, await this.compactedRevision());
      if (isFutureRevisionError(err)) throw new FutureRevisionError(revision, await this.currentRevision());
      throw err;
    }
  }

  private async readableAt(revision: number): Promise<boolean> {
    try {
      await this.client.kv.range({ key: PROBE_KEY, revision, count_only: true });
      return true;
    } catch (err) {
      if (isCompactedError(err)) return false;
      throw err;
    }
  }

  /** Turns a failed CAS into NotFoundError or ConflictError, from the key's current state. */
  private refuse(k: string, kvs: { mod_revision: string }[]): never {
    if (kvs.length === 0) throw new NotFoundError(k);
    throw new ConflictError(k, Number(kvs[0].mod_revision));
  }
}
