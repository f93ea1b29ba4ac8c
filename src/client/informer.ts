/**
 * A shared informer, in the manner of client-go's reflector + indexer (indexer.ts): lists a resource, then
 * watches from the list's resourceVersion, keeping an in-memory cache keyed by `namespace/name` with
 * named indexes (a built-in `namespace` index). When the watch ends — closed by the server, an ERROR
 * such as 410 Expired, or a failed start — it lists again and reconciles the cache with the new list
 * (add / update / delete handlers for the differences), so no change is missed.
 *
 * Handlers run after the cache is updated, synchronously, and should only enqueue keys. Cached
 * objects are shared: callers must not mutate them (clone first) — a cached pod's parts are shared
 * with other pods too. BERTH_CACHE_MUTATION_DETECTOR=1 (tests) freezes them, so a write throws at
 * the writer (informer-mutation-detector.ts).
 *
 * Cached objects leave out `metadata.managedFields` (unless `keepManagedFields`), as the informers of
 * kube-controller-manager and kube-scheduler trim them (kubernetes#118455, #119556): no controller
 * reads them, an update without them keeps the stored ones, and they were about a third of a pod's
 * JSON and more of its decoded form. A `transform` (client-go's SetTransform) replaces that trim with
 * the consumer's own view (the scheduler keeps only what it reads of pods and nodes). Pods, trimmed,
 * also share what they repeat of each other (`podForm`, object-intern.ts).
 *
 * Lists are paged (`pageSize`, 500 by default, as client-go's reflector pages through its ListWatcher),
 * each page transformed as it arrives: a full list of 30,000 pods is never held decoded in full at
 * once beside its trimmed copy, nor crosses a thread in one message.
 *
 * Informers of one resource in one thread that cache the same form of object (same transform, or the
 * same managedFields choice) share objects: an object listed or watched at the resourceVersion a peer
 * already caches is taken from the peer, so the API server's informers of different identities (the
 * node authorizer's and the controllers') hold one copy of each pod after a cold start — each used to
 * decode and keep its own.
 */
import type { KubeObject } from '../apis/object.ts';
import type { Logger } from '../util/log.ts';
import type { Client, ClientWatch, ObjectList, ResourceRef } from './client.ts';
import { isExpired } from './errors.ts';
import { keyOf, type IndexFunc, type Informer, type InformerHandlers, type ObjectKey } from './controller-types.ts';
import { Indexer } from './indexer.ts';
import { cachedFormOf, podForm, withoutManagedFields, type Transform } from './cached-form.ts';
import { deepFreeze, detectorForm, mutationDetectorOn } from './informer-mutation-detector.ts';

export { podForm, withoutManagedFields, type Transform };

/** What an informer lists and watches, and how. */
export interface InformerOptions {
  /** Only this namespace; default all. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Calls `update(obj, obj)` for every cached object this often (0: never, the default). */
  resyncMs?: number;
  log?: Logger;
  /** Longest pause between failed list/watch attempts; default 5 s. */
  maxBackoffMs?: number;
  /** Cache objects with their managedFields (default: trimmed, see the file comment). */
  keepManagedFields?: boolean;
  /**
   * Applied to every listed and watched object (added, updated and deleted alike) before it is cached
   * and handed to the handlers, instead of the managedFields trim — client-go's SetTransform. It must
   * not change the object it is given (other watchers share it) and should be a module-level function:
   * informers share objects only with peers of the same transform.
   */
  transform?: Transform;
  /** Objects per list request (default 500, client-go's pager; 0: the whole list in one request). */
  pageSize?: number;
  /** Deep-freeze what is cached (informer-mutation-detector.ts); default: BERTH_CACHE_MUTATION_DETECTOR. */
  detectMutations?: boolean;
}

/** client-go's pager.PageSize: what its reflector asks per page. */
export const DEFAULT_PAGE_SIZE = 500;


/**
 * The informers of this thread, by resource and form of object (the transform function): peers whose
 * cached objects another informer may take instead of keeping its own decoded copy.
 */
const peerGroups = new Map<string, Map<Transform, Set<SharedInformer>>>();

function peersOf(ref: ResourceRef, form: Transform): Set<SharedInformer> {
  const id = `${ref.group}/${ref.version}/${ref.resource}`;
  let byForm = peerGroups.get(id);
  if (!byForm) peerGroups.set(id, (byForm = new Map()));
  let set = byForm.get(form);
  if (!set) byForm.set(form, (set = new Set()));
  return set;
}

/** The name of the built-in index filing objects by namespace ('' for cluster-scoped). */
export const NAMESPACE_INDEX = 'namespace';

