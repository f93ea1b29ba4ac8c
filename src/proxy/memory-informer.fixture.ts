/**
 * An in-memory Informer for the benchmark and unit tests: objects are put and removed by hand and
 * handlers run at once, as a SharedInformer's would after a watch event.
 */
import type { KubeObject } from '../apis/object.ts';
import type { ResourceRef } from '../client/client.ts';
import { keyOf, type IndexFunc, type Informer, type InformerHandlers, type ObjectKey } from '../client/controller-types.ts';

export class MemoryInformer implements Informer {
  private readonly cache = new Map<ObjectKey, KubeObject>();
  private readonly indexes = new Map<string, { fn: IndexFunc; values: Map<string, Set<ObjectKey>> }>();
  private readonly handlers: InformerHandlers[] = [];

  constructor(readonly ref: ResourceRef) {}

  synced(): Promise<void> { return Promise.resolve(); }
  get(key: ObjectKey): KubeObject | undefined { return this.cache.get(key); }
  list(namespace?: string): KubeObject[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace);
  }

  byIndex(name: string, value: string): KubeObject[] {
    const idx = this.indexes.get(name);
    if (!idx) throw new Error(`no index ${name}`);
    return [...(idx.values.get(value) ?? [])].map((k) => this.cache.get(k)!);
  }

  addIndex(name: string, fn: IndexFunc): void {
    const idx = { fn, values: new Map<string, Set<ObjectKey>>() };
    this.indexes.set(name, idx);
    for (const o of this.cache.values()) this.file(o, true);
  }

  private file(obj: KubeObject, add: boolean): void {
    for (const { fn, values } of this.indexes.values()) {
      for (const v of fn(obj)) {
        let set = values.get(v);
        if (!set) values.set(v, (set = new Set()));
        if (add) set.add(keyOf(obj));
        else if (set.delete(keyOf(obj)) && set.size === 0) values.delete(v);
      }
    }
  }
  addHandlers(h: InformerHandlers): void {
    this.handlers.push(h);
    for (const o of this.cache.values()) h.add?.(o);
  }
  stop(): void {}

  /** Adds or replaces an object, calling add or update handlers. */
  put(obj: KubeObject): void {
    const old = this.cache.get(keyOf(obj));
    if (old) this.file(old, false);
    this.cache.set(keyOf(obj), obj);
    this.file(obj, true);
    for (const h of this.handlers) (old ? h.update?.(old, obj) : h.add?.(obj));
  }

  remove(key: ObjectKey): void {
    const old = this.cache.get(key);
    if (!old) return;
    this.file(old, false);
    this.cache.delete(key);
    for (const h of this.handlers) h.delete?.(old);
  }
}
