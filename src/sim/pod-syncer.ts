/**
 * The hollow kubelets' pod side, for all nodes at once: ONE informer on the bound pods
 * (`spec.nodeName!=`, the kubelet's own filter widened to every node). A pod bound to a hollow node
 * is reported Running + Ready (through pods/status); a pod with a deletionTimestamp on a hollow node
 * is deleted with grace 0, as a kubelet does once its containers stopped. Informer events become
 * pod keys on a de-duplicating queue (several events for one pod → one write with the latest cached
 * object), drained by as many workers as the pod write lane's {@link Limiter} lets through (that lane
 * yields to the node lane's Lease renewals). The object is read from the cache again when the request
 * goes out, so a status that waited for a slot is the latest one, and a pod deleted or changed
 * meanwhile costs no write. The informer re-lists after a broken or expired watch, and a pod deleted
 * meanwhile arrives as a delete (its address is released).
 */
import type { KubeObject } from '../apis/object.ts';
import { R, type Client } from '../client/client.ts';
import { isConflict, isNotFound } from '../client/errors.ts';
import { keyOf, splitKey } from '../client/controller-types.ts';
import { SharedInformer } from '../client/informer.ts';
import { HttpClient } from '../client/http-client.ts';
import { RateLimitedQueue } from '../client/work-queue.ts';
import type { Logger } from '../util/log.ts';
import type { Limiter } from './limiter.ts';
import type { PodIpPool } from './pod-ip-pool.ts';
import { isRunningAndReady, isTerminal, runningPodStatus } from './running-pod-status.ts';
import { rfc3339 } from '../apis/time.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { simPodView } from './sim-pod-view.ts';

/** A hollow node as the pod syncer sees it. */
export interface PodSyncNode {
  index: number;
  hostIP: string;
}

export interface PodSyncerOptions {
  client: Client;
  /** The hollow node of this name, if it is one of ours. */
  node(name: string): PodSyncNode | undefined;
  ips: PodIpPool;
  /** The pod write lane. */
  limiter: Limiter;
  /** Queue workers (default: the limiter's max, so the lane is what bounds the writes in flight). */
  workers?: number;
  log?: Logger;
}

/** Counters, for progress lines and tests. */
export interface PodSyncStats {
  statusWrites: number;
  deletes: number;
  errors: number;
  /** Re-lists after the first (a watch that broke or expired). */
  readonly relists: number;
  /** Pods of ours waiting for a status write or a delete (queued or in flight). */
  readonly waiting: number;
  /** How long the oldest of them has waited (ms; 0 when none). */
  readonly oldestWaitingMs: number;
  /** From a pod's first sight needing a status to its status written (ms): since start / since the last report. */
  toRunning: LatencyHistogram;
  toRunningWindow: LatencyHistogram;
}

export interface PodSyncer {
  readonly stats: PodSyncStats;
  /** Resolves once the first list of pods is in the informer's cache. */
  readonly started: Promise<void>;
  stop(): Promise<void>;
}

type Action = 'status' | 'delete';

/** What a kubelet would do about `pod` now, if it runs on one of our nodes. */
function actionFor(pod: KubeObject): Action | undefined {
  if (pod.metadata.deletionTimestamp) return 'delete';
  if (isTerminal(pod) || isRunningAndReady(pod)) return undefined;
  return 'status';
}

