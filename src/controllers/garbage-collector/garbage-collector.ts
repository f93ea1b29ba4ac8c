/**
 * Garbage collection by ownerReferences, the three propagation policies:
 *  - background: once an owner is gone, dependents whose owners are all gone are deleted;
 *  - foreground: an owner with the `foregroundDeletion` finalizer waits until its dependents are
 *    deleted, then loses the finalizer (and so goes);
 *  - orphan: an owner with the `orphan` finalizer has its reference removed from every dependent,
 *    then loses the finalizer.
 *
 * One watch over the whole keyspace keeps an index owner uid → dependents (built by one list at start)
 * and feeds a de-duplicating queue of owners to look at. The controllers issue moves this onto the
 * shared informers.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Registry } from '../../registry/registry.ts';
import type { ResourceStore } from '../../registry/resource-store.ts';
import { deleteObject } from '../../registry/store-delete.ts';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../../registry/finalizers.ts';
import type { Logger } from '../../util/log.ts';
import type { Controller } from '../namespace/namespace-controller.ts';

interface OwnerRef { uid: string; namespace?: string; gone: boolean; store?: ResourceStore; name?: string }

interface DependentRef { store: ResourceStore; namespace?: string; name: string }

export async function startGarbageCollector(registry: Registry, log: Logger, retryMs = 1000): Promise<Controller> {
  const queue = new Map<string, OwnerRef>();
  /** owner uid → storage key → dependent. */
  const index = new Map<string, Map<string, DependentRef>>();
  /** storage key → the owner uids it was indexed under. */
  const ownersOf = new Map<string, string[]>();
  let stopped = false;
  let running = false;

  function indexObject(key: string, obj: KubeObject | undefined, store: ResourceStore | undefined): void {
    for (const uid of ownersOf.get(key) ?? []) {
      const m = index.get(uid);
      m?.delete(key);
      if (m && !m.size) index.delete(uid);
    }
    ownersOf.delete(key);
    const refs = obj?.metadata.ownerReferences;
    if (!obj || !store || !refs?.length) return;
    const uids = refs.map((r) => r.uid);
    ownersOf.set(key, uids);
    for (const uid of uids) {
      if (!index.has(uid)) index.set(uid, new Map());
      index.get(uid)!.set(key, { store, namespace: obj.metadata.namespace, name: obj.metadata.name! });
    }
  }

  async function dependentsOf(uid: string): Promise<{ store: ResourceStore; obj: KubeObject }[]> {
    const out: { store: ResourceStore; obj: KubeObject }[] = [];
    for (const d of index.get(uid)?.values() ?? []) {
      const obj = await d.store.get(d.namespace, d.name).catch(() => undefined);
      if (obj?.metadata.ownerReferences?.some((r) => r.uid === uid)) out.push({ store: d.store, obj });
    }
    return out;
  }

  async function ownerExists(store: ResourceStore | undefined, namespace: string | undefined, name: string, uid: string): Promise<boolean> {
    if (!store) return false;
    try {
      return (await store.get(namespace, name)).metadata.uid === uid;
    } catch {
      return false;
    }
  }

  async function process(item: OwnerRef): Promise<boolean> {
    const deps = await dependentsOf(item.uid);
    if (item.gone && !deps.length) return false;
    if (item.gone) {
      // Background: delete dependents none of whose owners remain.
      for (const { store, obj } of deps) {
        let alive = false;
        for (const ref of obj.metadata.ownerReferences ?? []) {
          if (ref.uid === item.uid) continue;
          const [group] = ref.apiVersion.includes('/') ? ref.apiVersion.split('/') : [''];
          const ownerStore = registry.storeForKind(ref.apiVersion, ref.kind);
          if (ownerStore && group === ownerStore.group && await ownerExists(ownerStore, ownerStore.type.info.namespaced ? obj.metadata.namespace : undefined, ref.name, ref.uid)) { alive = true; break; }
        }
        if (alive) {
          await store.guaranteedUpdate(obj.metadata.namespace, obj.metadata.name!, (cur) => {
            cur.metadata.ownerReferences = (cur.metadata.ownerReferences ?? []).filter((r) => r.uid !== item.uid);
            if (!cur.metadata.ownerReferences.length) delete cur.metadata.ownerReferences;
            return cur;
          }, { subresource: 'raw' }).catch(ignoreNotFound);
        } else {
          await deleteObject(store, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: 'Background' }).catch(ignoreNotFound);
        }
      }
      return false;
    }
    const owner = await item.store!.get(item.namespace, item.name!).catch(() => undefined);
    if (!owner || owner.metadata.uid !== item.uid || !owner.metadata.deletionTimestamp) return false;
    const fins = owner.metadata.finalizers ?? [];
    if (fins.includes(FINALIZER_ORPHAN)) {
      for (const { store, obj } of deps) {
        await store.guaranteedUpdate(obj.metadata.namespace, obj.metadata.name!, (cur) => {
          cur.metadata.ownerReferences = (cur.metadata.ownerReferences ?? []).filter((r) => r.uid !== item.uid);
          if (!cur.metadata.ownerReferences.length) delete cur.metadata.ownerReferences;
          return cur;
        }, { subresource: 'raw' }).catch(ignoreNotFound);
      }
      await removeFinalizer(item, FINALIZER_ORPHAN);
      return false;
    }
    if (fins.includes(FINALIZER_FOREGROUND)) {
      const live = deps.filter((d) => !d.obj.metadata.deletionTimestamp || d.obj.kind === 'Pod');
      for (const { store, obj } of live) {
        if (obj.metadata.deletionTimestamp) continue;
        await deleteObject(store, obj.metadata.namespace, obj.metadata.name!, { propagationPolicy: 'Foreground' }).catch(ignoreNotFound);
      }
      if (deps.length) return true; // wait until they are gone
      await removeFinalizer(item, FINALIZER_FOREGROUND);
    }
    return false;
  }

  async function removeFinalizer(item: OwnerRef, finalizer: string): Promise<void> {
    await item.store!.guaranteedUpdate(item.namespace, item.name!, (cur) => {
      cur.metadata.finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      if (!cur.metadata.finalizers.length) delete cur.metadata.finalizers;
      return cur;
    }, { subresource: 'raw' }).catch(ignoreNotFound);
  }

  async function drain(): Promise<void> {
    if (running || stopped) return;
    running = true;
    try {
      while (queue.size && !stopped) {
        const [key, item] = queue.entries().next().value as [string, OwnerRef];
        queue.delete(key);
        try {
          if (await process(item)) setTimeout(() => enqueue(item), retryMs).unref();
        } catch (err) {
          log.warn('garbage collector: retrying', { uid: item.uid, error: (err as Error).message });
          setTimeout(() => enqueue(item), retryMs).unref();
        }
      }
    } finally {
      running = false;
    }
  }

  function enqueue(item: OwnerRef): void {
    if (stopped) return;
    queue.set(`${item.uid}/${item.gone}`, item);
    void drain();
  }

  // Index what exists now, then follow every change from that revision on.
  let revision = 0;
  for (const store of registry.all()) {
    const list = await store.list(undefined);
    revision = Math.max(revision, Number(list.resourceVersion));
    for (const obj of list.items) indexObject(store.key(obj.metadata.namespace, obj.metadata.name!), obj, store);
  }
  const watch = registry.backend.watch('/registry/', {
    afterRevision: revision,
    onEvents(events) {
      for (const e of events) {
        let obj: KubeObject;
        try { obj = JSON.parse((e.type === 'delete' ? (e.prevKv ?? e.kv) : e.kv).value); } catch { continue; }
        const uid = obj.metadata?.uid;
        if (!uid || !obj.apiVersion || !obj.kind) continue;
        const store = registry.storeForKind(obj.apiVersion, obj.kind);
        const namespace = store?.type.info.namespaced ? obj.metadata.namespace : undefined;
        indexObject(e.kv.key, e.type === 'delete' ? undefined : obj, store);
        if (e.type === 'delete') { if (index.has(uid)) enqueue({ uid, namespace, gone: true }); }
        else if (obj.metadata.deletionTimestamp && obj.metadata.finalizers?.some((f) => f === FINALIZER_ORPHAN || f === FINALIZER_FOREGROUND)) {
          enqueue({ uid, namespace, gone: false, store, name: obj.metadata.name });
        }
      }
    },
    onError: (err) => log.warn('garbage collector watch ended', { error: err.message }),
  });
  return { stop() { stopped = true; watch.close(); } };
}

function ignoreNotFound(err: unknown): void {
  if ((err as { reason?: string }).reason !== 'NotFound') throw err;
}
