/**
 * Lists of a resource at one revision — limited (limit/continue), full, or streamed chunk by chunk —
 * with Kubernetes' resourceVersion / resourceVersionMatch rules (the list half of upstream's
 * genericregistry.Store and storage.GetList). The ResourceStore's list() calls this for objects; the
 * HTTP list calls listJson for JSON text.
 */
import { CompactedError, type KeyValue } from '../storage/backend.ts';
import type { KubeObject } from '../apis/object.ts';
import { errors } from '../errors/index.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';
import { decodeObject, resourceVersionSplice, type ResourceVersionSplice } from './object-codec.ts';
import { parseResourceVersion, storageToApi, type ListOptions, type ListResult, type ResourceStore } from './resource-store.ts';

/** Rows one backend read of a limited list returns at most. */
const MAX_CHUNK = 10_000;
/** Rows per read of a streamed list: small enough to hold, large enough that the reads stay few. */
const STREAM_CHUNK = 500;
/**
 * The longest a list holds the event loop before it lets other requests run (ms): reading a chunk
 * decodes each row when a selector filters (~30 µs a pod), and writing one encodes and encrypts it;
 * every other request of the server waits meanwhile (issue 19: mutations behind lists of 150,000 pods).
 */
export const LIST_SLICE_MS = 5;

/** A turn of the event loop: timers, I/O and other requests run before it resolves. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * One item of a list from its stored row, or undefined when the list's filter leaves it out. Objects
 * for the registry's callers (the in-process client); JSON text for the HTTP list (listJson).
 */
type ItemReader<T> = (kv: KeyValue) => T | undefined;

/** Options of a list whose items are `T`: ListOptions with the stream typed alike. */
type ItemListOptions<T> = Omit<ListOptions, 'stream'> & { stream?: (items: T[], resourceVersion: string) => void | Promise<void> };

export interface JsonListResult { items: string[]; resourceVersion: string; continue?: string; remainingItemCount?: number }

export function listObjects(store: ResourceStore, namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
  const filter = opts.filter;
  return listItems<KubeObject>(store, namespace, opts, (kv) => {
    const obj = store.fromStorage(decodeObject(kv));
    return filter && !filter.matches(obj) ? undefined : obj;
  });
}

/**
 * The same list with each item as its JSON text — what `JSON.stringify` of listObjects' item gives —
 * for the HTTP list, which sends JSON: where nothing changes an object on read (no readTransform: a
 * custom resource's apiVersion and schema defaults), the stored bytes with the resourceVersion spliced
 * in (resourceVersionSplice), so a list does not parse and re-stringify every object. A filter
 * still needs the object to match, but not its re-encoding. Anything the splice cannot vouch for is
 * decoded and encoded as before.
 */
export function listJson(store: ResourceStore, namespace: string | undefined, opts: ItemListOptions<string> = {}): Promise<JsonListResult> {
  return listItems<string>(store, namespace, opts, jsonItemReader(store, opts.filter, (kv, p) => `${kv.value.slice(0, p.at)}${p.insert}${kv.value.slice(p.at)}`));
}

/**
 * An item of listJsonItems: its JSON text, or — where the splice applies — its stored value and where
 * its resourceVersion goes (the text is `value.slice(0, at) + insert + value.slice(at)`), so that a
 * streamed list copies the stored bytes once, into its write buffer, and never builds the item's text.
 */
export type JsonItem = string | (ResourceVersionSplice & { value: string });

/** listJson's items for a streamed list (list-stream.ts), as JsonItems. */
export function listJsonItems(store: ResourceStore, namespace: string | undefined, opts: ItemListOptions<JsonItem> = {}): Promise<{ items: JsonItem[]; resourceVersion: string }> {
  return listItems<JsonItem>(store, namespace, opts, jsonItemReader(store, opts.filter, (kv, p) => ({ value: kv.value, at: p.at, insert: p.insert })));
}

function jsonItemReader<T>(store: ResourceStore, filter: ListOptions['filter'], spliced: (kv: KeyValue, p: ResourceVersionSplice) => T): ItemReader<T | string> {
  const splice = !store.readTransform;
  return (kv) => {
    if (splice && !filter) {
      const p = resourceVersionSplice(kv.value, kv.modRevision);
      if (p) return spliced(kv, p);
    }
    const obj = store.fromStorage(decodeObject(kv));
    if (filter && !filter.matches(obj)) return undefined;
    const p = splice && filter ? resourceVersionSplice(kv.value, kv.modRevision) : undefined;
    return p ? spliced(kv, p) : JSON.stringify(obj);
  };
}