/** A list+watch cache of one resource; see the file comment. */
export class SharedInformer implements Informer {
  private readonly cache: Indexer;
  /** Replaced, never mutated, so removing a handler from inside a handler cannot skip another. */
  private handlers: readonly InformerHandlers[] = [];
  private watch?: ClientWatch;
  private started = false;
  private stopped = false;
  private resyncTimer?: NodeJS.Timeout;
  private wakeUp?: () => void;
  private resolveSynced!: () => void;
  private readonly syncedPromise = new Promise<void>((r) => { this.resolveSynced = r; });
  /** The resourceVersion of the last list or event seen. */
  lastResourceVersion = '';
  /** How many times the informer has listed (1 after the first sync); for tests and metrics. */
  listCount = 0;
  /** Objects taken from a peer's cache instead of this informer's own copy (for tests and diagnostics). */
  sharedFromPeers = 0;
  /** What every listed or watched object goes through before it is cached (frozen, with the detector on). */
  private readonly form: Transform;
  /** What a deleted object goes through (handed to the handlers, never cached): no sharing for pods. */
  private readonly goneForm: Transform;
  private readonly peers: Set<SharedInformer>;
  /** The cache-mutation detector is on: cached objects are frozen. */
  readonly detect: boolean;

  constructor(private readonly client: Client, readonly ref: ResourceRef, private readonly opts: InformerOptions = {}) {
    this.cache = new Indexer(ref.resource);
    this.addIndex(NAMESPACE_INDEX, (obj) => [obj.metadata.namespace ?? '']);
    const form = opts.transform ?? cachedFormOf(ref, opts.keepManagedFields);
    const goneForm = form === podForm ? withoutManagedFields : form;
    // Peers are grouped by the plain form: with the detector on or off, their objects are the same view.
    this.peers = peersOf(ref, form);
    const detect = (this.detect = opts.detectMutations ?? mutationDetectorOn());
    this.form = detect ? detectorForm(form) : form;
    this.goneForm = detect ? detectorForm(goneForm) : goneForm;
  }

  /** Starts the list/watch loop (once). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.peers.add(this);
    void this.run();
    if (this.opts.resyncMs && this.opts.resyncMs > 0) {
      this.resyncTimer = setInterval(() => this.resync(), this.opts.resyncMs);
      this.resyncTimer.unref();
    }
  }

  synced(): Promise<void> {
    return this.syncedPromise;
  }

  get(key: ObjectKey): KubeObject | undefined {
    return this.cache.get(key);
  }

  list(namespace?: string): KubeObject[] {
    if (namespace === undefined) return [...this.cache.values()];
    return this.byIndex(NAMESPACE_INDEX, namespace);
  }

  byIndex(name: string, value: string): KubeObject[] {
    return this.cache.byIndex(name, value);
  }

  /** The values the index `name` files objects under (client-go's ListIndexFuncValues), e.g. the nodes that have pods. */
  indexValues(name: string): string[] {
    return this.cache.indexValues(name);
  }

  addIndex(name: string, fn: IndexFunc): void {
    this.cache.addIndex(name, fn);
  }

  addHandlers(h: InformerHandlers): void {
    this.handlers = [...this.handlers, h];
    // A late handler sees what is already cached, as client-go's AddEventHandler does.
    for (const o of this.cache.values()) this.call(() => h.add?.(o));
  }

  /** Stops calling `h` (client-go's RemoveEventHandler): a consumer stopping before the informer. */
  removeHandlers(h: InformerHandlers): void {
    this.handlers = this.handlers.filter((x) => x !== h);
  }

  stop(): void {
    this.stopped = true;
    this.peers.delete(this);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.watch?.close();
    this.wakeUp?.();
  }

