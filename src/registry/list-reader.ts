/**
 * Lists of a resource at one revision — limited (limit/continue), full, or streamed chunk by chunk —
 * with Kubernetes' resourceVersion / resourceVersionMatch rules (the list half of upstream's
 * genericregistry.Store and storage.GetList). The ResourceStore's list() calls this.
 */
import { CompactedError } from '../storage/backend.ts';
import type { KubeObject } from '../apis/object.ts';
import { errors } from '../errors/index.ts';
import { decodeContinue, encodeContinue } from './continue-token.ts';
import { decodeObject } from './object-codec.ts';
import { parseResourceVersion, storageToApi, type ListOptions, type ListResult, type ResourceStore } from './resource-store.ts';

/** Rows one backend read of a limited list returns at most. */
const MAX_CHUNK = 10_000;
/** Rows per read of a streamed list: small enough to hold, large enough that the reads stay few. */
const STREAM_CHUNK = 500;

export async function listObjects(store: ResourceStore, namespace: string | undefined, opts: ListOptions = {}): Promise<ListResult> {
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
  const items: KubeObject[] = [];
  // Read in chunks until `limit` objects pass the filter (or the prefix is exhausted); a chunk is
  // at most MAX_CHUNK rows, so a huge limit (any int64 is valid) never reaches the store as is.
  const stream = limit ? undefined : opts.stream;
  const chunk = limit ? Math.min(Math.max(limit, 100), MAX_CHUNK) : stream ? STREAM_CHUNK : 0;
  let listRevision = revision;
  let lastKey: string | undefined;
  let more = false;
  try {
    for (;;) {
      const res = await store.backend.list(prefix, { revision: listRevision || undefined, after, limit: chunk });
      listRevision = res.revision;
      const batch: KubeObject[] = stream ? [] : items;
      for (let i = 0; i < res.items.length; i++) {
        const obj = store.fromStorage(decodeObject(res.items[i]));
        if (opts.filter && !opts.filter.matches(obj)) continue;
        batch.push(obj);
        if (limit && items.length === limit) {
          lastKey = res.items[i].key;
          more = i < res.items.length - 1 || res.more;
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
  const result: ListResult = { items, resourceVersion: String(listRevision) };
  if (more && lastKey !== undefined) result.continue = encodeContinue({ v: 1, rv: listRevision, start: lastKey });
  return result;
}