async function listItems<T>(store: ResourceStore, namespace: string | undefined, opts: ItemListOptions<T>, read: ItemReader<T>): Promise<{ items: T[]; resourceVersion: string; continue?: string; remainingItemCount?: number }> {
  const prefix = store.prefix(namespace);
  let revision = 0;
  let after: string | undefined;
  if (opts.continue) {
    const t = decodeContinue(opts.continue);
    if (!t.start.startsWith(prefix)) throw errors.badRequest('continue key is not valid: it does not belong to this list');
    revision = t.rv;
    after = t.start;
  } else {
    const rv = parseResourceVersion(opts.resourceVersion);
    const match = opts.resourceVersionMatch ?? '';
    if (match && !['Exact', 'NotOlderThan'].includes(match)) {
      throw errors.invalid('meta.k8s.io', 'ListOptions', '', [{ type: 'FieldValueNotSupported', field: 'resourceVersionMatch', message: `Unsupported value: "${match}": supported values: "Exact", "NotOlderThan"` }]);
    }
    if (match && opts.resourceVersion === undefined) {
      throw errors.invalid('meta.k8s.io', 'ListOptions', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided' }]);
    }
    if (match === 'Exact') {
      if (rv === 0) throw errors.invalid('meta.k8s.io', 'ListOptions', '', [{ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"' }]);
      revision = rv;
    } else if (rv > 0) {
      const current = await store.backend.currentRevision();
      if (rv > current) throw errors.rvTooLarge(rv, current);
    }
  }
  const limit = opts.limit && opts.limit > 0 ? opts.limit : 0;
  const items: T[] = [];
  // Read in chunks until `limit` objects pass the filter (or the prefix is exhausted); a chunk is
  // at most MAX_CHUNK rows, so a huge limit (any int64 is valid) never reaches the store as is.
  const stream = limit ? undefined : opts.stream;
  const chunk = limit ? Math.min(Math.max(limit, 100), MAX_CHUNK) : stream ? STREAM_CHUNK : 0;
  let listRevision = revision;
  let lastKey: string | undefined;
  let more = false;
  // Objects after the page, when known: the rows the page's chunk read past its end plus what the
  // backend says follows the chunk. Only without a selector — the rest would have to be filtered to
  // count (upstream too leaves remainingItemCount out for a non-empty predicate).
  let remaining: number | undefined;
  let sliceStart = performance.now();
  try {
    for (;;) {
      const res = await store.backend.list(prefix, { revision: listRevision || undefined, after, limit: chunk });
      listRevision = res.revision;
      const batch: T[] = stream ? [] : items;
      for (let i = 0; i < res.items.length; i++) {
        // A chunk of decoded rows (a selector, up to MAX_CHUNK of them) is not read in one go.
        if ((i & 63) === 63 && performance.now() - sliceStart >= LIST_SLICE_MS) {
          await nextTurn();
          sliceStart = performance.now();
        }
        const item = read(res.items[i]);
        if (item === undefined) continue;
        batch.push(item);
        if (limit && items.length === limit) {
          lastKey = res.items[i].key;
          more = i < res.items.length - 1 || res.more;
          const after = res.more ? res.remaining : 0;
          if (!opts.filter && after !== undefined) remaining = res.items.length - 1 - i + after;
          break;
        }
      }
      if (stream) await stream(batch, String(listRevision));
      if (lastKey !== undefined || !res.more || res.items.length === 0) break;
      after = res.items[res.items.length - 1].key;
    }
  } catch (err) {
    if (err instanceof CompactedError && opts.continue) {
      throw errors.gone('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.');
    }
    throw storageToApi(err, store.group, store.plural, '');
  }
  const result: { items: T[]; resourceVersion: string; continue?: string; remainingItemCount?: number } = { items, resourceVersion: String(listRevision) };
  if (more && lastKey !== undefined) {
    result.continue = encodeContinue({ v: 1, rv: listRevision, start: lastKey });
    // Upstream sets it with `continue` only (etcd3 store and cacher GetList: count − limit, empty predicate).
    if (remaining !== undefined) result.remainingItemCount = remaining;
  }
  return result;
}
