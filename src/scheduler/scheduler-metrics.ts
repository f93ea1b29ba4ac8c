/**
 * The scheduler's Prometheus metrics (pkg/scheduler/metrics/metrics.go): attempts by result
 * (scheduled, unschedulable, error), the duration of each attempt, and the pending pods by queue
 * (active, backoff, unschedulable, gated) — one registry per process; the API server's /metrics
 * serves it. With the scheduler in a worker thread (scheduler-thread.ts) its metrics live in that
 * thread's copy of this module: `mirrorSchedulerMetrics` makes this thread's metrics read them.
 */
import { getHeapStatistics } from 'node:v8';
import { isMainThread } from 'node:worker_threads';
import { Counter, Gauge, Histogram, Registry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

export const schedulerRegistry = new Registry();

const registers = [schedulerRegistry];
const PROFILE = 'default-scheduler';

const attempts = new Counter({ name: 'scheduler_schedule_attempts_total', help: 'Number of attempts to schedule pods, by the result. \'unschedulable\' means a pod could not be scheduled, while \'error\' means an internal scheduler problem.', labelNames: ['result', 'profile'], registers });
const attemptDuration = new Histogram({ name: 'scheduler_scheduling_attempt_duration_seconds', help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)', labelNames: ['result', 'profile'], buckets: [0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192, 16.384], registers });

/** The queues of the running schedulers (usually one), read when scraped. */
const queues = new Set<() => { active: number; backoff: number; unschedulable: number }>();
new Gauge({
  name: 'scheduler_pending_pods', help: 'Number of pending pods, by the queue type. \'active\' means number of pods in activeQ; \'backoff\' means number of pods in backoffQ; \'unschedulable\' means number of pods in unschedulablePods.', labelNames: ['queue'], registers,
  collect() {
    this.reset();
    const sum = { active: 0, backoff: 0, unschedulable: 0, gated: 0 };
    for (const q of queues) { const s = q(); sum.active += s.active; sum.backoff += s.backoff; sum.unschedulable += s.unschedulable; }
    for (const [queue, n] of Object.entries(sum)) this.set({ queue }, n);
  },
});

/** Reports a scheduler's queue sizes until the returned function is called. */
export function registerSchedulingQueue(sizes: () => { active: number; backoff: number; unschedulable: number }): () => void {
  queues.add(sizes);
  return () => queues.delete(sizes);
}

/** One scheduling attempt: `startedAt` from performance.now(). */
export function observeAttempt(result: 'scheduled' | 'unschedulable' | 'error', startedAt: number): void {
  attempts.inc({ result, profile: PROFILE });
  attemptDuration.observe({ result, profile: PROFILE }, (performance.now() - startedAt) / 1000);
}

const droppedEvents = new Counter({ name: 'scheduler_events_dropped_total', help: 'Scheduled events dropped because the event queue was full (client-go drops when its broadcaster queue is full).', registers });

/** One event dropped by the scheduler's full event queue. */
export function observeDroppedEvent(): void {
  droppedEvents.inc();
}

// The scheduler thread's own V8 heap (its informers' pods and nodes, its snapshot): the API server's
// nodejs_heap_* metrics are the main thread's only. Read in the thread whose registry is scraped (the
// worker's, mirrored); 0 when the scheduler runs on the API server's event loop.
new Gauge({
  name: 'berth_scheduler_thread_heap_used_bytes', help: 'V8 heap in use on the scheduler\'s worker thread (0 when the scheduler runs on the main thread).', registers,
  collect() { this.set(isMainThread ? 0 : getHeapStatistics().used_heap_size); },
});

const threadRestarts = new Counter({ name: 'berth_scheduler_thread_restarts_total', help: 'Times the scheduler\'s worker thread ended unasked and was started again (a crash; see the server log).', registers });

/** The scheduler's worker thread was restarted after a crash. */
export function observeThreadRestart(): void {
  threadRestarts.inc();
}

/** A registry's metrics as `getMetricsAsJSON` gives them. */
export type MetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[];

/**
 * Counted on the thread that serves /metrics, not mirrored: the thread's restarts (it cannot count
 * its own crashes) and the dropped Scheduled events (recorded there, scheduled-events.ts recordingScheduled).
 */
const OWN_ON_MAIN_THREAD = new Set(['berth_scheduler_thread_restarts_total', 'scheduler_events_dropped_total']);

/**
 * Until the returned function is called, this thread's scheduler metrics (the ones /metrics serves)
 * answer with the values `fetch` returns — the worker thread's registry — fetched once per scrape;
 * a failed fetch (the worker restarting) shows this thread's own, idle values. OWN_ON_MAIN_THREAD's
 * stay this thread's.
 */
export function mirrorSchedulerMetrics(fetch: () => Promise<MetricsSnapshot>): () => void {
  let inFlight: Promise<MetricsSnapshot | undefined> | undefined;
  const snapshot = () => {
    // One fetch serves every metric of one scrape (the registry asks each in turn).
    inFlight ??= fetch().catch(() => undefined).finally(() => setTimeout(() => { inFlight = undefined; }, 100).unref());
    return inFlight;
  };
  const patched: { get: () => Promise<unknown> }[] = [];
  for (const metric of schedulerRegistry.getMetricsAsArray() as unknown as { name: string; get: () => Promise<unknown> }[]) {
    if (OWN_ON_MAIN_THREAD.has(metric.name)) continue;
    const own = metric.get.bind(metric);
    metric.get = async () => (await snapshot())?.find((m) => m.name === metric.name) ?? own();
    patched.push(metric);
  }
  return () => {
    for (const m of patched) delete (m as { get?: unknown }).get;
  };
}
