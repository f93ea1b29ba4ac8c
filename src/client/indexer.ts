/**
 * An informer's store, as client-go's Indexer (thread_safe_store.go): objects by key, and named
 * indexes that file each key under the values an IndexFunc gives for its object. The informer
 * (informer.ts) feeds it from list and watch and calls its handlers; readers go through the informer.
 *
 * A write re-files a key only under the index values that changed: every change of every watched
 * object passes here, and an update rarely moves an object.
 */
import type { KubeObject } from '../apis/object.ts';
import type { IndexFunc, ObjectKey } from './controller-types.ts';

interface Index {
  fn: IndexFunc;
  values: Map<string, Set<ObjectKey>>;
}

/** Objects by key with named indexes; `owner` names it in errors (an informer's resource). */
export class Indexer {
  private readonly items = new Map<ObjectKey, KubeObject>();
  private readonly indexes = new Map<string, Index>();

  constructor(private readonly owner: string) {}

  get(key: ObjectKey): KubeObject | undefined {
    return this.items.get(key);
  }

  /** Every object, by key (live: copy before writing to the indexer while iterating). */
  entries(): IterableIterator<[ObjectKey, KubeObject]> {
    return this.items.entries();
  }

  values(): IterableIterator<KubeObject> {
    return this.items.values();
  }

  /** Stores `obj` under `key` and re-files it; returns the object it replaced. */
  set(key: ObjectKey, obj: KubeObject): KubeObject | undefined {
    const old = this.items.get(key);
    this.items.set(key, obj);
    for (const idx of this.indexes.values()) refile(idx, key, old, obj);
    return old;
  }

  /** Removes `key` from the store and its indexes; returns what it held. */
  delete(key: ObjectKey): KubeObject | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    for (const idx of this.indexes.values()) {
      for (const v of idx.fn(old)) unfileValue(idx, v, key);
    }
    this.items.delete(key);
    return old;
  }

  byIndex(name: string, value: string): KubeObject[] {
    const keys = this.index(name).values.get(value);
    if (!keys) return [];
    const out: KubeObject[] = [];
    for (const k of keys) {
      const o = this.items.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  /** The values the index `name` files objects under (client-go's ListIndexFuncValues). */
  indexValues(name: string): string[] {
    return [...this.index(name).values.keys()];
  }

  /** Adds an index and files what is stored already; a name given twice keeps the first. */
  addIndex(name: string, fn: IndexFunc): void {
    if (this.indexes.has(name)) return;
    const idx: Index = { fn, values: new Map() };
    this.indexes.set(name, idx);
    for (const [k, o] of this.items) refile(idx, k, undefined, o);
  }

  private index(name: string): Index {
    const idx = this.indexes.get(name);
    if (!idx) throw new Error(`informer ${this.owner}: no index named ${name}`);
    return idx;
  }
}

/** Moves `key` from the index values of `old` to those of `obj`, touching only the ones that differ. */
function refile(idx: Index, key: ObjectKey, old: KubeObject | undefined, obj: KubeObject): void {
  const next = idx.fn(obj);
  if (old) {
    const prev = idx.fn(old);
    if (prev.length === next.length && prev.every((v, i) => v === next[i])) return;
    for (const v of prev) if (!next.includes(v)) unfileValue(idx, v, key);
  }
  for (const v of next) {
    let set = idx.values.get(v);
    if (!set) idx.values.set(v, (set = new Set()));
    set.add(key);
  }
}

function unfileValue(idx: Index, value: string, key: ObjectKey): void {
  const set = idx.values.get(value);
  set?.delete(key);
  if (set?.size === 0) idx.values.delete(value);
}