  /** Ends the current watch as if the server had cut it; the informer re-lists. For tests. */
  cutWatch(): void {
    this.watch?.close();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      const startedAt = Date.now();
      try {
        await this.listAndWatch();
        // A watch that lived a while ended normally; re-list at once.
        failures = Date.now() - startedAt > 1000 ? 0 : failures + 1;
      } catch (err) {
        failures++;
        this.opts.log?.warn('informer list/watch failed', { resource: this.ref.resource, error: (err as Error).message });
      }
      if (this.stopped) break;
      if (failures > 0) await this.pause(Math.min(this.opts.maxBackoffMs ?? 5000, 50 * 2 ** Math.min(failures - 1, 10)));
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => { this.wakeUp = undefined; resolve(); }, ms);
      this.wakeUp = () => { clearTimeout(t); this.wakeUp = undefined; resolve(); };
    });
  }

  /**
   * The object as this informer caches it: the cached object of the same key, uid and resourceVersion
   * when this informer (a re-list) or a peer has one (the same stored bytes, so the same view), else
   * `form(obj)`.
   */
  private prepare(obj: KubeObject): KubeObject {
    const m = obj?.metadata;
    if (!m) return this.form(obj);
    const key = keyOf(obj);
    for (const p of this.peers) {
      const c = p.cache.get(key);
      if (c && c.metadata.resourceVersion === m.resourceVersion && c.metadata.uid === m.uid) {
        if (p === this) return c;
        this.sharedFromPeers++;
        // A peer without the detector (a test mixing both) hands over an object not yet frozen.
        return this.detect ? deepFreeze(c) : c;
      }
    }
    return this.form(obj);
  }

  /**
   * Lists page by page at one resourceVersion (the continue tokens carry it), preparing each page's
   * objects as it arrives. A continue that expired (410: compacted, or the watch cache's snapshot gone)
   * falls back to one full list, as client-go's pager does.
   */
  private async listAll(): Promise<{ items: KubeObject[]; resourceVersion: string } | undefined> {
    const { namespace, labelSelector, fieldSelector } = this.opts;
    const limit = this.opts.pageSize ?? DEFAULT_PAGE_SIZE;
    const items: KubeObject[] = [];
    let cont: string | undefined;
    let page: ObjectList;
    do {
      try {
        page = await this.client.list(this.ref, namespace, limit > 0 ? { labelSelector, fieldSelector, limit, continue: cont } : { labelSelector, fieldSelector });
      } catch (err) {
        if (!cont || !isExpired(err)) throw err;
        items.length = 0;
        page = await this.client.list(this.ref, namespace, { labelSelector, fieldSelector });
      }
      if (this.stopped) return undefined;
      for (const o of page.items) items.push(this.prepare(o));
      cont = page.continue;
    } while (cont);
    return { items, resourceVersion: page.resourceVersion };
  }

  private async listAndWatch(): Promise<void> {
    const { namespace, labelSelector, fieldSelector } = this.opts;
    const list = await this.listAll();
    if (!list || this.stopped) return;
    this.listCount++;
    this.replace(list.items);
    this.lastResourceVersion = list.resourceVersion;
    this.resolveSynced();
    const w = await this.client.watch(this.ref, namespace,
      { resourceVersion: list.resourceVersion, labelSelector, fieldSelector, allowBookmarks: true },
      (ev) => {
        if (this.stopped) return;
        const obj = ev.type === 'ERROR' || ev.type === 'BOOKMARK' ? ev.object : ev.type === 'DELETED' ? this.goneForm(ev.object) : this.prepare(ev.object);
        switch (ev.type) {
          case 'ADDED':
          case 'MODIFIED':
            this.upsert(obj);
            break;
          case 'DELETED':
            this.remove(keyOf(obj), obj);
            break;
          case 'BOOKMARK':
            break;
          case 'ERROR':
            // 410 Expired and friends: end this watch; the loop lists again.
            this.opts.log?.debug('informer watch error', { resource: this.ref.resource, status: obj });
            this.watch?.close();
            return;
        }
        if (obj?.metadata?.resourceVersion) this.lastResourceVersion = obj.metadata.resourceVersion;
      });
    this.watch = w;
    if (this.stopped) w.close();
    await w.done;
  }

  /** Makes the cache equal to a fresh list, calling handlers for the differences. */
  private replace(items: KubeObject[]): void {
    const seen = new Set<ObjectKey>();
    for (const o of items) {
      seen.add(keyOf(o));
      this.upsert(o);
    }
    for (const [k, o] of [...this.cache.entries()]) if (!seen.has(k)) this.remove(k, o);
  }

  // The event path (upsert, remove) runs for every change of every watched object, shared by every
  // component: the indexer re-files an object only under the index values that changed, and
  // handlers are called without a closure per call.

  private upsert(obj: KubeObject): void {
    const key = keyOf(obj);
    const old = this.cache.get(key);
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion && old.metadata.uid === obj.metadata.uid) return;
    this.cache.set(key, obj);
    for (const h of this.handlers) {
      try {
        if (old) h.update?.(old, obj);
        else h.add?.(obj);
      } catch (err) {
        this.handlerThrew(err);
      }
    }
  }

  private remove(key: ObjectKey, obj: KubeObject): void {
    const old = this.cache.delete(key);
    if (!old) return;
    for (const h of this.handlers) {
      try {
        h.delete?.(obj ?? old);
      } catch (err) {
        this.handlerThrew(err);
      }
    }
  }

  private resync(): void {
    for (const o of this.cache.values()) for (const h of this.handlers) this.call(() => h.update?.(o, o));
  }

  private call(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.handlerThrew(err);
    }
  }

  private handlerThrew(err: unknown): void {
    this.opts.log?.error('informer handler threw', { resource: this.ref.resource, error: (err as Error).message });
  }
}
