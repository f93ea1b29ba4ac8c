/**
 * The hollow kubelets' pod side, for all nodes at once: ONE watch on all pods. A pod bound to a hollow
 * node is reported Running + Ready (through pods/status); a pod with a deletionTimestamp on a hollow
 * node is deleted with grace 0, as a kubelet does once its containers stopped. Work goes through a
 * de-duplicating queue (several events for one pod → one write with the latest object) drained by a
 * few workers that share the simulator's {@link Limiter}. The watch resumes from the last
 * resourceVersion, or re-lists (rv "") when that expired.
 */
import type { KubeObject } from '../apis/object.ts';
import { R, type Client, type ClientWatch } from '../client/client.ts';
import { isConflict, isExpired, isNotFound } from '../client/errors.ts';
import { keyOf, splitKey } from '../client/controller-types.ts';
import { RateLimitedQueue } from '../client/work-queue.ts';
import type { Logger } from '../util/log.ts';
import type { Limiter } from './limiter.ts';
import type { PodIpPool } from './pod-ip-pool.ts';
import { isRunningAndReady, isTerminal, runningPodStatus } from './running-pod-status.ts';
import { rfc3339 } from '../apis/time.ts';

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
  limiter: Limiter;
  /** Queue workers (default 16); the limiter bounds requests overall. */
  workers?: number;
  log?: Logger;
}

/** Counters, for progress lines and tests. */
export interface PodSyncStats {
  statusWrites: number;
  deletes: number;
  errors: number;
  watchRestarts: number;
}

export interface PodSyncer {
  readonly stats: PodSyncStats;
  /** Resolves once the first watch is open (its initial ADDED events may still be arriving). */
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

/** Starts the pod watch and its workers. */
export function startPodSyncer(opts: PodSyncerOptions): PodSyncer {
  const { client, ips, limiter, log } = opts;
  const stats: PodSyncStats = { statusWrites: 0, deletes: 0, errors: 0, watchRestarts: 0 };
  const queue = new RateLimitedQueue({ baseDelayMs: 200, maxDelayMs: 30_000 });
  /** Latest object of each queued pod (only pods on our nodes with something to do). */
  const latest = new Map<string, KubeObject>();
  let stopped = false;
  let watch: ClientWatch | undefined;
  let resourceVersion = '';
  let firstOpen!: () => void;
  const started = new Promise<void>((r) => { firstOpen = r; });

  const onEvent = (type: string, pod: KubeObject) => {
    if (type === 'BOOKMARK') { resourceVersion = pod.metadata?.resourceVersion ?? resourceVersion; return; }
    if (type === 'ERROR') {
      if ((pod as { code?: number }).code === 410) resourceVersion = '';
      watch?.close();
      return;
    }
    resourceVersion = pod.metadata?.resourceVersion ?? resourceVersion;
    const key = keyOf(pod);
    const node = pod.spec?.nodeName ? opts.node(pod.spec.nodeName) : undefined;
    if (type === 'DELETED') {
      ips.release(pod.metadata.uid ?? '');
      latest.delete(key);
      return;
    }
    if (!node) return;
    const action = actionFor(pod);
    if (!action) {
      // Already running (e.g. from an earlier run): keep its address taken.
      if (pod.status?.podIP && !pod.spec?.hostNetwork) ips.allocate(node.index, pod.metadata.uid ?? '', pod.status.podIP);
      latest.delete(key);
      return;
    }
    latest.set(key, pod);
    queue.add(key);
  };

  const handle = async (key: string): Promise<void> => {
    const pod = latest.get(key);
    if (!pod) return;
    latest.delete(key);
    const node = opts.node(pod.spec?.nodeName ?? '');
    const action = actionFor(pod);
    if (!node || !action) return;
    const { namespace } = splitKey(key);
    const uid = pod.metadata.uid ?? '';
    try {
      if (action === 'delete') {
        await limiter.run(() => client.delete(R.pods, namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid } }));
        ips.release(uid);
        stats.deletes++;
      } else {
        const podIP = pod.spec?.hostNetwork ? node.hostIP : ips.allocate(node.index, uid, pod.status?.podIP);
        if (!podIP) {
          log?.warn('no pod address left on hollow node', { pod: key, node: pod.spec?.nodeName });
          return;
        }
        const status = runningPodStatus(pod, node.hostIP, podIP, rfc3339());
        await limiter.run(() => client.patch(R.pods, namespace, pod.metadata.name!, 'merge', { status }, 'status'));
        stats.statusWrites++;
      }
      queue.forget(key);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) { queue.forget(key); return; } // gone, or another pod by that name
      stats.errors++;
      log?.warn(`pod ${action} failed; retrying`, { pod: key, error: (err as Error).message });
      if (!latest.has(key)) latest.set(key, pod);
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

  const watchLoop = async () => {
    let delay = 100;
    while (!stopped) {
      try {
        watch = await client.watch(R.pods, undefined, { resourceVersion, allowBookmarks: true }, (ev) => onEvent(ev.type, ev.object));
        firstOpen();
        delay = 100;
        if (stopped) watch.close();
        await watch.done;
      } catch (err) {
        if (isExpired(err)) resourceVersion = '';
        else if (!stopped) log?.warn('pod watch failed; retrying', { error: (err as Error).message });
        delay = Math.min(delay * 2, 5_000);
      }
      if (stopped) break;
      stats.watchRestarts++;
      await new Promise((r) => setTimeout(r, delay));
    }
    firstOpen();
  };

  const workers = Array.from({ length: opts.workers ?? 16 }, () => worker());
  const loop = watchLoop();

  return {
    stats,
    started,
    async stop() {
      stopped = true;
      watch?.close();
      queue.shutDown();
      await Promise.all([loop, ...workers]);
    },
  };
}
