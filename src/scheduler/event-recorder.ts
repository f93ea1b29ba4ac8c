/**
 * Scheduler events (core/v1 Event, source default-scheduler) with aggregation: a repeat of the same
 * reason and message for the same pod bumps `count` and `lastTimestamp` of the one Event, written at
 * most once per `minIntervalMs` per pod, so a pod retried every few seconds does not flood the store.
 */
import type { KubeObject } from '../apis/object.ts';
import type { Client } from '../client/client.ts';
import { R } from '../client/client.ts';
import { isNotFound } from '../client/errors.ts';
import type { Logger } from '../util/log.ts';
import { rfc3339 } from '../apis/time.ts';

const COMPONENT = 'default-scheduler';

interface Series {
  name: string;
  reason: string;
  message: string;
  count: number;
  written: number;
  lastWrite: number;
  firstTimestamp: string;
  timer?: NodeJS.Timeout;
}

/** Writes and aggregates the scheduler's events. */
export class EventRecorder {
  /** Aggregation state per pod uid, then per reason (forget is per pod: O(1), not a scan). */
  private readonly series = new Map<string, Map<string, Series>>();
  private readonly pending = new Set<Promise<unknown>>();
  private seq = 0;

  constructor(private readonly client: Client, private readonly log: Logger, private readonly minIntervalMs = 10_000) {}

  /**
   * Records an event that happens once per pod (Scheduled): nothing to aggregate, so no state is
   * kept (30,000 bound pods would otherwise hold 30,000 series until they are deleted).
   */
  recordOnce(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.track(this.create(pod, type, this.newSeries(pod, reason, message)));
  }

  /** Records an event about a pod; repeats of the same reason+message aggregate. */
  record(pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const uid = pod.metadata.uid ?? '';
    let forPod = this.series.get(uid);
    if (!forPod) this.series.set(uid, (forPod = new Map()));
    const s = forPod.get(reason);
    if (s && s.message === message) {
      s.count++;
      if (!s.timer) {
        const wait = Math.max(0, s.lastWrite + this.minIntervalMs - Date.now());
        s.timer = setTimeout(() => { s.timer = undefined; this.track(this.flush(pod, s)); }, wait);
        s.timer.unref();
      }
      return;
    }
    if (s?.timer) clearTimeout(s.timer);
    const series = this.newSeries(pod, reason, message);
    forPod.set(reason, series);
    this.track(this.create(pod, type, series));
  }

  private newSeries(pod: KubeObject, reason: string, message: string): Series {
    return {
      name: `${pod.metadata.name}.${Date.now().toString(16)}${(this.seq++ % 4096).toString(16)}`,
      reason, message, count: 1, written: 0, lastWrite: Date.now(), firstTimestamp: rfc3339(),
    };
  }

  /** Drops the aggregation state of a pod that is gone or scheduled. */
  forget(uid: string): void {
    const forPod = this.series.get(uid);
    if (!forPod) return;
    for (const s of forPod.values()) if (s.timer) clearTimeout(s.timer);
    this.series.delete(uid);
  }

  /** Waits for event writes in flight and cancels deferred ones. */
  async close(): Promise<void> {
    for (const forPod of this.series.values()) for (const s of forPod.values()) if (s.timer) clearTimeout(s.timer);
    await Promise.allSettled([...this.pending]);
  }

  private track(p: Promise<unknown>): void {
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async create(pod: KubeObject, type: string, s: Series): Promise<void> {
    const { namespace, name, uid, resourceVersion } = pod.metadata;
    s.written = s.count;
    s.lastWrite = Date.now();
    try {
      await this.client.create(R.events, namespace, {
        apiVersion: 'v1', kind: 'Event',
        metadata: { name: s.name, namespace },
        involvedObject: { apiVersion: 'v1', kind: 'Pod', name, namespace, uid, resourceVersion },
        reason: s.reason, message: s.message, type,
        source: { component: COMPONENT }, reportingComponent: COMPONENT, reportingInstance: 'berth',
        firstTimestamp: s.firstTimestamp, lastTimestamp: rfc3339(), count: s.count,
      });
    } catch (err) {
      this.log.debug('event not written', { pod: `${namespace}/${name}`, reason: s.reason, error: String(err) });
    }
  }

  private async flush(pod: KubeObject, s: Series): Promise<void> {
    if (s.count === s.written) return;
    s.written = s.count;
    s.lastWrite = Date.now();
    try {
      await this.client.patch(R.events, pod.metadata.namespace, s.name, 'merge', { count: s.count, lastTimestamp: rfc3339() });
    } catch (err) {
      if (isNotFound(err)) return this.create(pod, 'Warning', s);
      this.log.debug('event not updated', { event: s.name, error: String(err) });
    }
  }
}
