/**
 * Namespace lifecycle: a deleted namespace is Terminating (the `kubernetes` finalizer in
 * spec.finalizers holds it); this controller deletes every object in it, and once nothing is left
 * removes the finalizer through namespaces/finalize semantics, which lets the namespace go.
 *
 * An in-process controller on the Registry. The controllers issue moves it onto the shared informer
 * and work-queue machinery (src/client) when that lands.
 */
import type { Registry } from '../../registry/registry.ts';
import { deleteObject } from '../../registry/store-delete.ts';
import type { Logger } from '../../util/log.ts';

export interface Controller { stop(): void }

const FINALIZER = 'kubernetes';

export async function startNamespaceController(registry: Registry, log: Logger, resyncMs = 1000): Promise<Controller> {
  const namespaces = registry.store('', 'namespaces')!;
  const namespaced = registry.all().filter((s) => s.type.info.namespaced);
  let stopped = false;
  let running = false;
  let again = false;

  /** Returns true while some namespace still waits for its contents to go. */
  async function syncAll(): Promise<boolean> {
    const list = await namespaces.list(undefined);
    let pending = false;
    for (const ns of list.items) {
      if (!ns.metadata.deletionTimestamp) continue;
      const name = ns.metadata.name!;
      let remaining = 0;
      for (const store of namespaced) {
        const items = (await store.list(name)).items;
        remaining += items.length;
        for (const obj of items) {
          if (obj.metadata.deletionTimestamp && obj.kind !== 'Pod') continue;
          try {
            await deleteObject(store, name, obj.metadata.name!, {});
          } catch (err) {
            if ((err as { reason?: string }).reason !== 'NotFound') log.warn('namespace cleanup: delete failed', { namespace: name, object: obj.metadata.name, error: (err as Error).message });
          }
        }
      }
      if (remaining > 0) { pending = true; continue; }
      if ((ns.spec?.finalizers ?? []).includes(FINALIZER)) {
        await namespaces.guaranteedUpdate(undefined, name, (cur) => {
          const fins = (cur.spec?.finalizers ?? []).filter((f: string) => f !== FINALIZER);
          cur.spec = { ...(cur.spec ?? {}), finalizers: fins };
          if (!fins.length) delete cur.spec.finalizers;
          return cur;
        }, { subresource: 'raw' }).catch((err) => {
          if ((err as { reason?: string }).reason !== 'NotFound') throw err;
        });
        log.info('namespace finalized', { namespace: name });
      }
    }
    return pending;
  }

  async function kick(): Promise<void> {
    if (stopped) return;
    if (running) { again = true; return; }
    running = true;
    try {
      do {
        again = false;
        const pending = await syncAll();
        if (pending && !stopped) setTimeout(() => void kick(), resyncMs).unref();
      } while (again && !stopped);
    } catch (err) {
      log.warn('namespace controller sync failed', { error: (err as Error).message });
      if (!stopped) setTimeout(() => void kick(), resyncMs).unref();
    } finally {
      running = false;
    }
  }

  const watch = registry.backend.watch(namespaces.prefix(undefined), {
    afterRevision: await registry.backend.currentRevision(),
    onEvents: () => void kick(),
    onError: (err) => log.warn('namespace controller watch ended', { error: err.message }),
  });
  void kick();
  return { stop() { stopped = true; watch.close(); } };
}
