/**
 * Starts the workload controllers this module owns — ReplicaSet and Deployment — on one shared
 * InformerFactory over a Client. (DaemonSet, Job, CronJob and friends start from their own function;
 * the server joins both.)
 */
import type { Client } from '../client/client.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import type { RunningController } from '../client/controller.ts';
import type { Logger } from '../util/log.ts';
import { ReplicaSetController } from './replicaset/replicaset-controller.ts';
import { DeploymentController } from './deployment/deployment-controller.ts';

/** Options for {@link startWorkloadControllers}. */
export interface WorkloadControllerOptions {
  /** Reuse an existing factory (its informers are shared); default a new one, stopped with these controllers. */
  factory?: InformerFactory;
  /** Workers per controller; default 2. */
  workers?: number;
}

/** Starts the ReplicaSet and Deployment controllers; resolves once their informers have synced. */
export async function startWorkloadControllers(client: Client, log: Logger, opts: WorkloadControllerOptions = {}): Promise<{ stop(): Promise<void> }> {
  const factory = opts.factory ?? new InformerFactory(client, { log });
  const rs = new ReplicaSetController(client, factory, log.child({ controller: 'replicaset' }));
  const deploy = new DeploymentController(client, factory, log.child({ controller: 'deployment' }));
  factory.start();
  await factory.waitForSync();
  const running: RunningController[] = [rs.run(opts.workers ?? 2), deploy.run(opts.workers ?? 2)];
  return {
    async stop() {
      await Promise.all(running.map((r) => r.stop()));
      if (!opts.factory) factory.stop();
    },
  };
}
