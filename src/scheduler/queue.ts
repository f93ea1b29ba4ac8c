/**
 * The scheduling queue (kube-scheduler's PriorityQueue, simplified): an active heap ordered by
 * priority then first-queued time; a backoff heap (1 s doubling per failed attempt up to 10 s); and
 * an unschedulable set, left only when a cluster event relevant to a plugin that rejected the pod
 * happens, or after `unschedulableFlushMs` (60 s). A move request seen while a pod was being
 * scheduled sends it to backoff instead of the unschedulable set, so no event is lost.
 */
import { KeyedHeap } from './heap.ts';
import type { PodInfo } from './pod-info.ts';

/** A pod in the queue with its scheduling history. */
export interface QueuedPod {
  info: PodInfo;
  attempts: number;
  firstQueued: number;
  backoffUntil: number;
  unschedulableSince: number;
  unschedulablePlugins: Set<string>;
  /** The move-request cycle when the pod was popped. */
  popCycle: number;
}

/** Cluster changes that may make unschedulable pods schedulable. */
export type ClusterEvent = 'NodeAdd' | 'NodeUpdate' | 'PodDelete' | 'AssignedPodAdd' | 'AssignedPodUpdate' | 'VolumeChange';

const ALL = null;
/** Which rejecting plugins an event may help; null: all of them. */
const RELEVANT: Record<ClusterEvent, ReadonlySet<string> | null> = {
  NodeAdd: ALL,
  NodeUpdate: ALL,
  PodDelete: new Set(['NodeResourcesFit', 'NodePorts', 'PodTopologySpread', 'InterPodAffinity']),
  AssignedPodAdd: new Set(['PodTopologySpread', 'InterPodAffinity']),
  AssignedPodUpdate: new Set(['PodTopologySpread', 'InterPodAffinity']),
  /** A PVC, PV or StorageClass added, changed or deleted. */
  VolumeChange: new Set(['VolumeBinding']),
};

/** Queue timing. */
export interface QueueOptions {
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  unschedulableFlushMs?: number;
  now?: () => number;
}

