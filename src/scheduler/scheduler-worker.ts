/**
 * The scheduler's worker thread (the module scheduler-thread.ts starts): `startScheduler` on a
 * PortClient to the API server of this process, with informers of its own. kube-scheduler's
 * `app.Run`, in a thread instead of a process.
 */
import { runPortWorker } from '../client/port-worker.ts';
import { startScheduler, type SchedulerOptions } from './scheduler.ts';
import { schedulerRegistry } from './scheduler-metrics.ts';

runPortWorker<SchedulerOptions>(async ({ client, log, data }) => {
  const scheduler = await startScheduler(client, log, data);
  return {
    stop: () => scheduler.stop(),
    calls: {
      metrics: () => schedulerRegistry.getMetricsAsJSON(),
      // For tests of the supervision: an uncaught error, as a bug in the loop would throw.
      crash: () => { setImmediate(() => { throw new Error('crash requested'); }); },
    },
  };
});
