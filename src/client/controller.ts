/**
 * The one reconcile loop every controller shares (Kubernetes' `processNextWorkItem`): workers take a
 * key from the queue, call `reconcile(key)`, forget the key's back-off on success and re-queue it
 * rate-limited on failure. Informer handlers only turn events into keys (see {@link enqueueHandlers}).
 */
import type { KubeObject } from '../apis/object.ts';
import type { Logger } from '../util/log.ts';
import { keyOf, type InformerHandlers, type ObjectKey, type Reconciler } from './controller-types.ts';
import type { RateLimitedQueue } from './work-queue.ts';

/** Options for {@link runController}. */
export interface RunOptions {
  /** Concurrent workers; default 1. A key is never processed by two workers at once. */
  workers?: number;
  log?: Logger;
}

/** A running controller loop. */
export interface RunningController {
  /** Shuts the queue down and waits for the workers' current reconciles to finish. */
  stop(): Promise<void>;
}

/** Runs `workers` loops over `queue` calling `reconciler.reconcile`; see the file comment. */
export function runController(reconciler: Reconciler, queue: RateLimitedQueue, opts: RunOptions = {}): RunningController {
  const log = opts.log;
  // Every controller's queue reports workqueue_* metrics under the controller's name (workqueue-metrics.ts).
  queue.instrument(reconciler.name);
  const worker = async (): Promise<void> => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await reconciler.reconcile(key);
        queue.forget(key);
      } catch (err) {
        log?.warn('reconcile failed; retrying with back-off', { controller: reconciler.name, key, error: (err as Error).message });
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, opts.workers ?? 1) }, () => worker());
  return {
    async stop() {
      queue.shutDown();
      await Promise.all(workers);
    },
  };
}

/**
 * Informer handlers that enqueue the key of every added, updated or deleted object; `keyFn` maps an
 * object to the key(s) to enqueue instead (e.g. a pod to its owner's key), `undefined` for none.
 */
export function enqueueHandlers(queue: { add(key: ObjectKey): void }, keyFn: (obj: KubeObject) => ObjectKey | ObjectKey[] | undefined = keyOf): InformerHandlers {
  const enqueue = (obj: KubeObject) => {
    const k = keyFn(obj);
    if (k === undefined) return;
    for (const key of Array.isArray(k) ? k : [k]) queue.add(key);
  };
  return {
    add: enqueue,
    update: (oldObj, newObj) => { enqueue(newObj); if (oldObj !== newObj) enqueue(oldObj); },
    delete: enqueue,
  };
}