/** Starts the pod informer and its workers. */
export function startPodSyncer(opts: PodSyncerOptions): PodSyncer {
  const { client, ips, limiter, log } = opts;
  const queue = new RateLimitedQueue({ baseDelayMs: 200, maxDelayMs: 30_000 });
  // Only bound pods: pending ones (thousands, in a scheduling test) are none of a kubelet's business.
  // Cached as the syncer's small view of each pod (sim-pod-view.ts), not the default trimmed and shared form.
  const pods = new SharedInformer(client, R.pods, { fieldSelector: 'spec.nodeName!=', log, transform: simPodView });
  // When each pod of ours that needs a write was first seen needing it (insertion order = age order).
  const since = new Map<string, number>();
  const stats: PodSyncStats = {
    statusWrites: 0, deletes: 0, errors: 0, get relists() { return Math.max(0, pods.listCount - 1); },
    get waiting() { return since.size; },
    get oldestWaitingMs() { for (const t of since.values()) return Date.now() - t; return 0; },
    toRunning: new LatencyHistogram(), toRunningWindow: new LatencyHistogram(),
  };
  const settled = (key: string, wrote: 'status' | 'delete' | undefined) => {
    const t = since.get(key);
    if (t === undefined) return;
    since.delete(key);
    if (wrote === 'status') { stats.toRunning.record(Date.now() - t); stats.toRunningWindow.record(Date.now() - t); }
  };

  // The reply to a status write is the whole pod, which nothing here reads: over HTTP it is not
  // decoded (~4 KB parsed per pod otherwise); the informer's event brings the pod as written.
  const unread = client instanceof HttpClient ? client : undefined;
  const patchStatus = (namespace: string | undefined, name: string, status: unknown): Promise<unknown> => unread
    ? unread.patchUnread(R.pods, namespace, name, 'merge', { status }, 'status')
    : client.patch(R.pods, namespace, name, 'merge', { status }, 'status');

  /** The hollow node running `pod`, if it is one of ours. */
  const nodeOf = (pod: KubeObject) => (pod.spec?.nodeName ? opts.node(pod.spec.nodeName) : undefined);

  const changed = (pod: KubeObject) => {
    const node = nodeOf(pod);
    if (!node) return;
    if (actionFor(pod)) {
      const key = keyOf(pod);
      if (!since.has(key)) since.set(key, Date.now());
      queue.add(key);
      return;
    }
    // Already running (e.g. from an earlier run): keep its address taken.
    if (pod.status?.podIP && !pod.spec?.hostNetwork) ips.allocate(node.index, pod.metadata.uid ?? '', pod.status.podIP);
  };
  pods.addHandlers({
    add: changed,
    update: (_old, pod) => changed(pod),
    delete: (pod) => { ips.release(pod.metadata.uid ?? ''); settled(keyOf(pod), undefined); },
  });

  const handle = async (key: string): Promise<void> => {
    // The latest object: events that came while this key waited are folded into one write.
    const pod = pods.get(key);
    const node = pod && nodeOf(pod);
    const action = pod && actionFor(pod);
    if (!pod || !node || !action) { settled(key, undefined); return; }
    const { namespace } = splitKey(key);
    const uid = pod.metadata.uid ?? '';
    try {
      if (action === 'delete') {
        await limiter.run(() => client.delete(R.pods, namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid } }));
        ips.release(uid);
        stats.deletes++;
        settled(key, 'delete');
      } else {
        const podIP = pod.spec?.hostNetwork ? node.hostIP : ips.allocate(node.index, uid, pod.status?.podIP);
        if (!podIP) {
          log?.warn('no pod address left on hollow node', { pod: key, node: pod.spec?.nodeName });
          settled(key, undefined);
          return;
        }
        // The slot may come seconds later (the lane yields to Lease renewals): write the status of
        // the pod as it is then, or nothing if it went, changed owner, or needs no status any more.
        const wrote = await limiter.run(async () => {
          const latest = pods.get(key);
          if (!latest || latest.metadata.uid !== uid || actionFor(latest) !== 'status') return false;
          const status = runningPodStatus(latest, node.hostIP, podIP, rfc3339());
          await patchStatus(namespace, latest.metadata.name!, status);
          return true;
        });
        if (wrote) { stats.statusWrites++; settled(key, 'status'); } else {
          // Not written: nothing is due any more, or a delete is (its informer event queued the key again).
          const latest = pods.get(key);
          if (!latest || !actionFor(latest)) settled(key, undefined);
        }
      }
      queue.forget(key);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) { queue.forget(key); settled(key, undefined); return; } // gone, or another pod by that name
      stats.errors++;
      log?.warn(`pod ${action} failed; retrying`, { pod: key, error: (err as Error).message });
      queue.addRateLimited(key);
    }
  };

  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try { await handle(key); } finally { queue.done(key); }
    }
  };

  pods.start();
  const workers = Array.from({ length: opts.workers ?? limiter.max }, () => worker());

  return {
    stats,
    started: pods.synced(),
    async stop() {
      pods.stop();
      queue.shutDown();
      await Promise.all(workers);
    },
  };
}
