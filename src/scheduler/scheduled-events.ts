/**
 * The scheduler's `Scheduled` events, off the binding path: a bounded queue in front of the
 * recorder, drained in batches, dropping what does not fit — as client-go's events broadcaster
 * (tools/events/event_broadcaster.go: a 1,000-event queue, DropIfChannelFull). A burst of bindings
 * never waits on its events; the pods' PodScheduled condition, not the event, is the record that a
 * pod was placed.
 *
 * client-go drops only when its queue's reader falls behind, and that reader never waits on a
 * write: `recordToSink` starts a goroutine per event, so every Scheduled event is written (there
 * is nothing to aggregate either: each is about another pod, and the correlator's series, spam
 * filter and similar-event aggregation are all keyed per object). Here the writes in flight are
 * bounded by `writers` (events, not requests) and the queue by `maxQueued`: a drop means both are
 * full, i.e. the API server takes the events more slowly than the scheduler binds.
 *
 * Batches: what one turn of the event loop queued (or every `batch` events) goes to the recorder's
 * `recordOnceMany` at once — over a PortClient one `createMany` request whose creates the API
 * server starts in one turn (one group commit) and answers once, naming only failures. In-process
 * (no batch request) each event is its own write, taken at once while writers are free. Why writes
 * in flight matter: each create waits for its group
 * commit's fsync and, on the scheduler thread, behind the bindings on the port, so the queue drains
 * at about writers ÷ latency (bench/README.md, sched).
 */
import type { KubeObject } from '../apis/object.ts';
import type { Client } from '../client/client.ts';
import type { EventRecorder, OnceEvent } from '../client/event-recorder.ts';
import type { Logger } from '../util/log.ts';
import { observeDroppedEvent } from './scheduler-metrics.ts';

/** Queue options. */
export interface ScheduledEventsOptions {
  /** Events waiting at most; more are dropped (default 1,000, client-go's maxQueuedEvents). */
  maxQueued?: number;
  /** Events being written at once (default 128: see above). */
  writers?: number;
  /**
   * Events per write request at most (default 256 when the recorder writes a batch in one request;
   * else 1, each writer awaiting its own create, so a slow create never holds back the others').
   */
  batch?: number;
}

/** Bounded, dropping queue of `Scheduled` events in front of an EventRecorder. */
export class ScheduledEvents {
  private readonly queue: OnceEvent[] = [];
  private head = 0;
  private inFlight = 0;
  private pumpQueued = false;
  private closed = false;
  private idle: (() => void) | undefined;
  private readonly maxQueued: number;
  private readonly writers: number;
  private readonly batch: number;
  /** Events dropped because the queue was full, since the start. */
  dropped = 0;
  /** Write requests made (batches), since the start. */
  requests = 0;

  constructor(private readonly recorder: EventRecorder, private readonly log: Logger, opts: ScheduledEventsOptions = {}) {
    this.maxQueued = opts.maxQueued ?? 1000;
    this.writers = Math.max(1, opts.writers ?? 128);
    this.batch = Math.max(1, opts.batch ?? (recorder.batches ? 256 : 1));
  }

  /** Queues `Successfully assigned ns/name to node`; drops it (counted) when the queue is full. */
  scheduled(pod: KubeObject, nodeName: string): void {
    if (this.closed) return;
    if (this.pending >= this.maxQueued) {
      // Logged on the first and every 1,000th drop: the drops themselves come in bursts.
      if (this.dropped++ % 1000 === 0) this.log.info('event queue full; dropping Scheduled events', { dropped: this.dropped });
      observeDroppedEvent();
      return;
    }
    const m = pod.metadata;
    this.queue.push({ obj: pod, type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${m.namespace}/${m.name} to ${nodeName}` });
    // A full batch goes at once; the rest of a turn's events at its end, together.
    if (this.pending >= this.batch) this.pump();
    else if (!this.pumpQueued) {
      this.pumpQueued = true;
      setImmediate(() => { this.pumpQueued = false; this.pump(); });
    }
  }

  /** Events waiting (not counting those being written). */
  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Stops taking events and waits until the queued ones are written. */
  async close(): Promise<void> {
    this.closed = true;
    this.pump();
    if (this.inFlight === 0 && this.pending === 0) return;
    await new Promise<void>((r) => (this.idle = r));
  }

  /** Sends batches while there are events waiting and room in flight. */
  private pump(): void {
    while (this.pending > 0 && this.inFlight < this.writers) {
      const n = Math.min(this.batch, this.writers - this.inFlight, this.pending);
      const items = this.queue.slice(this.head, this.head + n);
      this.head += n;
      // Drop the consumed prefix once it dominates, so the array does not grow for ever.
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue.splice(0, this.head);
        this.head = 0;
      }
      this.inFlight += n;
      this.requests++;
      const done = () => {
        this.inFlight -= n;
        this.pump();
        if (this.inFlight === 0 && this.pending === 0) this.idle?.();
      };
      // Failed writes are logged by the correlator (at debug); a batch never stops the queue.
      this.recorder.recordOnceMany(items).then(done, (err: unknown) => {
        this.log.debug('Scheduled events not written', { error: String(err) });
        done();
      });
    }
  }
}

/**
 * `client` with every successful pod binding also queueing that pod's Scheduled event in `events`:
 * the client the scheduler thread's requests are answered from, on the API server's thread
 * (scheduler-thread.ts). The event then costs no trip across the port and waits behind no binding
 * still queued there: sent from the thread, in batches of 256 with 512 in flight, 27–29 % were
 * dropped at 2,500 bindings a second (each event waited for its batch's round trip behind up to 1,024
 * bindings in flight — by Little's law ~1,300 events a second at most), and 4,096 in flight slowed
 * the bindings. The event names the pod by the Binding (name, namespace, uid): the pod's
 * resourceVersion as the scheduler saw it, which upstream's reference carries, is not known here.
 */
export function recordingScheduled(client: Client, events: ScheduledEvents): Client {
  // Everything else is the client's own, through the prototype: what the port server looks for on
  // its client (batch creates, JSON lists) stays visible.
  const wrapped = Object.create(client) as Client;
  wrapped.create = async (ref, namespace, obj, subresource) => {
    const created = await client.create(ref, namespace, obj, subresource);
    const node = obj?.target?.name;
    if (subresource === 'binding' && ref.group === '' && ref.resource === 'pods' && typeof node === 'string') {
      const m = obj.metadata ?? {};
      events.scheduled({ apiVersion: 'v1', kind: 'Pod', metadata: { name: m.name, namespace: namespace ?? m.namespace, ...(m.uid ? { uid: m.uid } : {}) } }, node);
    }
    return created;
  };
  return wrapped;
}
