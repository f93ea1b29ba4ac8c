/**
 * The one event recorder of every component (client-go tools/record: EventBroadcaster.NewRecorder +
 * EventRecorder): `event(obj, type, reason, message)` writes a core/v1 Event about `obj`, named
 * `<obj>.<hex ns>`, with `source` {component, host} and reportingComponent/reportingInstance from
 * the recorder's {@link EventSource}. Repeats aggregate into one Event (count, lastTimestamp) as
 * client-go's EventCorrelator does (event-correlator.ts); `recordOnce` is for events that happen once
 * per object and keeps no state. `withSource` gives another component a recorder on the same cache
 * and writes, as client-go's recorders share their broadcaster: one per controller-manager.
 *
 *   event() ─▶ EventCorrelator (LRU of series, per-series write chain, deferred flush) ─▶ EventSink ─▶ Client
 */
import type { KubeObject } from '../apis/object.ts';
import { rfc3339 } from '../apis/time.ts';
import type { Logger } from '../util/log.ts';
import { R, type Client } from './client.ts';
import { EventCorrelator, type CorrelatorOptions, type EventSink } from './event-correlator.ts';

export type { EventPatch, EventSink } from './event-correlator.ts';

export type EventType = 'Normal' | 'Warning';

/** Who reports the events (core/v1 EventSource plus the reporting fields). */
export interface EventSource {
  /** `source.component` and `reportingComponent`: `kubelet`, `default-scheduler`, `replicaset-controller`… */
  component: string;
  /** `source.host`: the node, for node components; omitted when absent. */
  host?: string;
  /** `reportingInstance`; default `host` (omitted when neither is set, as client-go does for controllers). */
  instance?: string;
}

/** A recorder: its source, its sink and how it aggregates (see {@link CorrelatorOptions}). */
export interface EventRecorderOptions extends CorrelatorOptions {
  source: EventSource;
}

/** Per-event options. */
export interface EventOptions {
  /** `involvedObject.fieldPath`, e.g. `spec.containers{app}`; part of the aggregation key. */
  fieldPath?: string;
}

/** One event of a {@link EventRecorder.recordOnceMany} batch. */
export interface OnceEvent extends EventOptions {
  obj: KubeObject;
  type: EventType;
  reason: string;
  message: string;
}

/** A Client that can create many objects in one request (the PortClient: one message across threads). */
interface BatchCreator {
  createMany(ref: typeof R.events, items: { namespace: string | undefined; object: KubeObject }[]): Promise<(Error | undefined)[]>;
}

/** The sink onto a Client: create and merge-patch of core/v1 events; batches of creates where the client takes them. */
export function clientEventSink(client: Client): EventSink {
  const sink: EventSink = {
    create: (namespace, event) => client.create(R.events, namespace, event),
    patch: (namespace, name, patch) => client.patch(R.events, namespace, name, 'merge', patch),
  };
  const batching = client as Client & Partial<BatchCreator>;
  if (typeof batching.createMany === 'function') {
    sink.createMany = (events) => batching.createMany!(R.events, events.map((object) => ({ namespace: object.metadata.namespace, object })));
  }
  return sink;
}

let lastNanos = 0n;
/** Unix time in ns, strictly increasing within this process, so two Events never share a name. */
function uniqueNanos(now: Date): bigint {
  let n = BigInt(now.getTime()) * 1_000_000n + (process.hrtime.bigint() % 1_000_000n);
  if (n <= lastNanos) n = lastNanos + 1n;
  lastNanos = n;
  return n;
}

/** core/v1 ObjectReference to `obj`; absent fields left out (a Node has no namespace). */
function objectReference(obj: KubeObject, fieldPath?: string): Record<string, string> {
  const m = obj.metadata;
  const ref: Record<string, string | undefined> = {
    kind: obj.kind, namespace: m.namespace, name: m.name, uid: m.uid, apiVersion: obj.apiVersion, resourceVersion: m.resourceVersion, fieldPath,
  };
  for (const k of Object.keys(ref)) if (!ref[k]) delete ref[k];
  return ref as Record<string, string>;
}

/** Records Events about objects; see the file comment. */
export class EventRecorder {
  private readonly correlator: EventCorrelator;
  readonly source: EventSource;

  /** `shared` is how {@link withSource} hands its correlator to the new recorder. */
  constructor(private readonly opts: EventRecorderOptions, shared?: EventCorrelator) {
    this.correlator = shared ?? new EventCorrelator(opts);
    this.source = opts.source;
  }

  /** A recorder for another component sharing this one's cache, writes and close(). */
  withSource(source: EventSource): EventRecorder {
    return new EventRecorder({ ...this.opts, source }, this.correlator);
  }

  /**
   * Records that `reason` happened to `obj`; a repeat of the same (object, fieldPath, type, reason,
   * message) from this source within the window bumps the existing Event. Never rejects; resolves
   * once written (or at once when the write is deferred).
   */
  event(obj: KubeObject, type: EventType, reason: string, message: string, opts: EventOptions = {}): Promise<void> {
    const m = obj.metadata;
    const { component, host = '' } = this.source;
    const key = [component, host, obj.kind, m.namespace, m.name, opts.fieldPath, m.uid, obj.apiVersion, type, reason, message].join('\u0000');
    return this.correlator.observe(key, m.uid ?? '', (now) => this.build(obj, type, reason, message, opts, now));
  }

  /**
   * Records an event that happens once per object (the scheduler's Scheduled): nothing can repeat,
   * so no series is kept (30,000 bound pods would otherwise hold 30,000 until evicted).
   */
  recordOnce(obj: KubeObject, type: EventType, reason: string, message: string, opts: EventOptions = {}): Promise<void> {
    return this.correlator.once(this.build(obj, type, reason, message, opts, this.opts.now?.() ?? new Date()));
  }

  /** {@link recordOnce} for many events, written in one request where the sink takes batches. */
  recordOnceMany(items: OnceEvent[]): Promise<void> {
    const now = this.opts.now?.() ?? new Date();
    return this.correlator.onceMany(items.map((e) => this.build(e.obj, e.type, e.reason, e.message, e, now)));
  }

  /** Drops the aggregation state (and deferred writes) about the object with this uid. */
  forget(uid: string): void {
    this.correlator.forget(uid);
  }

  /** Waits for writes in flight and cancels deferred ones; later events are dropped. */
  close(): Promise<void> {
    return this.correlator.close();
  }

  /** Whether {@link recordOnceMany} writes a batch in one request (else it is one create each). */
  get batches(): boolean {
    return this.correlator.batches;
  }

  /** Series remembered (shared by every recorder of this correlator). */
  get size(): number {
    return this.correlator.size;
  }

  private build(obj: KubeObject, type: EventType, reason: string, message: string, opts: EventOptions, now: Date): KubeObject {
    const m = obj.metadata;
    const ts = rfc3339(now);
    const { component, host } = this.source;
    const instance = this.source.instance ?? host;
    return {
      apiVersion: 'v1', kind: 'Event',
      // Cluster-scoped objects (Nodes) get their events in `default`, as client-go does.
      metadata: { name: `${m.name}.${uniqueNanos(now).toString(16)}`, namespace: m.namespace || 'default' },
      involvedObject: objectReference(obj, opts.fieldPath),
      reason, message, type,
      source: host ? { component, host } : { component },
      reportingComponent: component,
      ...(instance ? { reportingInstance: instance } : {}),
      count: 1, firstTimestamp: ts, lastTimestamp: ts,
    };
  }
}
