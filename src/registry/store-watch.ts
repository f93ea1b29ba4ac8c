/**
 * Watch on one resource: optional initial ADDED events, then the backend's change stream turned into
 * Kubernetes watch events with per-watch label/field filtering (an object that stops matching is sent
 * as DELETED, one that starts matching as ADDED), bookmarks, and 410 Expired for compacted revisions.
 */
import type { KubeObject } from '../apis/object.ts';
import { CompactedError, type KeyValue, type WatchEvent } from '../storage/backend.ts';
import { decodeObject, encodedWithResourceVersion } from './object-codec.ts';
import type { ObjectFilter } from './object-filter.ts';
import { parseResourceVersion, type ResourceStore } from './resource-store.ts';
import type { Status } from '../errors/index.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ApiWatchEvent {
  type: WatchEventType;
  object: KubeObject | Status;
  /** `object` already serialized as JSON; shared by every watcher of the same change. */
  raw?: string;
}

/**
 * One change reaches every watcher of its resource: decode and serialize it once, not per watcher.
 * Objects in the memo are shared, so nothing downstream may mutate them.
 *
 * The memo holds the last DECODED_MEMO events, not one entry per live event: it was a WeakMap keyed
 * by the event, and the store's watch hub keeps its ring of recent events (10,000–12,500) alive for
 * watches that resume, so every ring event kept its decoded object, its previous one and its JSON
 * too — 143 MB of a 370 MB heap at 10,000 pods (heap snapshot, bench/README.md scale). An event is
 * fanned out to all its watchers in one synchronous pass, so a small memo still decodes it once; a
 * watcher replaying older events decodes them again, for itself.
 */
interface Decoded { obj: KubeObject; raw?: string; prev?: KubeObject; event?: WatchEvent }
const DECODED_MEMO = 512;
const decodedEvents = new Map<WatchEvent, Decoded>();

/**
 * Objects a write has just stored and will never change again (a binding's pod; a write whose caller
 * only serializes the result), by key, with the JSON stored: the watch event of that write adopts the
 * object instead of decoding the same JSON again. The stored bytes must be equal, so a write that lost
 * its race, or was overtaken, is never taken for another. A write that fails withdraws its offer
 * (withdrawWritten); past WRITTEN_MAX the oldest go (writes nobody watches in-process).
 *
 * WRITTEN_MAX is above the writes that can be in flight at once — the scheduler thread's 1,024
 * bindings, the HTTP clients' writes, a commit group of up to 1,000: at 256, a burst of bindings pushed
 * most offers out before their events were published, and those pods were parsed again (decodeObject
 * under the watch fan-out: 4.8 % of the API server's thread while binding, bench sched 2026-12-07).
 */
const written = new Map<string, { value: string; obj: KubeObject }>();
const WRITTEN_MAX = 4096;

/**
 * Offers `obj`, stored as `value` (encodeObject's JSON, without resourceVersion) under `key`, to the
 * watch event of its write. The caller hands it over: neither it nor anyone it returns the object to
 * may change it after, since watchers share it (the event's resourceVersion is set on it).
 */
export function offerWritten(key: string, value: string, obj: KubeObject): void {
  written.delete(key);
  written.set(key, { value, obj });
  if (written.size > WRITTEN_MAX) written.delete(written.keys().next().value!);
}

/** Takes back what `offerWritten(key, value, …)` offered: the write failed, no event will take it. */
export function withdrawWritten(key: string, value: string): void {
  if (written.get(key)?.value === value) written.delete(key);
}

/** The object of a create or update event: the one its write offered when the bytes match, else decoded. */
function objectOf(kv: KeyValue): KubeObject {
  const w = written.get(kv.key);
  if (w === undefined || w.value !== kv.value) return decodeObject(kv);
  written.delete(kv.key);
  w.obj.metadata.resourceVersion = String(kv.modRevision);
  return w.obj;
}

