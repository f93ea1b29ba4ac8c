/**
 * The watch cache's in-memory state: every cached key's current KeyValue (the stored bytes as the
 * store returned them, never decoded), and the keys in store order for prefix ranges — upstream's
 * watchCache store with its btree index (k8s.io/apiserver/pkg/storage/cacher/store_btree.go).
 *
 * Instead of a tree, a sorted array repaired lazily: writes only note which keys appeared or went, and
 * the next read merges them in (O(n + k log k) for k changes), so a burst of 150,000 creates costs
 * one sort, not 150,000 splices, and a read under churn costs one linear merge.
 */
import type { KeyValue } from '../backend.ts';
import { prefixEndString } from '../key-range.ts';

/** First index in `keys` (sorted) whose key is >= `k` (or > `k` when `strict`). */
function lowerBound(keys: string[], k: string, strict: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid] < k || (strict && keys[mid] === k)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Current values of the cached keys, with prefix ranges in key order. */
export class KeyIndex {
  private readonly values = new Map<string, KeyValue>();
  /** Sorted keys as of the last repair; may hold keys since deleted and miss keys since added. */
  private sorted: string[] = [];
  private readonly added = new Set<string>();
  private readonly removed = new Set<string>();

  get size(): number {
    return this.values.size;
  }

  get(key: string): KeyValue | undefined {
    return this.values.get(key);
  }

  /** Records a key's new value (create or update). */
  put(kv: KeyValue): void {
    if (!this.values.has(kv.key)) {
      // Deleted and re-created before a repair: it is still in `sorted`.
      if (!this.removed.delete(kv.key)) this.added.add(kv.key);
    }
    this.values.set(kv.key, kv);
  }

  /** Records a key's deletion. */
  remove(key: string): void {
    if (!this.values.delete(key)) return;
    if (!this.added.delete(key)) this.removed.add(key);
  }

  /** Forgets everything (a re-list follows). */
  clear(): void {
    this.values.clear();
    this.sorted = [];
    this.added.clear();
    this.removed.clear();
  }

  /**
   * The current values of the keys under `prefix`, in key order: an array of references to the
   * (immutable) KeyValues, so holding it as a snapshot costs one pointer per key.
   */
  range(prefix: string): KeyValue[] {
    const keys = this.repaired();
    const { start, end } = this.bounds(keys, prefix);
    const out = new Array<KeyValue>(end - start);
    for (let i = start; i < end; i++) out[i - start] = this.values.get(keys[i])!;
    return out;
  }

  /** How many keys lie under `prefix`. */
  count(prefix: string): number {
    const { start, end } = this.bounds(this.repaired(), prefix);
    return end - start;
  }

  private bounds(keys: string[], prefix: string): { start: number; end: number } {
    const start = lowerBound(keys, prefix, false);
    const upper = prefixEndString(prefix);
    const end = upper === undefined ? keys.length : lowerBound(keys, upper, false);
    return { start, end: Math.max(start, end) };
  }

  /** The sorted key array with the pending additions and removals merged in. */
  private repaired(): string[] {
    if (this.added.size === 0 && this.removed.size === 0) return this.sorted;
    const fresh = [...this.added].sort();
    const old = this.sorted;
    const out: string[] = [];
    let i = 0;
    let j = 0;
    while (i < old.length || j < fresh.length) {
      if (i < old.length && this.removed.has(old[i])) { i++; continue; }
      if (j >= fresh.length || (i < old.length && old[i] < fresh[j])) out.push(old[i++]);
      else out.push(fresh[j++]);
    }
    this.sorted = out;
    this.added.clear();
    this.removed.clear();
    return out;
  }
}

/** Position of the first item of `items` (in key order) whose key is > `after`. */
export function indexAfter(items: KeyValue[], after: string): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid].key <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
