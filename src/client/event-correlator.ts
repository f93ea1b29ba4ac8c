/**
 * The aggregating half of the event recorder (client-go tools/record: events_cache.go's eventLogger
 * and event.go's recordToSink). One series per key (source, involvedObject, type, reason, message):
 * the first occurrence creates an Event; a repeat within the window bumps the series' count and
 * lastTimestamp and is written as a patch of that Event; a 404 on the patch (the Event expired or was
 * deleted) creates it again. Series live in an LRU bounded by `maxEntries`.
 *
 * Writes of one series are serialised, so a repeat never races its own create into a second Event,
 * and coalesced: repeats seen while a write is queued go out as one write with the latest count. With
 * `minWriteIntervalMs` a repeat is deferred instead, so one series is written at most once per
 * interval however often it recurs (the scheduler retries an unschedulable pod every few seconds).
 * Failures never reach the caller; they are logged at debug.
 */
import type { KubeObject } from '../apis/object.ts';
import { rfc3339 } from '../apis/time.ts';
import type { Logger } from '../util/log.ts';
import { isNotFound } from './errors.ts';

/** The fields a repeat changes, sent as a merge patch of the existing Event. */
export interface EventPatch {
  count: number;
  lastTimestamp: string;
  message: string;
}

/** Where Events go: create and patch of core/v1 events (see `clientEventSink`). */
export interface EventSink {
  create(namespace: string, event: KubeObject): Promise<unknown>;
  patch(namespace: string, name: string, patch: EventPatch): Promise<unknown>;
  /**
   * Creates many Events in one request (a PortClient's `createMany`): resolves with each one's
   * error, if any. Without it a batch is that many `create`s.
   */
  createMany?(events: KubeObject[]): Promise<(Error | undefined)[]>;
}

/** How the correlator aggregates and paces writes. */
export interface CorrelatorOptions {
  sink: EventSink;
  /** A repeat later than this after the previous one starts a new Event (default 10 min). */
  windowMs?: number;
  /** Series remembered (default 4096, client-go's LRU size); the least recently seen go first. */
  maxEntries?: number;
  /** Repeats of one series are written at most once per this interval (default 0: at once). */
  minWriteIntervalMs?: number;
  now?: () => Date;
  log?: Logger;
}

interface Series {
  key: string;
  uid: string;
  /** The Event as first created: name, namespace, involvedObject, reason, message, firstTimestamp… */
  event: KubeObject;
  /** Occurrences seen. */
  count: number;
  /** The count of the last write started (0: not written yet). */
  sent: number;
  lastTimestamp: string;
  lastSeenMs: number;
  lastWriteMs: number;
  /** The tail of this series' write chain. */
  chain: Promise<void>;
  /** A deferred write (minWriteIntervalMs). */
  timer?: NodeJS.Timeout;
}

const DONE: Promise<void> = Promise.resolve();

/** Aggregates occurrences into Events and writes them; see the file comment. */
export class EventCorrelator {
  /** Insertion order is recency: the first entry is the least recently seen. */
  private readonly series = new Map<string, Series>();
  /** Series keys by involvedObject uid, so forgetting an object is not a scan. */
  private readonly byUid = new Map<string, Set<string>>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly deferred = new Set<Series>();
  private readonly sink: EventSink;
  private readonly windowMs: number;
  private readonly maxEntries: number;
  private readonly minWriteIntervalMs: number;
  private readonly now: () => Date;
  private readonly log?: Logger;
  private closed = false;

  constructor(opts: CorrelatorOptions) {
    this.sink = opts.sink;
    this.windowMs = opts.windowMs ?? 10 * 60_000;
    this.maxEntries = Math.max(1, opts.maxEntries ?? 4096);
    this.minWriteIntervalMs = opts.minWriteIntervalMs ?? 0;
    this.now = opts.now ?? (() => new Date());
    this.log = opts.log;
  }

  /** Whether the sink writes a batch in one request (`createMany`). */
  get batches(): boolean {
    return typeof this.sink.createMany === 'function';
  }

  /** Series remembered now. */
  get size(): number {
    return this.series.size;
  }

  /**
   * One occurrence of the series `key` about the object `uid`; `make` builds its Event (count 1)
   * when a new series starts. Resolves when this occurrence is written, or at once when deferred.
   */
  observe(key: string, uid: string, make: (now: Date) => KubeObject): Promise<void> {
    if (this.closed) return DONE;
    const now = this.now();
    const t = now.getTime();
    const s = this.series.get(key);
    if (s && t - s.lastSeenMs <= this.windowMs) {
      s.count++;
      s.lastSeenMs = t;
      s.lastTimestamp = rfc3339(now);
      this.series.delete(key);
      this.series.set(key, s);
      return this.repeat(s, t);
    }
    if (s) this.drop(s, false);
    const event = make(now);
    const fresh: Series = {
      key, uid, event, count: 1, sent: 0, lastTimestamp: event.lastTimestamp, lastSeenMs: t, lastWriteMs: t, chain: DONE,
    };
    this.series.set(key, fresh);
    if (uid) {
      let keys = this.byUid.get(uid);
      if (!keys) this.byUid.set(uid, (keys = new Set()));
      keys.add(key);
    }
    while (this.series.size > this.maxEntries) this.drop(this.series.values().next().value!, true);
    return this.write(fresh);
  }

