/**
 * The watch fan-out shared by every backend: one feed of events per backend (the SQLite poller or
 * one etcd watch) goes in through `publish`, and the hub hands each watcher the events under its
 * prefix, in revision order, exactly once. A bounded ring of recent events serves watches that
 * start slightly in the past; older starts read the store's history through `HistorySource`.
 */
import { CompactedError, type Watch, type WatchEvent, type WatchOptions } from './backend.ts';

/** Reads past events from the store, for watches that start before the ring buffer. */
export interface HistorySource {
  /** Events with `after < revision <= upTo` under `prefix`, in revision order. */
  history(prefix: string, after: number, upTo: number): Promise<WatchEvent[]>;
}

/** Tuning for a hub. */
export interface WatchHubOptions {
  /** How often each watcher hears `onProgress` (ms). Default 1000. */
  progressIntervalMs?: number;
  /** How many recent events the ring keeps (up to a quarter more between trims). Default 10,000. */
  ringSize?: number;
  /** Called before each progress tick so the backend can pick up writes it has not seen yet. */
  refresh?: () => void;
}

interface Subscriber {
  prefix: string;
  options: WatchOptions;
  /** Highest revision delivered (or deliberately skipped); only later events go out. */
  cursor: number;
  /** False while replaying history: live events wait in `pending` meanwhile. */
  live: boolean;
  pending: WatchEvent[];
  /** `lastRevision` when the watch began: replay covers up to here, `pending` collects what follows. */
  upTo: number;
  closed: boolean;
}

/** Fans one backend's event feed out to many prefix-filtered watchers. */
export class WatchHub {
  private readonly subscribers = new Set<Subscriber>();
  private ring: WatchEvent[] = [];
  /** The newest event of each key in the ring: an update's previous value is that event's value. */
  private latest = new Map<string, WatchEvent>();
  /** Every event with a revision above this one is in `ring`. */
  private ringStart: number;
  /** Every event up to this revision has been published. */
  private lastRevision: number;
  private compacted = 0;
  private readonly ringSize: number;
  private readonly timer: NodeJS.Timeout;
  private closed = false;
  private queue: WatchEvent[][] = [];
  private publishing = false;

  /** `startRevision` is the store's revision when the feed starts (nothing at or below it is published). */
  constructor(private readonly source: HistorySource, startRevision: number, private readonly opts: WatchHubOptions = {}) {
    this.ringStart = startRevision;
    this.lastRevision = startRevision;
    this.ringSize = opts.ringSize ?? 10_000;
    this.timer = setInterval(() => this.tick(), opts.progressIntervalMs ?? 1000);
    this.timer.unref();
  }

  /** Watches open now (leak checks: a dropped client must not leave its watch behind). */
  get watchCount(): number {
    return this.subscribers.size;
  }

  /** The revision up to which every event has been published. */
  get revision(): number {
    return this.lastRevision;
  }

  /** Records the compacted revision so watches from below it fail even when the ring still holds them. */
  setCompacted(revision: number): void {
    if (revision > this.compacted) this.compacted = revision;
  }

  /**
   * Feeds events (in revision order, all newer than anything published before) to the watchers. The
   * array may be handed to several watchers: neither the caller nor a watcher may change it after.
   */
  publish(events: WatchEvent[]): void {
    if (this.closed || events.length === 0) return;
    // A watcher callback may write, and a write publishes synchronously: queue nested batches so
    // every watcher still sees revisions in order.
    this.queue.push(events);
    if (this.publishing) return;
    this.publishing = true;
    try {
      for (let batch = this.queue.shift(); batch && !this.closed; batch = this.queue.shift()) this.fanOut(batch);
    } finally {
      this.publishing = false;
      this.queue = [];
    }
  }

  private fanOut(events: WatchEvent[]): void {
    for (const e of events) {
      this.shareValues(e);
      this.ring.push(e);
    }
    this.lastRevision = Math.max(this.lastRevision, events[events.length - 1].revision);
    this.trimRing();
    // Writes are published one at a time: such a batch goes to each of its watchers as it is, with no
    // array per watcher (callbacks only read what they are handed).
    const one = events.length === 1 ? events[0] : undefined;
    for (const sub of this.subscribers) {
      let mine: WatchEvent[];
      if (one) {
        if (one.revision <= sub.cursor || !one.kv.key.startsWith(sub.prefix)) continue;
        mine = events;
      } else {
        mine = events.filter((e) => e.revision > sub.cursor && e.kv.key.startsWith(sub.prefix));
        if (mine.length === 0) continue;
      }
      if (!sub.live) {
        sub.pending.push(...mine);
        continue;
      }
      this.deliver(sub, mine);
    }
  }

  /** Tells the hub the feed has seen everything up to `revision` (no events were missed). */
  progress(revision: number): void {
    if (revision > this.lastRevision) this.lastRevision = revision;
  }

