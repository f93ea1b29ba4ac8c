/**
 * The worker half of bench/port-events.ts: on a worker thread with a PortClient (port-worker.ts),
 * writes N Scheduled-like Events when the main thread calls `single` (one create per request, 512 in
 * flight: the old queue's writers) or `many` (createMany batches of 256, 16 in flight: the queue's
 * batches), and answers with the wall time in ms.
 */
import { runPortWorker } from '../../src/client/port-worker.ts';
import { R } from '../../src/client/client.ts';
import type { KubeObject } from '../../src/apis/object.ts';

let seq = 0;
const event = (): KubeObject => {
  const i = seq++;
  const ts = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    apiVersion: 'v1', kind: 'Event', metadata: { name: `p${i}.${(1e15 + i).toString(16)}`, namespace: 'sched' },
    involvedObject: { kind: 'Pod', namespace: 'sched', name: `p${i}`, uid: `0000-${i}`, apiVersion: 'v1', resourceVersion: String(i) },
    reason: 'Scheduled', message: `Successfully assigned sched/p${i} to sim-${i % 1000}`, type: 'Normal',
    source: { component: 'default-scheduler' }, reportingComponent: 'default-scheduler', reportingInstance: 'berth',
    count: 1, firstTimestamp: ts, lastTimestamp: ts,
  };
};

runPortWorker<{ n: number }>(async ({ client, data }) => {
  const N = data.n;
  return {
    stop: async () => {},
    calls: {
      // One create per request, 512 in flight (the old queue's writers); a failure fails the round.
      single: async () => {
        const t = performance.now();
        let next = 0;
        await Promise.all(Array.from({ length: 512 }, async () => {
          while (next < N) { next++; await client.create(R.events, 'sched', event()); }
        }));
        return performance.now() - t;
      },
      // createMany batches of 256, 16 in flight (the queue's 4,096 events).
      many: async () => {
        const t = performance.now();
        let next = 0;
        await Promise.all(Array.from({ length: 16 }, async () => {
          while (next < N) {
            const n = Math.min(256, N - next);
            next += n;
            const errs = await client.createMany(R.events, Array.from({ length: n }, () => ({ namespace: 'sched', object: event() })));
            const failed = errs.find((e) => e);
            if (failed) throw failed;
          }
        }));
        return performance.now() - t;
      },
    },
  };
});