  /** Creates an Event that will not repeat (no series is kept). */
  once(event: KubeObject): Promise<void> {
    if (this.closed) return DONE;
    return this.track(this.create(event, event.count ?? 1, event.lastTimestamp));
  }

  /** Creates Events that will not repeat, in one request when the sink takes batches. */
  onceMany(events: KubeObject[]): Promise<void> {
    if (this.closed || !events.length) return DONE;
    if (!this.sink.createMany) return this.track(Promise.all(events.map((e) => this.create(e, e.count ?? 1, e.lastTimestamp))).then(() => undefined));
    return this.track(this.createMany(events));
  }

  /** Drops every series about the object `uid`, with their deferred writes (it is gone or done). */
  forget(uid: string): void {
    const keys = this.byUid.get(uid);
    if (!keys) return;
    for (const key of [...keys]) {
      const s = this.series.get(key);
      if (s) this.drop(s, false);
    }
    this.byUid.delete(uid);
  }

  /** Cancels deferred writes and waits for the ones in flight; later occurrences are ignored. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.deferred) clearTimeout(s.timer);
    this.deferred.clear();
    while (this.inFlight.size) await Promise.allSettled([...this.inFlight]);
  }

  /** A repeat: written now (coalescing with a queued write), or deferred to the series' next slot. */
  private repeat(s: Series, t: number): Promise<void> {
    if (this.minWriteIntervalMs <= 0) return this.write(s);
    if (s.timer) return DONE;
    const wait = s.lastWriteMs + this.minWriteIntervalMs - t;
    if (wait <= 0) return this.write(s);
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.deferred.delete(s);
      void this.write(s);
    }, wait);
    s.timer.unref();
    this.deferred.add(s);
    return DONE;
  }

  /** Removes a series; an evicted one still gets its deferred count written. */
  private drop(s: Series, flushDeferred: boolean): void {
    this.series.delete(s.key);
    const keys = this.byUid.get(s.uid);
    keys?.delete(s.key);
    if (keys?.size === 0) this.byUid.delete(s.uid);
    if (!s.timer) return;
    clearTimeout(s.timer);
    s.timer = undefined;
    this.deferred.delete(s);
    if (flushDeferred) void this.write(s);
  }

  /** Queues a write of the series behind its earlier ones. */
  private write(s: Series): Promise<void> {
    const p = s.chain.then(() => this.send(s));
    s.chain = p;
    return this.track(p);
  }

  private track(p: Promise<void>): Promise<void> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  /** Writes the series' current count: a create the first time, a patch after. Never rejects. */
  private async send(s: Series): Promise<void> {
    if (s.count === s.sent) return; // a write queued earlier already carried this count
    const count = s.count;
    const lastTimestamp = s.lastTimestamp;
    const creating = s.sent === 0;
    s.sent = count;
    s.lastWriteMs = this.now().getTime();
    if (creating) return this.create(s.event, count, lastTimestamp);
    const { namespace, name } = s.event.metadata;
    try {
      await this.sink.patch(namespace!, name!, { count, lastTimestamp, message: s.event.message });
    } catch (err) {
      // Expired (events have a TTL) or deleted: create it again, as client-go does.
      if (isNotFound(err)) return this.create(s.event, count, lastTimestamp);
      this.log?.debug('event not updated', { event: `${namespace}/${name}`, reason: s.event.reason, error: String(err) });
    }
  }

  private async createMany(events: KubeObject[]): Promise<void> {
    let errs: (Error | undefined)[];
    try {
      errs = await this.sink.createMany!(events);
    } catch (err) {
      errs = events.map(() => err as Error);
    }
    for (let i = 0; i < events.length; i++) {
      const err = errs[i];
      if (!err) continue;
      const e = events[i]!;
      this.log?.debug('event not created', { event: `${e.metadata.namespace}/${e.metadata.name}`, reason: e.reason, error: String(err) });
    }
  }

  private async create(event: KubeObject, count: number, lastTimestamp: string): Promise<void> {
    try {
      await this.sink.create(event.metadata.namespace!, { ...event, count, lastTimestamp });
    } catch (err) {
      this.log?.debug('event not created', { event: `${event.metadata.namespace}/${event.metadata.name}`, reason: event.reason, error: String(err) });
    }
  }
}
