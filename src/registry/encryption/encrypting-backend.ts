/**
 * Encryption at rest where kube-apiserver has it: between the object codec and the store, on the
 * raw value of every key of an encrypted resource (storage/value transformers on the etcd3 store).
 * A Backend around the real one, so every reader — resource stores, watches, deletes, the
 * allocation repair loop — sees clear JSON and the store (`etcdctl get`, the SQLite row) holds
 * only `k8s:enc:…` ciphertext. Keys of resources that are not encrypted pass through untouched (the
 * same event objects, so watch fan-out still decodes each change once).
 *
 * Reads say whether a value was *stale* (written with a key that no longer writes) through
 * `isStale`, so an unchanged update still rewrites it with the current key.
 */
import type { Backend, KeyValue, ListOptions, ListResult, Watch, WatchEvent, WatchOptions } from '../../storage/backend.ts';
import { ALLOCATION_PREFIX } from '../allocation/allocation-store.ts';
import type { EncryptionConfig } from './encryption-config.ts';
import type { ValueTransformer } from './value-transformer.ts';

const stale = new WeakSet<KeyValue>();

/** Whether `kv` was read with a provider other than the one that now writes its resource. */
export function isStale(kv: KeyValue): boolean {
  return stale.has(kv);
}

/** `/registry/<group|core>/<plural>/…` → its transformer, if that resource is encrypted. */
function resolver(config: EncryptionConfig): (key: string) => ValueTransformer | undefined {
  const cache = new Map<string, ValueTransformer | undefined>();
  return (key) => {
    // Allocations are not REST resources: upstream never encrypts them, whatever `*.*` says.
    if (!key.startsWith('/registry/') || key.startsWith(ALLOCATION_PREFIX)) return undefined;
    const [, , group, plural] = key.split('/', 4);
    if (!plural) return undefined;
    const id = `${group}/${plural}`;
    if (!cache.has(id)) cache.set(id, config.transformerFor(group === 'core' ? '' : group, plural));
    return cache.get(id);
  };
}

/** Whether any key under `prefix` may be encrypted (a watch on another prefix is passed through as is). */
function mayCover(prefix: string, config: EncryptionConfig): boolean {
  if (!'/registry/'.startsWith(prefix) && !prefix.startsWith('/registry/')) return false;
  const [, , group, plural] = prefix.split('/', 4);
  if (group === undefined || group === '' || plural === undefined || plural === '') return true;
  return !!config.transformerFor(group === 'core' ? '' : group, plural);
}

export function encryptingBackend(inner: Backend, config: EncryptionConfig): Backend {
  const transformerOf = resolver(config);
  const read = (kv: KeyValue): KeyValue => {
    const t = transformerOf(kv.key);
    if (!t || kv.value === '') return kv;
    const r = t.fromStorage(kv.value, kv.key);
    const out = { ...kv, value: r.value };
    if (r.stale) stale.add(out);
    return out;
  };
  const write = (key: string, value: string): string => transformerOf(key)?.toStorage(value, key) ?? value;
  const opened = new WeakMap<WatchEvent, WatchEvent>();
  const readEvent = (e: WatchEvent): WatchEvent => {
    if (!transformerOf(e.kv.key)) return e;
    let out = opened.get(e);
    if (!out) {
      out = { ...e, kv: read(e.kv), ...(e.prevKv ? { prevKv: read(e.prevKv) } : {}) };
      opened.set(e, out);
    }
    return out;
  };
  return {
    currentRevision: () => inner.currentRevision(),
    compactedRevision: () => inner.compactedRevision(),
    create: (key, value) => inner.create(key, write(key, value)),
    update: (key, value, expectedRevision) => inner.update(key, write(key, value), expectedRevision),
    async delete(key, expectedRevision) {
      const res = await inner.delete(key, expectedRevision);
      return { revision: res.revision, kv: read(res.kv) };
    },
    async get(key, revision) {
      const kv = await inner.get(key, revision);
      return kv && read(kv);
    },
    // The cache holds what the store holds: sealed values, opened here as for a get.
    ...(inner.cachedGet ? { cachedGet(key: string) { const kv = inner.cachedGet!(key); return kv && read(kv); } } : {}),
    async list(prefix: string, options?: ListOptions): Promise<ListResult> {
      const res = await inner.list(prefix, options);
      return { ...res, items: res.items.map(read) };
    },
    count: (prefix) => inner.count(prefix),
    watch(prefix: string, options: WatchOptions): Watch {
      if (!mayCover(prefix, config)) return inner.watch(prefix, options);
      let failed = false;
      const w: Watch = inner.watch(prefix, {
        afterRevision: options.afterRevision,
        onProgress: options.onProgress && ((rev) => { if (!failed) options.onProgress!(rev); }),
        onError: (err) => { if (!failed) { failed = true; options.onError(err); } },
        onEvents(events) {
          if (failed) return;
          let out: WatchEvent[];
          try {
            out = events.map(readEvent);
          } catch (err) {
            failed = true;
            queueMicrotask(() => w.close());
            options.onError(err as Error);
            return;
          }
          options.onEvents(out);
        },
      });
      return w;
    },
    compact: (revision) => inner.compact(revision),
    close: () => inner.close(),
  };
}
