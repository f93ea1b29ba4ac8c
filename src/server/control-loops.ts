/**
 * The controllers and the scheduler of a control plane, run by whichever `berth server` holds the
 * `kube-system/berth-controller-manager` Lease: two servers on one etcd run one active set, and a
 * standby takes over when the leader stops renewing.
 *
 *   LeaderElector ─leading─▶ InformerFactory ─▶ workload (ReplicaSet, Deployment)
 *                                             ─▶ batch and nodes (Job, CronJob, DaemonSet, node lifecycle, ServiceAccount)
 *                                             ─▶ service network (EndpointSlice, Endpoints)
 *                                             ─▶ scheduler
 */
import { hostname } from 'node:os';
import type { Client } from '../client/client.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { LeaderElector } from '../client/leader-election.ts';
import { startWorkloadControllers } from '../controllers/workloads.ts';
import { startBatchAndNodeControllers } from '../controllers/batch-and-nodes.ts';
import { startScheduler } from '../scheduler/scheduler.ts';
import { startServiceNetworkControllers } from '../controllers/service-network.ts';
import type { Logger } from '../util/log.ts';

export interface ControlLoopOptions {
  /** Seconds without a Lease renewal before a node is NotReady (default 20). */
  nodeGracePeriodSeconds?: number;
  leaseDurationSeconds?: number;
}

export interface ControlLoops {
  isLeader(): boolean;
  stop(): Promise<void>;
}

export async function startControlLoops(client: Client, log: Logger, opts: ControlLoopOptions = {}): Promise<ControlLoops> {
  let running: { stop(): Promise<void> }[] = [];
  let factory: InformerFactory | undefined;
  const startAll = async () => {
    log.info('leading: starting controllers and scheduler');
    factory = new InformerFactory(client, { log });
    running = [
      await startWorkloadControllers(client, log, { factory }),
      await startBatchAndNodeControllers(client, factory, log, { nodeGracePeriodSeconds: opts.nodeGracePeriodSeconds }),
      await startServiceNetworkControllers(client, factory, log),
      await startScheduler(client, log.child({ component: 'scheduler' })),
    ];
    factory.start();
  };
  const stopAll = async () => {
    const r = running;
    running = [];
    await Promise.all(r.map((x) => x.stop().catch((err) => log.warn('stop failed', { error: String(err) }))));
    factory?.stop();
    factory = undefined;
  };
  const elector = new LeaderElector(client, {
    name: 'berth-controller-manager',
    identity: `${hostname()}-${process.pid}`,
    // 10 s (Kubernetes' components use 15): a crashed leader is replaced within ~12 s.
    leaseDurationSeconds: opts.leaseDurationSeconds ?? 10,
    onStartedLeading: startAll,
    onStoppedLeading: async () => { log.warn('lost leadership: stopping controllers and scheduler'); await stopAll(); },
    log,
  });
  elector.start();
  return {
    isLeader: () => elector.isLeader(),
    async stop() {
      await elector.stop();
      await stopAll();
    },
  };
}
