/**
 * The browser's copy of one list+watch (client-go's informer Store/Indexer in small): a LIST
 * replaces everything (a first list, or a relist after 410 Gone), ADDED/MODIFIED set, DELETED
 * removes — keyed by namespace/name, so a reconnect that replays an object never duplicates it.
 * Events older than what is held (by resourceVersion) are dropped: no stale rows after a resume.
 * A LIST may come in pages (`more` on all but the last): each page shows at once, and the last one
 * removes what no page named — as client-go's Replace at the end of a paged list.
 */

/** The parts of an object the UI reads everywhere. */
export interface Obj {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; uid?: string; resourceVersion?: string; creationTimestamp?: string; labels?: Record<string, string>; ownerReferences?: { kind: string; name: string; uid: string; controller?: boolean }[]; deletionTimestamp?: string; [k: string]: unknown };
  spec?: any;
  status?: any;
  [k: string]: unknown;
}

/** One message of the /ui/stream protocol (src/server/ui/ui-stream.ts). */
export type StreamMessage =
  | { id: string; type: 'LIST'; items: Obj[]; resourceVersion: string; /** Pages follow; the first page has `page` 0 or none. */ more?: boolean; page?: number }
  | { id: string; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Obj }
  | { id: string; type: 'BOOKMARK'; resourceVersion: string }
  | { id: string; type: 'ERROR'; status: { code?: number; message?: string; reason?: string } }
  | { type: 'PING' };

export const keyOf = (o: Obj) => (o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name);

const rvNum = (o: Obj) => Number(o.metadata.resourceVersion ?? 0);

/** Told of every object that is set or removed (`obj` undefined: gone). */
export interface StoreObserver {
  changed(key: string, obj: Obj | undefined): void;
}

export class ObjectStore {
  private readonly items = new Map<string, Obj>();
  private readonly observers = new Set<StoreObserver>();
  /** While a paged LIST arrives: the keys its pages named. */
  private listing?: Set<string>;
  /** The resourceVersion to resume after. */
  resourceVersion = '';
  /** Bumped on every change, so views can memoize on it. */
  version = 0;
  error?: string;

  /** Applies one message for this store; returns whether anything changed. */
  apply(m: StreamMessage): boolean {
    if (m.type === 'PING') return false;
    switch (m.type) {
      case 'LIST': {
        // Pages of a list that began earlier add to it; a first page (or a whole list) starts one.
        if (!m.page || !this.listing) this.listing = new Set();
        for (const o of m.items) {
          const k = keyOf(o);
          this.listing.add(k);
          this.set(k, o);
        }
        if (m.more) break;
        // The last page: what no page named is gone. Until now the resume point stays the old one,
        // so a stream cut mid-list resumes (or relists) from what the store fully holds.
        for (const k of [...this.items.keys()]) if (!this.listing.has(k)) this.remove(k);
        this.listing = undefined;
        this.resourceVersion = m.resourceVersion;
        this.error = undefined;
        break;
      }
      case 'ADDED':
      case 'MODIFIED': {
        const k = keyOf(m.object);
        const held = this.items.get(k);
        if (held && held.metadata.uid === m.object.metadata.uid && rvNum(held) > rvNum(m.object)) return false;
        this.set(k, m.object);
        this.resourceVersion = m.object.metadata.resourceVersion ?? this.resourceVersion;
        break;
      }
      case 'DELETED': {
        const k = keyOf(m.object);
        const held = this.items.get(k);
        this.resourceVersion = m.object.metadata.resourceVersion ?? this.resourceVersion;
        // A newer object of the same name (re-created) stays.
        if (!held || (held.metadata.uid !== m.object.metadata.uid && rvNum(held) > rvNum(m.object))) return false;
        this.remove(k);
        break;
      }
      case 'BOOKMARK':
        this.resourceVersion = m.resourceVersion;
        return false;
      case 'ERROR':
        this.error = m.status.message ?? `error ${m.status.code ?? ''}`;
        break;
    }
    this.version++;
    return true;
  }

  /** Removes what the server said it deleted (the UI's own delete) before the watch says so. */
  forget(key: string): void {
    if (this.items.has(key)) { this.remove(key); this.version++; }
  }

  /** Tells `o` of every change from now on (it should start from `list()`); returns the unsubscribe. */
  observe(o: StoreObserver): () => void {
    this.observers.add(o);
    return () => { this.observers.delete(o); };
  }

  private set(k: string, obj: Obj): void {
    this.items.set(k, obj);
    for (const o of this.observers) o.changed(k, obj);
  }

  private remove(k: string): void {
    this.items.delete(k);
    for (const o of this.observers) o.changed(k, undefined);
  }

  get size(): number {
    return this.items.size;
  }

  list(): Obj[] {
    return [...this.items.values()];
  }

  get(key: string): Obj | undefined {
    return this.items.get(key);
  }
}
