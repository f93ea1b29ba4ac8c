/**
 * Where a read-modify-write starts: the watch cache's value of the key when it holds one, the store's
 * after anything goes wrong — kube-apiserver's GuaranteedUpdate (storage/etcd3/store.go) with the
 * cacher's `cachedExistingObject` (storage/cacher/cacher.go). The cached value saves the store read
 * of every patch, binding and PUT; it may be behind the store, and then it costs a re-read, never a
 * lost update or a wrong answer, because:
 * - the write's compare-and-swap on the store (expected revision) refuses a write built on it;
 * - any error of an attempt on the cached value (a failed precondition, a 409/422 of the mutation)
 *   is answered only once the store confirms the value was current (same revision); otherwise the
 *   attempt runs again on the store's value;
 * - an attempt that changes nothing is confirmed the same way before it is answered as a no-op.
 */
import { clone, type KubeObject } from '../apis/object.ts';
import type { KeyValue } from '../storage/backend.ts';
import { decodeObject } from './object-codec.ts';
import { decodedAt } from './store-watch.ts';
import type { ResourceStore } from './resource-store.ts';

/** An object as stored, with its store entry (its modRevision is what the write compares). */
export interface StoredState {
  obj: KubeObject;
  kv: KeyValue;
}

export interface ReadModifyWriteOptions<T> {
  /** Start from the store, not the cache (dry runs: upstream's dry-run storage reads the store). */
  noCache?: boolean;
  /**
   * How to make the attempt's own object from the shared decoded one a watch event carried (default:
   * a deep copy). A writer that changes only a few known parts may copy just the path to them and
   * share the rest, which stays unchanged (see bindPod).
   */
  copy?: (shared: KubeObject) => KubeObject;
  /** Whether the attempt's result left the object as it was (then a cached start is confirmed first). */
  unchanged?: (result: T, state: StoredState) => boolean;
  /** Whether an error on a current value is worth another attempt on a fresh read (a store conflict). */
  retry?: (err: unknown, attempt: number) => boolean;
}

/**
 * The key's value as the watch cache holds it (maybe stale), decoded — a fresh object, the caller's
 * to change: a copy of the object a watch event carried for that value when there is one (a plain
 * copy is 2–3× cheaper than parsing the JSON again), else parsed.
 */
export function readCached(store: ResourceStore, namespace: string | undefined, name: string, copy: (shared: KubeObject) => KubeObject = clone): StoredState | undefined {
  const kv = store.backend.cachedGet?.(store.key(namespace, name));
  if (kv === undefined) return undefined;
  const seen = decodedAt(kv);
  return { obj: store.fromStorage(seen !== undefined ? copy(seen) : decodeObject(kv)), kv };
}

/**
 * Runs `attempt` on the object's state, from the cache first, then the store; see the file comment.
 * `attempt` gets a freshly decoded object each time, and the attempt's number (0 first).
 */
export async function readModifyWrite<T>(
  store: ResourceStore, namespace: string | undefined, name: string,
  attempt: (state: StoredState, n: number) => Promise<T>, opts: ReadModifyWriteOptions<T> = {},
): Promise<T> {
  let state = opts.noCache ? undefined : readCached(store, namespace, name, opts.copy);
  let current = state === undefined;
  state ??= await store.read(namespace, name);
  for (let n = 0; ; n++) {
    let result: T;
    try {
      result = await attempt(state, n);
    } catch (err) {
      if (!current) {
        // Built on a value the store may have moved past: the store decides (a 404 from the read is the answer).
        const fresh = await store.read(namespace, name);
        current = true;
        if (fresh.kv.modRevision === state.kv.modRevision) throw err;
        state = fresh;
        continue;
      }
      if (opts.retry?.(err, n)) {
        state = await store.read(namespace, name);
        continue;
      }
      throw err;
    }
    if (!current && opts.unchanged?.(result, state)) {
      // Nothing to write — as far as the cached value says: only the store can tell it was current.
      const fresh = await store.read(namespace, name);
      current = true;
      if (fresh.kv.modRevision !== state.kv.modRevision) {
        state = fresh;
        continue;
      }
    }
    return result;
  }
}
