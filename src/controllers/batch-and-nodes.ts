/**
 * Starts the batch and node controllers — Job, CronJob, DaemonSet, node lifecycle (with taint
 * eviction) and ServiceAccounts — on a shared InformerFactory, so their informers are shared with the
 * workload controllers started from workloads.ts.
 */
import type { Client } from '../client/client.ts';
import type { RunningController } from '../client/controller.ts';
import type { InformerFactory } from '../client/informer-factory.ts';
import type { Logger } from '../util/log.ts';
import type { Clock } from './cronjob/clock.ts';
import { CronJobController } from './cronjob/cronjob-controller.ts';
import { DaemonSetController } from './daemonset/daemonset-controller.ts';
import { JobController } from './job/job-controller.ts';
import { NodeLifecycleController } from './node-lifecycle/node-lifecycle-controller.ts';
import { ServiceAccountController } from './serviceaccount/serviceaccount-controller.ts';

/** Options for {@link startBatchAndNodeControllers}. */
export interface BatchAndNodeOptions {
  /** Seconds without a node heartbeat before the node is Unknown; default 20. */
  nodeGracePeriodSeconds?: number;
  /** "Now" for the CronJob, Job and node lifecycle controllers; default the real clock. */
  clock?: Clock;
  /** Job pod back-off; default 10 s doubling to 6 min. */
  jobBackoff?: { baseMs: number; maxMs: number };
}

/** Starts the controllers and resolves once the factory's informers have synced. */
export async function startBatchAndNodeControllers(client: Client, factory: InformerFactory, log: Logger, opts: BatchAndNodeOptions = {}): Promise<{ stop(): Promise<void> }> {
  const clock = opts.clock;
  const job = new JobController(client, factory, log.child({ controller: 'job' }), { clock, backoff: opts.jobBackoff });
  const cron = new CronJobController(client, factory, log.child({ controller: 'cronjob' }), { clock });
  const ds = new DaemonSetController(client, factory, log.child({ controller: 'daemonset' }));
  const nodes = new NodeLifecycleController(client, factory, log.child({ controller: 'node-lifecycle' }), { clock, gracePeriodSeconds: opts.nodeGracePeriodSeconds });
  const sa = new ServiceAccountController(client, factory, log.child({ controller: 'serviceaccount' }));
  factory.start();
  await factory.waitForSync();
  const running: RunningController[] = [job.run(2), cron.run(1), ds.run(2), nodes.run(2), sa.run(1)];
  return {
    async stop() {
      await Promise.all(running.map((r) => r.stop()));
    },
  };
}