  /**
   * The feed broke and cannot resume where it stopped: end every watch with `err` (clients re-list)
   * and start over empty at `revision`.
   */
  restart(err: Error, revision: number): void {
    for (const sub of [...this.subscribers]) this.fail(sub, err);
    this.ring = [];
    this.latest.clear();
    this.ringStart = revision;
    this.lastRevision = revision;
  }

  /** Starts a watch; see `Backend.watch`. */
  watch(prefix: string, options: WatchOptions): Watch {
    const sub: Subscriber = {
      prefix, options, cursor: options.afterRevision, live: false, pending: [], upTo: this.lastRevision, closed: false,
    };
    const handle: Watch = { close: () => this.unsubscribe(sub) };
    if (this.closed) return handle;
    this.subscribers.add(sub);
    void this.start(sub);
    return handle;
  }

  /** Stops the timer and drops every watcher; no callbacks follow. */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    for (const sub of this.subscribers) sub.closed = true;
    this.subscribers.clear();
    this.ring = [];
    this.latest.clear();
  }

  /** Replays what the watcher missed, then flushes what arrived meanwhile and goes live. */
  private async start(sub: Subscriber): Promise<void> {
    // A microtask first, so no callback runs before watch() has returned its handle.
    await Promise.resolve();
    if (sub.closed) return;
    const after = sub.options.afterRevision;
    if (after < this.compacted) {
      this.fail(sub, new CompactedError(after, this.compacted));
      return;
    }
    const upTo = sub.upTo;
    let replay: WatchEvent[] = [];
    if (after < upTo) {
      if (after >= this.ringStart) {
        replay = this.fromRing(after).filter((e) => e.revision <= upTo && e.kv.key.startsWith(sub.prefix));
      } else {
        try {
          replay = await this.source.history(sub.prefix, after, upTo);
        } catch (err) {
          this.fail(sub, err as Error);
          return;
        }
        if (sub.closed) return;
      }
    }
    // Everything published after `upTo` is in `pending`; both lists are revision-ordered.
    const events = replay.concat(sub.pending).filter((e) => e.revision > after);
    sub.pending = [];
    sub.live = true;
    if (events.length > 0) this.deliver(sub, events);
  }

  /** Events in the ring with a revision above `after` (binary search: the ring is revision-ordered). */
  private fromRing(after: number): WatchEvent[] {
    let lo = 0;
    let hi = this.ring.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ring[mid].revision <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.ring.slice(lo);
  }

  /**
   * An update's or delete's previous value is, byte for byte, the value of the key's event before it;
   * the store read it again (SQLite's old_value column, etcd's prev_kv), so the ring held each value
   * twice. When that event is still in the ring, the new one points at its KeyValue instead.
   */
  private shareValues(e: WatchEvent): void {
    const key = e.kv.key;
    const before = this.latest.get(key);
    this.latest.set(key, e);
    const prev = e.prevKv;
    if (!before || !prev || before.type === 'delete' || prev.modRevision !== before.kv.modRevision || prev.value !== before.kv.value) return;
    e.prevKv = before.kv;
    if (e.type === 'delete') e.kv = { ...e.kv, value: before.kv.value };
  }

  private trimRing(): void {
    // Trim in chunks (a fifth of the ring) so the cost is amortised O(1) per event; the slack is what
    // the ring holds above ringSize, each event with its values, so it is kept small.
    if (this.ring.length <= this.ringSize + (this.ringSize >> 2)) return;
    const drop = this.ring.length - this.ringSize;
    for (let i = 0; i < drop; i++) {
      const e = this.ring[i];
      if (this.latest.get(e.kv.key) === e) this.latest.delete(e.kv.key);
    }
    this.ringStart = this.ring[drop - 1].revision;
    this.ring = this.ring.slice(drop);
  }

  private deliver(sub: Subscriber, events: WatchEvent[]): void {
    sub.cursor = events[events.length - 1].revision;
    try {
      sub.options.onEvents(events);
    } catch (err) {
      // A throwing watcher must not break the fan-out for the others: end it.
      this.fail(sub, err as Error);
    }
  }

  private tick(): void {
    if (this.closed) return;
    try {
      this.opts.refresh?.();
    } catch {
      // A failed poll is retried on the next tick; progress below stays truthful either way.
    }
    for (const sub of this.subscribers) {
      if (!sub.live || sub.closed || !sub.options.onProgress) continue;
      try {
        sub.options.onProgress(Math.max(sub.cursor, this.lastRevision));
      } catch (err) {
        this.fail(sub, err as Error);
      }
    }
  }

  private fail(sub: Subscriber, err: Error): void {
    if (sub.closed) return;
    this.unsubscribe(sub);
    sub.options.onError(err);
  }

  private unsubscribe(sub: Subscriber): void {
    sub.closed = true;
    sub.pending = [];
    this.subscribers.delete(sub);
  }
}