/**
 * The object the last event of each key carried (decoded or adopted; its resourceVersion is the
 * revision it was stored at), the most recently changed LATEST_MAX keys: an update's previous value
 * is most often the object its key's last event carried — the pending pod a binding replaced, the
 * bound pod a kubelet's status patch replaced — so a filtered watch's "did it match before?" and a
 * read-modify-write's starting point (read-modify-write.ts) need not parse that JSON again. The
 * in-process informers hold these objects anyway; the map adds its entries only. Shared: never
 * mutated (the same rule as the decode-once memo above).
 */
const latest = new Map<string, { kv: KeyValue; obj: KubeObject }>();
const LATEST_MAX = 16_384;

/**
 * The object as stored at `kv` if a watch event carried it lately — equal to `decodeObject(kv)`,
 * but shared, not to be changed. The stored bytes are compared too, not only the key and revision:
 * two stores in one process (tests) may hold different values under one key at one revision.
 */
export function decodedAt(kv: KeyValue): KubeObject | undefined {
  const l = latest.get(kv.key);
  return l !== undefined && l.kv.modRevision === kv.modRevision && l.kv.value === kv.value ? l.obj : undefined;
}

function remember(e: WatchEvent, d: Decoded): void {
  const key = e.kv.key;
  const had = latest.get(key);
  if (had !== undefined && had.kv.modRevision > e.kv.modRevision) return; // an older event replayed
  if (e.type === 'delete') { latest.delete(key); return; }
  // The previous value, while the key still maps to it: the event's own object replaces it below.
  if (e.type === 'update' && e.prevKv) d.prev = decodedAt(e.prevKv);
  latest.delete(key); // re-inserted last: the map's order is the order of change, oldest first
  latest.set(key, { kv: e.kv, obj: d.obj });
  if (latest.size > LATEST_MAX) latest.delete(latest.keys().next().value!);
}

function decoded(e: WatchEvent): Decoded {
  let d = decodedEvents.get(e);
  if (!d) {
    d = { obj: e.type === 'delete' ? decodeObject(e.prevKv ?? e.kv, e.revision) : objectOf(e.kv), event: e };
    decodedEvents.set(e, d);
    // Maps iterate in insertion order: the first key is the oldest.
    if (decodedEvents.size > DECODED_MEMO) decodedEvents.delete(decodedEvents.keys().next().value!);
    remember(e, d);
  }
  return d;
}

/** The object before an update: only a filtered watch needs it (did it match before?), so decoded on demand. */
function previous(e: WatchEvent, d: Decoded): KubeObject | undefined {
  if (e.type !== 'update' || !e.prevKv) return undefined;
  return (d.prev ??= decodeObject(e.prevKv));
}

/** The object's JSON: the stored bytes with the resourceVersion spliced in, when the splice can vouch for them. */
function rawOf(d: Decoded): string {
  if (d.raw !== undefined) return d.raw;
  const e = d.event;
  const spliced = e && (e.type === 'delete' ? encodedWithResourceVersion((e.prevKv ?? e.kv).value, e.revision) : encodedWithResourceVersion(e.kv.value, e.kv.modRevision));
  return (d.raw = spliced ?? JSON.stringify(d.obj));
}

export interface WatchParams {
  filter?: ObjectFilter;
  resourceVersion?: string;
  allowBookmarks?: boolean;
  /** Watch-list: initial ADDED events then a bookmark marking their end. */
  sendInitialEvents?: boolean;
  /** How often a bookmark may be sent (Kubernetes: about a minute). */
  bookmarkIntervalMs?: number;
}

export interface WatchHandle {
  close(): void;
}

function expired(requested: number, compacted: number): ApiWatchEvent {
  return {
    type: 'ERROR',
    object: {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: `too old resource version: ${requested} (${compacted})`, reason: 'Expired', code: 410,
    },
  };
}

/**
 * Starts a watch; `send` receives events in order, `end` is called once when the watch stops by itself
 * (an error was sent). The caller closes the handle when its client goes away.
 */
