/**
 * The work queues' Prometheus metrics (client-go's workqueue metrics, util/workqueue/metrics.go):
 * depth, adds, time in queue, time being worked on, retries and unfinished work, by queue name — one
 * registry for every queue of the process, filled by RateLimitedQueue once the shared reconcile
 * loop names it (controller.ts). The API server's /metrics serves this registry.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const workqueueRegistry = new Registry();

/** client-go's buckets: 1 µs … 10 s, ×10. */
const BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10];

/** What a named queue reports when scraped. */
export interface QueueGauges {
  depth(): number;
  /** Seconds the oldest item being processed has been at it, and the sum over all of them. */
  unfinished(now: number): { sum: number; longest: number };
}

const live = new Map<string, Set<QueueGauges>>();

const registers = [workqueueRegistry];
export const queueMetrics = {
  adds: new Counter({ name: 'workqueue_adds_total', help: 'Total number of adds handled by workqueue', labelNames: ['name'], registers }),
  retries: new Counter({ name: 'workqueue_retries_total', help: 'Total number of retries handled by workqueue', labelNames: ['name'], registers }),
  queueDuration: new Histogram({ name: 'workqueue_queue_duration_seconds', help: 'How long in seconds an item stays in workqueue before being requested.', labelNames: ['name'], buckets: BUCKETS, registers }),
  workDuration: new Histogram({ name: 'workqueue_work_duration_seconds', help: 'How long in seconds processing an item from workqueue takes.', labelNames: ['name'], buckets: BUCKETS, registers }),
};

new Gauge({
  name: 'workqueue_depth', help: 'Current depth of workqueue', labelNames: ['name'], registers,
  collect() {
    this.reset();
    for (const [name, queues] of live) this.set({ name }, [...queues].reduce((s, q) => s + q.depth(), 0));
  },
});
new Gauge({
  name: 'workqueue_unfinished_work_seconds', help: 'How many seconds of work has been done that is in progress and hasn\'t been observed by work_duration.', labelNames: ['name'], registers,
  collect() {
    this.reset();
    const now = Date.now();
    for (const [name, queues] of live) this.set({ name }, [...queues].reduce((s, q) => s + q.unfinished(now).sum, 0));
  },
});
new Gauge({
  name: 'workqueue_longest_running_processor_seconds', help: 'How many seconds has the longest running processor for workqueue been running.', labelNames: ['name'], registers,
  collect() {
    this.reset();
    const now = Date.now();
    for (const [name, queues] of live) this.set({ name }, Math.max(0, ...[...queues].map((q) => q.unfinished(now).longest)));
  },
});

/** Lists a queue under `name` for the gauges until the returned function is called. */
export function registerQueue(name: string, q: QueueGauges): () => void {
  let set = live.get(name);
  if (!set) live.set(name, (set = new Set()));
  set.add(q);
  return () => {
    set!.delete(q);
    if (!set!.size) live.delete(name);
  };
}
