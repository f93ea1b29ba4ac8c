/**
 * The controllers' work queue, in the manner of client-go's rate-limiting workqueue: a FIFO of keys
 * that de-duplicates (a key queued twice is processed once), never hands one key to two workers at a
 * time (a key added while it is being processed is queued again once `done` is called), delays keys
 * (`addAfter`) and backs failing keys off exponentially per key (5 ms doubling up to 1000 s, client-go's
 * default controller rate limiter without its overall token bucket).
 */
import type { ObjectKey, WorkQueue } from './controller-types.ts';
import { queueMetrics, registerQueue } from './workqueue-metrics.ts';

/** Back-off bounds for {@link RateLimitedQueue}. */
export interface QueueOptions {
  /** First back-off delay; default 5 ms. */
  baseDelayMs?: number;
  /** Back-off ceiling; default 1000 s. */
  maxDelayMs?: number;
}

/** A de-duplicating, delaying, rate-limited queue of object keys; see the file comment. */
export class RateLimitedQueue implements WorkQueue {
  private readonly queue: ObjectKey[] = [];
  /** Keys waiting to be processed (queued, or re-queued while processing). */
  private readonly dirty = new Set<ObjectKey>();
  private readonly processing = new Set<ObjectKey>();
  private readonly failures = new Map<ObjectKey, number>();
  /** Keys waiting for `addAfter`, with their timer and when it fires (one per key, as client-go's waitingForQueue). */
  private readonly timers = new Map<ObjectKey, { timer: NodeJS.Timeout; readyAt: number }>();
  private readonly waiters: Array<(key: ObjectKey | undefined) => void> = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  /** Set by {@link instrument}: the queue's name and when each key was queued / taken. */
  private metrics?: { name: string; queuedAt: Map<ObjectKey, number>; startedAt: Map<ObjectKey, number>; unregister: () => void };

  constructor(opts: QueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 1_000_000;
  }

  /** Keys waiting to be handed out (not counting those being processed or delayed). */
  get length(): number {
    return this.queue.length;
  }

  /** True once shutDown was called. */
  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Reports this queue's metrics (workqueue_*) under `name`; the shared reconcile loop names every
   * controller's queue after its controller. Until shutDown.
   */
  instrument(name: string): void {
    if (this.metrics || this.shuttingDown) return;
    const startedAt = new Map<ObjectKey, number>();
    const unregister = registerQueue(name, {
      depth: () => this.queue.length,
      unfinished: (now) => {
        let sum = 0;
        let longest = 0;
        for (const t of startedAt.values()) { sum += (now - t) / 1000; longest = Math.max(longest, (now - t) / 1000); }
        return { sum, longest };
      },
    });
    this.metrics = { name, queuedAt: new Map(), startedAt, unregister };
  }

  add(key: ObjectKey): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    if (this.metrics) {
      queueMetrics.adds.inc({ name: this.metrics.name });
      if (!this.metrics.queuedAt.has(key)) this.metrics.queuedAt.set(key, Date.now());
    }
    this.dirty.add(key);
    // Being processed: `done` puts it back, so one key never runs on two workers at once.
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.taken(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  addAfter(key: ObjectKey, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) { this.add(key); return; }
    // A key already waiting keeps the earlier of its two times, as client-go's delaying queue does: a
    // timer per call piled up (32,000 pending at 10,000 pods, 119,000 at 28,000 — controllers requeue
    // a Deployment after its progress deadline on every sync), each with its closure, for minutes.
    const readyAt = Date.now() + delayMs;
    const waiting = this.timers.get(key);
    if (waiting) {
      if (waiting.readyAt <= readyAt) return;
      clearTimeout(waiting.timer);
    }
    const timer = setTimeout(() => { this.timers.delete(key); this.add(key); }, delayMs);
    // Pending delays must not keep the process alive on their own.
    timer.unref();
    this.timers.set(key, { timer, readyAt });
  }

  addRateLimited(key: ObjectKey): void {
    if (this.metrics) queueMetrics.retries.inc({ name: this.metrics.name });
    this.addAfter(key, this.when(key));
  }

  /** The next back-off delay for `key` (and counts the failure): base·2^failures, capped. */
  when(key: ObjectKey): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    return Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n);
  }

  /** How many times `key` has been rate-limited since it was last forgotten. */
  numRequeues(key: ObjectKey): number {
    return this.failures.get(key) ?? 0;
  }

  forget(key: ObjectKey): void {
    this.failures.delete(key);
  }

  /**
   * The next key to process, waiting until there is one; `undefined` once the queue is shut down.
   * The caller must call {@link done} with the key when finished.
   */
  get(): Promise<ObjectKey | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      this.taken(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A key handed to a worker: its time in the queue ends, its work begins. */
  private taken(key: ObjectKey): void {
    const m = this.metrics;
    if (!m) return;
    const now = Date.now();
    const queued = m.queuedAt.get(key);
    m.queuedAt.delete(key);
    if (queued !== undefined) queueMetrics.queueDuration.observe({ name: m.name }, (now - queued) / 1000);
    m.startedAt.set(key, now);
  }

  /** Marks `key` processed; a key added meanwhile is queued again now. */
  done(key: ObjectKey): void {
    const m = this.metrics;
    const started = m?.startedAt.get(key);
    if (m && started !== undefined) {
      m.startedAt.delete(key);
      queueMetrics.workDuration.observe({ name: m.name }, (Date.now() - started) / 1000);
    }
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.dirty.delete(key);
      this.add(key);
    }
  }

  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.metrics?.unregister();
    for (const w of this.timers.values()) clearTimeout(w.timer);
    this.timers.clear();
    this.queue.length = 0;
    this.dirty.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