export async function watchResource(store: ResourceStore, namespace: string | undefined, params: WatchParams, send: (ev: ApiWatchEvent) => void, end: () => void): Promise<WatchHandle> {
  const filter = params.filter;
  const match = filter ? (o: KubeObject) => filter.matches(o) : undefined;
  let from = parseResourceVersion(params.resourceVersion);
  const initial = params.sendInitialEvents ?? from === 0;
  if (initial) {
    const list = await store.list(namespace, { filter, resourceVersion: params.resourceVersion, resourceVersionMatch: from ? 'NotOlderThan' : undefined });
    for (const obj of list.items) send({ type: 'ADDED', object: obj });
    from = Number(list.resourceVersion);
    if (params.sendInitialEvents && params.allowBookmarks) {
      send({ type: 'BOOKMARK', object: bookmark(store, from, true) });
    }
  }
  let closed = false;
  let lastSent = from;
  let lastBookmarkAt = Date.now();
  const interval = params.bookmarkIntervalMs ?? 60_000;
  const w = store.backend.watch(store.prefix(namespace), {
    afterRevision: from,
    onEvents(events: WatchEvent[]) {
      if (closed) return;
      for (const e of events) {
        const out = convert(e, match, store);
        if (out) { send(out); lastSent = e.revision; }
      }
    },
    onProgress(revision: number) {
      if (closed || !params.allowBookmarks || revision <= lastSent) return;
      if (Date.now() - lastBookmarkAt < interval) return;
      lastBookmarkAt = Date.now();
      lastSent = revision;
      send({ type: 'BOOKMARK', object: bookmark(store, revision, false) });
    },
    onError(err: Error) {
      if (closed) return;
      closed = true;
      if (err instanceof CompactedError) send(expired(err.requested, err.compacted));
      else send({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: err.message, reason: 'InternalError', code: 500 } });
      end();
    },
  });
  return {
    close() {
      if (closed) { w.close(); return; }
      closed = true;
      w.close();
    },
  };
}

function bookmark(store: ResourceStore, revision: number, initialEnd: boolean): KubeObject {
  const metadata: KubeObject['metadata'] = { resourceVersion: String(revision) };
  if (initialEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
  return { kind: store.type.info.kind, apiVersion: store.apiVersion, metadata };
}

/**
 * A change as one watcher gets it; its JSON (`raw`) made on demand — in-process watchers (the
 * controllers' informers) never serialize — and shared through `d` by every watcher of the change.
 * A class, not an object literal with a getter: the literal made a new getter closure for every
 * watcher of every change (and, run from source, tsx's keepNames named each: ~1 % of the API server's
 * thread in bench sched's binding window).
 */
class Converted implements ApiWatchEvent {
  readonly object: KubeObject;
  constructor(readonly type: WatchEventType, private readonly d: Decoded) {
    this.object = d.obj;
  }

  get raw(): string {
    return rawOf(this.d);
  }
}

function convert(e: WatchEvent, match: ((o: KubeObject) => boolean) | undefined, store: ResourceStore): ApiWatchEvent | undefined {
  let d = decoded(e);
  // A custom resource's version (apiVersion, defaults) is this store's own: not shared with other versions' watchers.
  if (store.readTransform) {
    const prev = match ? previous(e, d) : undefined;
    d = { obj: store.fromStorage(structuredClone(d.obj)), prev: prev && store.fromStorage(structuredClone(prev)) };
  }
  if (e.type === 'delete') return !match || match(d.obj) ? new Converted('DELETED', d) : undefined;
  if (!match) return new Converted(e.type === 'create' ? 'ADDED' : 'MODIFIED', d);
  const now = match(d.obj);
  if (e.type === 'create') return now ? new Converted('ADDED', d) : undefined;
  const prev = store.readTransform ? d.prev : previous(e, d);
  const before = prev ? match(prev) : false;
  if (now && before) return new Converted('MODIFIED', d);
  if (now) return new Converted('ADDED', d);
  if (before) return new Converted('DELETED', d);
  return undefined;
}