/** Pending pods waiting for a scheduling attempt. */
export class SchedulingQueue {
  private readonly active = new KeyedHeap<QueuedPod>((q) => q.info.key, (a, b) =>
    a.info.priority !== b.info.priority ? a.info.priority > b.info.priority : a.firstQueued < b.firstQueued);
  private readonly backoff = new KeyedHeap<QueuedPod>((q) => q.info.key, (a, b) => a.backoffUntil < b.backoffUntil);
  private readonly unschedulable = new Map<string, QueuedPod>();
  private readonly inFlight = new Map<string, QueuedPod>();
  private moveCycle = 0;
  private waiters: ((q: QueuedPod | undefined) => void)[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedFor = 0;
  private flushTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly initialBackoff: number;
  private readonly maxBackoff: number;
  private readonly flushAfter: number;
  private readonly now: () => number;

  constructor(opts: QueueOptions = {}) {
    this.initialBackoff = opts.initialBackoffMs ?? 1000;
    this.maxBackoff = opts.maxBackoffMs ?? 10_000;
    this.flushAfter = opts.unschedulableFlushMs ?? 60_000;
    this.now = opts.now ?? Date.now;
    this.flushTimer = setInterval(() => this.flushUnschedulable(), Math.min(this.flushAfter / 2, 30_000));
    this.flushTimer.unref();
  }

  /** Numbers of pods in each part, for logs and tests. */
  get sizes(): { active: number; backoff: number; unschedulable: number; inFlight: number } {
    return { active: this.active.size, backoff: this.backoff.size, unschedulable: this.unschedulable.size, inFlight: this.inFlight.size };
  }

  /** Whether the pod is anywhere in the queue (in flight included). */
  has(key: string): boolean {
    return this.active.has(key) || this.backoff.has(key) || this.unschedulable.has(key) || this.inFlight.has(key);
  }

  /** Every queued key. */
  keys(): string[] {
    return [...this.active.keys(), ...this.backoff.keys(), ...this.unschedulable.keys(), ...this.inFlight.keys()];
  }

  /** A new or updated pending pod. A spec change moves an unschedulable pod back to be retried. */
  addOrUpdate(info: PodInfo): void {
    const key = info.key;
    const inFlight = this.inFlight.get(key);
    if (inFlight) { inFlight.info = info; return; }
    const existing = this.active.get(key) ?? this.backoff.get(key);
    if (existing) { existing.info = info; return; }
    const u = this.unschedulable.get(key);
    if (u) {
      const changed = schedulingInputs(u.info) !== schedulingInputs(info);
      u.info = info;
      // Our own status writes come back as updates; only a change to what scheduling reads retries.
      if (changed) {
        this.unschedulable.delete(key);
        this.requeue(u);
      }
      return;
    }
    this.pushActive({ info, attempts: 0, firstQueued: this.now(), backoffUntil: 0, unschedulableSince: 0, unschedulablePlugins: new Set(), popCycle: 0 });
  }

  /** Forgets a pod (deleted, bound, or no longer ours). */
  delete(key: string): void {
    this.active.delete(key);
    this.backoff.delete(key);
    this.unschedulable.delete(key);
    this.inFlight.delete(key);
  }

  /** The next pod to schedule; waits while none is active; undefined once closed. */
  pop(): Promise<QueuedPod | undefined> {
    const q = this.tryPop();
    if (q || this.closed) return Promise.resolve(q);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The next active pod, if any, without waiting. */
  tryPop(): QueuedPod | undefined {
    const q = this.active.pop();
    if (!q) return undefined;
    return this.take(q);
  }

  private take(q: QueuedPod): QueuedPod {
    q.attempts++;
    q.popCycle = this.moveCycle;
    this.inFlight.set(q.info.key, q);
    return q;
  }

  /** The pod was bound (or abandoned): it leaves the queue. */
  done(key: string): void {
    this.inFlight.delete(key);
  }

  /** The pod fits nowhere: park it until a relevant event (or backoff if one came while it was in flight). */
  addUnschedulable(q: QueuedPod, plugins: Iterable<string>): void {
    if (!this.inFlight.delete(q.info.key) || this.closed) return;
    q.unschedulablePlugins = new Set(plugins);
    q.unschedulableSince = this.now();
    if (this.moveCycle > q.popCycle) this.toBackoff(q);
    else this.unschedulable.set(q.info.key, q);
  }

  /** An error not about fit (e.g. the bind failed): retry after backoff. */
  addBackoff(q: QueuedPod): void {
    if (!this.inFlight.delete(q.info.key) || this.closed) return;
    this.toBackoff(q);
  }

  /** Moves parked pods that `event` may help to backoff or active. */
  moveOnEvent(event: ClusterEvent): void {
    this.moveCycle++;
    const relevant = RELEVANT[event];
    for (const [key, q] of this.unschedulable) {
      if (relevant && q.unschedulablePlugins.size && ![...q.unschedulablePlugins].some((p) => relevant.has(p))) continue;
      this.unschedulable.delete(key);
      this.requeue(q);
    }
  }

  /** Moves pods parked longer than the flush interval. */
  flushUnschedulable(): void {
    const now = this.now();
    for (const [key, q] of this.unschedulable) {
      if (now - q.unschedulableSince < this.flushAfter) continue;
      this.unschedulable.delete(key);
      this.requeue(q);
    }
  }

  /** The backoff for a pod after `attempts` failed attempts. */
  backoffMs(attempts: number): number {
    return Math.min(this.maxBackoff, this.initialBackoff * 2 ** Math.max(0, attempts - 1));
  }

  /** Back to active, or to backoff while the pod's backoff since its last failure runs. */
  private requeue(q: QueuedPod): void {
    const until = q.unschedulableSince + this.backoffMs(q.attempts);
    if (this.now() < until) {
      q.backoffUntil = until;
      this.backoff.push(q);
      this.arm();
    } else {
      this.pushActive(q);
    }
  }

  private toBackoff(q: QueuedPod): void {
    q.backoffUntil = this.now() + this.backoffMs(q.attempts);
    this.backoff.push(q);
    this.arm();
  }

  private pushActive(q: QueuedPod): void {
    q.backoffUntil = 0;
    const w = this.waiters.shift();
    if (w) w(this.take(q));
    else this.active.push(q);
  }

  private arm(): void {
    const head = this.backoff.peek();
    if (!head || this.closed) return;
    if (this.timer && this.armedFor <= head.backoffUntil) return;
    if (this.timer) clearTimeout(this.timer);
    this.armedFor = head.backoffUntil;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flushBackoff();
    }, Math.max(0, head.backoffUntil - this.now()));
    this.timer.unref();
  }

  /** Moves pods whose backoff has expired to the active heap. */
  flushBackoff(): void {
    const now = this.now();
    for (let head = this.backoff.peek(); head && head.backoffUntil <= now; head = this.backoff.peek()) {
      this.backoff.pop();
      this.pushActive(head);
    }
    this.arm();
  }

  /** Stops timers and releases waiting pops. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.flushTimer) clearInterval(this.flushTimer);
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}

/** What scheduling reads from a pod besides status: spec and labels. */
function schedulingInputs(info: PodInfo): string {
  return JSON.stringify([info.pod.spec, info.pod.metadata.labels]);
}
