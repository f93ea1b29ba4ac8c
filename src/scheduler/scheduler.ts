/**
 * The scheduler: node and pod informers into a Snapshot and a SchedulingQueue, then one loop —
 * pop a pod → run the filter/score Pipeline → assume it on the chosen node (so the next pod sees
 * it) → bind through pods/binding in the background (undo and back off on failure). A pod that
 * fits nowhere gets PodScheduled=False/Unschedulable with Kubernetes' message and an aggregated
 * FailedScheduling event, and waits for a relevant cluster event (or the 60 s flush) — after
 * preemption (preemption-executor.ts) has nominated it to a node and evicted pods of lower priority
 * there, when it can.
 */
import { setImmediate as yieldToIO } from 'node:timers/promises';
import type { KubeObject } from '../apis/object.ts';
import type { Client } from '../client/client.ts';
import { R } from '../client/client.ts';
import { isConflict, isNotFound } from '../client/errors.ts';
import type { Logger } from '../util/log.ts';
import { ClusterSync } from './cluster-sync.ts';
import { EventRecorder, clientEventSink } from '../client/event-recorder.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { fitErrorMessage } from './fit-error.ts';
import { Pipeline } from './pipeline.ts';
import { buildProfile, type ProfileConfig } from './plugins/registry.ts';
import { podInfoOf, type PodInfo } from './pod-info.ts';
import { SchedulingQueue, type QueueOptions } from './queue.ts';
import { Snapshot } from './snapshot.ts';
import { VolumeBinder, VolumeBindingError } from './plugins/volume-binding/volume-binder.ts';
import { observeAttempt, registerSchedulingQueue } from './scheduler-metrics.ts';
import { ScheduledEvents } from './scheduled-events.ts';
import { rfc3339 } from '../apis/time.ts';
import { Preemption } from './preemption-executor.ts';
import { nominatedPodsFilter } from './preemption-nominated.ts';
import { schedulerTransform } from './scheduler-view.ts';

const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };

/** Scheduler options; all optional. */
export interface SchedulerOptions extends QueueOptions {
  schedulerName?: string;
  profile?: ProfileConfig;
  /** Fixed percentage of nodes to find feasible before scoring; default adaptive (see pipeline.ts). */
  percentageOfNodesToScore?: number;
  /** Bindings in flight at once (default 256). */
  maxInFlightBinds?: number;
  /** Minimum interval between writes of one aggregated event (default 10 s). */
  eventIntervalMs?: number;
  /** `Scheduled` events waiting at most; more are dropped, as client-go's broadcaster (default 1,000). */
  maxQueuedEvents?: number;
  /** `Scheduled` event writes in flight at once (default 128, scheduled-events.ts). */
  scheduledEventWriters?: number;
  /**
   * Whether this scheduler records `Scheduled` itself (default true). On its thread it does not: the
   * API server's thread records it when the binding succeeds (scheduler-thread.ts).
   */
  recordScheduled?: boolean;
  /** How long PreBind waits for a pod's claims to be bound (default 600 s, as kube-scheduler). */
  bindTimeoutMs?: number;
  /**
   * Shared informers (the controller manager's): the scheduler's node and pod caches are then the
   * controllers' too. Default: a factory of its own, stopped with the scheduler, whose pods and nodes
   * keep only what the scheduler reads (scheduler-view.ts).
   */
  factory?: InformerFactory;
}

/**
 * The scheduler's events: `source.component` default-scheduler. A pod retried every few seconds
 * writes its FailedScheduling at most once per `intervalMs`; one series per pending pod, dropped
 * when the pod is bound or deleted, so the bound only guards against a leak.
 */
export function schedulerEvents(client: Client, log: Logger, intervalMs = 10_000): EventRecorder {
  return new EventRecorder({
    sink: clientEventSink(client), log,
    source: { component: 'default-scheduler', instance: 'berth' },
    minWriteIntervalMs: intervalMs, maxEntries: 65_536,
  });
}

