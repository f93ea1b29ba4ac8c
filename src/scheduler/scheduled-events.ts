/**
 * The scheduler's `Scheduled` events, off the binding path: a bounded queue drained by many
 * writers, dropping what does not fit — as client-go's events broadcaster
 * (tools/events/event_broadcaster.go: a 1,000-event queue, DropIfChannelFull). A burst of bindings
 * never waits on its events; the pods' PodScheduled condition, not the event, is the record that a
 * pod was placed.
 *
 * Why 128 writers: each create waits for its group commit's fsync (milliseconds), not for CPU, so
 * the queue drains at about writers ÷ commit latency. With 4 writers it drained a few hundred a
 * second and dropped 27–75 % of a 10,000-event burst at 1,000–3,000 a second; writes in flight are
 * what group commit batches into one fsync, so 128 keep up with 3,000 a second (0 dropped; 64
 * dropped up to 12 %) — measured on a real SQLite store under load 23–33 (bench/README.md, sched).
 */
import type { KubeObject } from '../apis/object.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import type { Logger } from '../util/log.ts';
import { observeDroppedEvent } from './scheduler-metrics.ts';

/** Queue options. */
export interface ScheduledEventsOptions {
  /** Events waiting at most; more are dropped (default 1,000, client-go's maxQueuedEvents). */
  maxQueued?: number;
  /** Writes in flight at once (default 128: see above). */
  writers?: number;
}

interface Pending {
  pod: KubeObject;
  message: string;
}

/** Bounded, dropping queue of `Scheduled` events in front of an EventRecorder. */
export class ScheduledEvents {
  private readonly queue: Pending[] = [];
  private head = 0;
  private active = 0;
  private closed = false;
  private idle: (() => void) | undefined;
  private readonly maxQueued: number;
  private readonly writers: number;
  /** Events dropped because the queue was full, since the start. */
  dropped = 0;

  constructor(private readonly recorder: EventRecorder, private readonly log: Logger, opts: ScheduledEventsOptions = {}) {
    this.maxQueued = opts.maxQueued ?? 1000;
    this.writers = opts.writers ?? 128;
  }

  /** Queues `Successfully assigned ns/name to node`; drops it (counted) when the queue is full. */
  scheduled(pod: KubeObject, nodeName: string): void {
    if (this.closed) return;
    if (this.queue.length - this.head >= this.maxQueued) {
      // Logged on the first and every 1,000th drop: the drops themselves come in bursts.
      if (this.dropped++ % 1000 === 0) this.log.info('event queue full; dropping Scheduled events', { dropped: this.dropped });
      observeDroppedEvent();
      return;
    }
    const m = pod.metadata;
    this.queue.push({ pod, message: `Successfully assigned ${m.namespace}/${m.name} to ${nodeName}` });
    if (this.active < this.writers) {
      this.active++;
      void this.drain();
    }
  }

  /** Events waiting (not counting those being written). */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Stops taking events and waits until the queued ones are written. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.active === 0) return;
    await new Promise<void>((r) => (this.idle = r));
  }

  private async drain(): Promise<void> {
    while (this.head < this.queue.length) {
      const next = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Pending;
      // Compact once the consumed prefix dominates, so the array does not grow for ever.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      try {
        await this.recorder.recordOnce(next.pod, 'Normal', 'Scheduled', next.message);
      } catch (err) {
        this.log.debug('Scheduled event not written', { error: String(err) });
      }
    }
    if (--this.active === 0) this.idle?.();
  }
}
