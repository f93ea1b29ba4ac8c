/**
 * Watch on one resource: optional initial ADDED events, then the backend's change stream turned into
 * Kubernetes watch events with per-watch label/field filtering (an object that stops matching is sent
 * as DELETED, one that starts matching as ADDED), bookmarks, and 410 Expired for compacted revisions.
 */
import type { KubeObject } from '../apis/object.ts';
import { CompactedError, type WatchEvent } from '../storage/backend.ts';
import { decodeObject } from './object-codec.ts';
import type { ObjectFilter } from './object-filter.ts';
import { parseResourceVersion, type ResourceStore } from './resource-store.ts';
import type { Status } from '../errors/index.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface ApiWatchEvent {
  type: WatchEventType;
  object: KubeObject | Status;
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
  const match = (o: KubeObject) => !filter || filter.matches(o);
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
        const out = convert(e, match);
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

function convert(e: WatchEvent, match: (o: KubeObject) => boolean): ApiWatchEvent | undefined {
  if (e.type === 'delete') {
    const prev = decodeObject(e.prevKv ?? e.kv, e.revision);
    return match(prev) ? { type: 'DELETED', object: prev } : undefined;
  }
  const obj = decodeObject(e.kv);
  const now = match(obj);
  if (e.type === 'create') return now ? { type: 'ADDED', object: obj } : undefined;
  const before = e.prevKv ? match(decodeObject(e.prevKv)) : false;
  if (now && before) return { type: 'MODIFIED', object: obj };
  if (now) return { type: 'ADDED', object: obj };
  if (before) return { type: 'DELETED', object: obj };
  return undefined;
}