/** A running scheduler. */
export interface RunningScheduler {
  stop(): Promise<void>;
  /** Its state, for tests and diagnostics. */
  readonly snapshot: Snapshot;
  readonly queue: SchedulingQueue;
}

/** Starts the scheduler; resolves once nodes and pods are listed and the loop runs. */
export async function startScheduler(client: Client, log: Logger, opts: SchedulerOptions = {}): Promise<RunningScheduler> {
  const snapshot = new Snapshot();
  const queue = new SchedulingQueue(opts);
  const events = schedulerEvents(client, log, opts.eventIntervalMs);
  // A factory of its own (on its thread, always) keeps only what the scheduler reads of pods and nodes.
  const factory = opts.factory ?? new InformerFactory(client, { log, transform: schedulerTransform });
  // Budgets are read only when a pod preempts; the informer keeps them at hand.
  const budgets = factory.forResource(PDBS);
  const preemption = new Preemption(client, events, log, { schedulerName: opts.schedulerName ?? 'default-scheduler', budgets: () => budgets.list() });
  const profile = buildProfile(opts.profile);
  // Room kept for nominated pods: skipped at the cost of one call while nobody is nominated.
  profile.filters.push(nominatedPodsFilter(preemption.nominator, (key) => snapshot.podNode.has(key)));
  const pipeline = new Pipeline(profile, { percentageOfNodesToScore: opts.percentageOfNodesToScore });
  const scheduledEvents = new ScheduledEvents(events, log, { maxQueued: opts.maxQueuedEvents, writers: opts.scheduledEventWriters });
  const sync = new ClusterSync(snapshot, queue, opts.schedulerName ?? 'default-scheduler', (pod) => {
    events.forget(pod.metadata.uid ?? '');
    preemption.forget(`${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`);
  });
  const maxInFlight = opts.maxInFlightBinds ?? 256;
  const writes = new Set<Promise<unknown>>();
  let stopped = false;
  let slotFree: (() => void) | undefined;

  const track = (p: Promise<unknown>) => {
    writes.add(p);
    void p.finally(() => {
      writes.delete(p);
      slotFree?.();
    });
  };

  const nodes = factory.forResource(R.nodes);
  const pods = factory.forResource(R.pods);
  nodes.addHandlers(sync.nodeHandlers);
  pods.addHandlers(sync.podHandlers);
  // Claims, volumes and classes: the VolumeBinding plugin's view, and its cue to retry pods.
  const volumes = new VolumeBinder(client, factory, () => queue.moveOnEvent('VolumeChange'), { bindTimeoutMs: opts.bindTimeoutMs });
  nodes.start();
  pods.start();
  budgets.start();
  volumes.start();
  await Promise.all([nodes.synced(), pods.synced(), volumes.synced(), budgets.synced()]);
  // Nominations written by an earlier leader keep their room (upstream's nominator learns them from the informer).
  for (const p of pods.list()) {
    const nominated = p.status?.nominatedNodeName;
    if (nominated && sync.responsibleFor(p)) preemption.nominator.set(podInfoOf(p), nominated);
  }

  async function bind(info: PodInfo, nodeName: string): Promise<void> {
    const { namespace, name, uid } = info;
    try {
      // PreBind: the pod's volumes are bound (or provisioned) on the node before the pod is.
      if (info.claimNames.length) await volumes.preBind(info, nodeName);
      await client.create(R.pods, namespace, {
        apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: nodeName },
      }, 'binding');
      queue.done(info.key);
      events.forget(uid);
      if (opts.recordScheduled !== false) scheduledEvents.scheduled(info.pod, nodeName);
    } catch (err) {
      if (sync.assumed.get(info.key) === nodeName) {
        sync.assumed.delete(info.key);
        snapshot.removePod(info.key);
      }
      if (isNotFound(err) || isConflict(err)) {
        // Deleted, or bound meanwhile by someone else: the watch tells the rest.
        queue.done(info.key);
        return;
      }
      log.warn('bind failed; backing off', { pod: info.key, node: nodeName, error: (err as Error).message });
      if (err instanceof VolumeBindingError) void events.event(info.pod, 'Warning', 'FailedScheduling', err.message);
      const inFlight = retryEntry.get(info.key);
      retryEntry.delete(info.key);
      if (inFlight) queue.addBackoff(inFlight);
    }
  }
  const retryEntry = new Map<string, Parameters<SchedulingQueue['addBackoff']>[0]>();

  /** `nominate`: a node to nominate the pod to, null to clear its nomination, undefined to leave it. */
  async function recordUnschedulable(info: PodInfo, message: string, nominate?: string | null): Promise<void> {
    const current = (info.pod.status?.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');
    const nominationChanges = nominate !== undefined && (info.pod.status?.nominatedNodeName ?? null) !== nominate;
    if (nominationChanges || !(current?.status === 'False' && current.reason === 'Unschedulable' && current.message === message)) {
      const condition = {
        type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null,
        lastTransitionTime: current?.status === 'False' && current.lastTransitionTime ? current.lastTransitionTime : rfc3339(),
      };
      try {
        const status = nominationChanges ? { conditions: [condition], nominatedNodeName: nominate } : { conditions: [condition] };
        await client.patch(R.pods, info.namespace, info.name, 'strategic', { status }, 'status');
      } catch (err) {
        if (!isNotFound(err)) log.debug('PodScheduled condition not written', { pod: info.key, error: String(err) });
      }
    }
    void events.event(info.pod, 'Warning', 'FailedScheduling', message);
  }

  async function loop(): Promise<void> {
    let sinceYield = 0;
    while (!stopped) {
      const q = await queue.pop();
      if (!q) return;
      const info = q.info;
      const startedAt = performance.now();
      if (info.claimNames.length) info.claims = volumes.resolve(info);
      const result = pipeline.schedule(info, snapshot);
      // The attempt ends with the decision; binding goes on in the background, as upstream's binding cycle.
      observeAttempt(result.node ? 'scheduled' : 'unschedulable', startedAt);
      if (!result.node) {
        // PostFilter: preemption, in memory; its API writes go on in the background.
        const post = preemption.postFilter(info, snapshot, pipeline.profile.filters, result.diagnosis!.potential);
        const message = fitErrorMessage(result.diagnosis!, info, post.message);
        log.debug('pod unschedulable', { pod: info.key, message });
        queue.addUnschedulable(q, result.diagnosis!.plugins);
        track(recordUnschedulable(info, message, post.nominate));
        if (post.run) track(post.run());
      } else {
        const nodeName = result.node.name;
        preemption.forget(info.key);
        snapshot.addPod(info, nodeName);
        sync.assumed.set(info.key, nodeName);
        retryEntry.set(info.key, q);
        track(bind(info, nodeName).finally(() => retryEntry.delete(info.key)));
        while (writes.size >= maxInFlight && !stopped) await new Promise<void>((r) => (slotFree = r));
      }
      // Let watch events and binding replies in between bursts of cycles.
      if (++sinceYield >= 64) {
        sinceYield = 0;
        await yieldToIO();
      }
    }
  }

  const unregisterMetrics = registerSchedulingQueue(() => queue.sizes);
  const running = loop().catch((err) => log.error('scheduler loop failed', { error: String(err) }));
  log.info('scheduler started', { nodes: snapshot.nodes.length, pending: queue.sizes.active });
  return {
    snapshot,
    queue,
    async stop() {
      if (stopped) return;
      stopped = true;
      unregisterMetrics();
      queue.close();
      slotFree?.();
      nodes.removeHandlers(sync.nodeHandlers);
      pods.removeHandlers(sync.podHandlers);
      if (!opts.factory) factory.stop();
      await running;
      await Promise.allSettled([...writes]);
      await scheduledEvents.close();
      await events.close();
    },
  };
}
