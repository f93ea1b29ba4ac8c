/**
 * The controllers and the scheduler of a control plane (kube-controller-manager + kube-scheduler
 * under leader election). With `controllers` on, whichever `berth server` holds the
 * `kube-system/berth-controller-manager` Lease runs every controller descriptor
 * (controllers/descriptors.ts) on one shared InformerFactory, and the scheduler; two servers on one
 * etcd run one active set, and a standby takes over when the leader stops renewing.
 *
 * With `controllers` off (a server for tests of single parts) there is no controller manager and no
 * Lease, but the descriptors marked `apiSemantics` — namespace lifecycle, the garbage collector and
 * the ServiceAccount controller — still run: without them `kubectl delete namespace` and
 * foreground/orphan deletes never finish, and no pod passes ServiceAccount admission.
 *
 *   controllers on:  LeaderElector ─leading─▶ startControllers(every descriptor) + scheduler
 *   controllers off: startControllers(descriptors with apiSemantics), at once
 *
 * Least privilege (with `clientAs`): the Lease, the shared informers and the manager's events are
 * system:kube-controller-manager's; each controller writes as its own ServiceAccount-style user
 * `system:serviceaccount:kube-system:<account>` (kube-controller-manager's
 * --use-service-account-credentials), bound to `system:controller:<account>`; the scheduler is
 * system:kube-scheduler. Every one is authorized like an HTTP client: a bug in one cannot do what its
 * role does not grant.
 *
 * With `schedulerThread` (the default) the scheduler runs on a worker thread of this process
 * (scheduler/scheduler-thread.ts) with informers of its own, its requests answered here as
 * system:kube-scheduler: the API server's event loop keeps its core, the scheduler takes the other.
 */
import { hostname } from 'node:os';
import type { UserInfo } from '../auth/attributes.ts';
import { controllerUser } from '../auth/rbac/controller-policy.ts';
import type { Client } from '../client/client.ts';
import { EventRecorder, clientEventSink } from '../client/event-recorder.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { LeaderElector } from '../client/leader-election.ts';
import type { ControllerSettings } from '../controllers/controller-descriptor.ts';
import type { ClusterSigning } from '../controllers/certificates/csr-signing-controller.ts';
import type { TokensControllerOptions } from '../controllers/serviceaccount-tokens/tokens-controller.ts';
import { CONTROLLER_DESCRIPTORS } from '../controllers/descriptors.ts';
import { startControllers, type StartContext } from '../controllers/start-controllers.ts';
import type { Registry } from '../registry/registry.ts';
import { startScheduler } from '../scheduler/scheduler.ts';
import { startSchedulerThread } from '../scheduler/scheduler-thread.ts';
import type { Logger } from '../util/log.ts';

export interface ControlLoopOptions {
  /** Run every controller and the scheduler under the Lease; off: only the API's own controllers, no Lease. */
  controllers: boolean;
  /** The server's registry: the resources it serves, and namespaces/finalize. */
  registry: Registry;
  /** Seconds without a Lease renewal before a node is NotReady (default 20). */
  nodeGracePeriodSeconds?: number;
  /** Terminated pods the pod GC keeps (default 12,500). */
  terminatedPodGcThreshold?: number;
  /** Seconds before a replica on a node that is not Ready is rebuilt elsewhere (default 30). */
  replicaRebuildDelaySeconds?: number;
  leaseDurationSeconds?: number;
  /** The client acting as `user` (authorized as that user); without it every loop uses the given client. */
  clientAs?: (user: UserInfo) => Client;
  /** The cluster CA and the ServiceAccount token signer (root-ca publisher, tokens controller). */
  serviceAccountTokens?: TokensControllerOptions;
  /** The CA files the CSR signer signs with (kube-controller-manager's --cluster-signing-*-file). */
  clusterSigning?: ClusterSigning;
  /** Node IPAM: the cluster pod range, each node's prefix length, the service range (see ControllerSettings). */
  clusterCidr?: string;
  nodeCidrMaskSize?: number;
  serviceCidr?: string;
  /** How controllers reach node agents (the HPA controller reads their metrics). */
  agentTls?: ControllerSettings['agentTls'];
  /** The scheduler on a worker thread (its own informers; default) instead of this thread on the controllers' factory (false). */
  schedulerThread?: boolean;
}

/** The controller manager's own identity: the Lease, the shared informers, the manager's events. */
export const CONTROLLER_MANAGER_USER: UserInfo = { name: 'system:kube-controller-manager', groups: ['system:authenticated'] };
export const SCHEDULER_USER: UserInfo = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };

/**
 * Controller accounts whose name is not `<descriptor name>-controller` (upstream's account names);
 * `null`: the controller runs as the manager itself, as upstream starts it with its root client
 * (the ServiceAccount token controller).
 */
const ACCOUNTS: Record<string, string | null> = {
  'garbage-collector': 'generic-garbage-collector',
  daemonset: 'daemon-set-controller',
  'node-lifecycle': 'node-controller',
  // Upstream starts nodeipam with the node-controller's credentials too.
  'node-ipam': 'node-controller',
  serviceaccount: 'service-account-controller',
  'serviceaccount-token': null,
  'root-ca-cert-publisher': 'root-ca-cert-publisher',
  endpoints: 'endpoint-controller',
  'persistentvolume-binder': 'persistent-volume-binder',
  'local-path-provisioner': 'local-path-provisioner',
  csrapproving: 'certificate-controller',
  csrsigning: 'certificate-controller',
  tokencleaner: 'token-cleaner',
  replicationcontroller: 'replication-controller',
  'horizontal-pod-autoscaler': 'horizontal-pod-autoscaler',
  'pod-garbage-collector': 'pod-garbage-collector',
};

/** The ServiceAccount-style account a controller acts as (`system:controller:<account>` is its role); null: the manager's own identity. */
export function controllerAccount(name: string): string | null {
  const a = ACCOUNTS[name];
  return a === undefined ? `${name}-controller` : a;
}

/** The user a controller acts as. */
export function controllerIdentity(name: string): UserInfo {
  const account = controllerAccount(name);
  return account === null ? CONTROLLER_MANAGER_USER : controllerUser(account);
}

export interface ControlLoops {
  isLeader(): boolean;
  stop(): Promise<void>;
}

type Stoppable = { stop(): Promise<void> };

export async function startControlLoops(apiClient: Client, log: Logger, opts: ControlLoopOptions): Promise<ControlLoops> {
  const settings: ControllerSettings = {
    nodeGracePeriodSeconds: opts.nodeGracePeriodSeconds, terminatedPodGcThreshold: opts.terminatedPodGcThreshold, replicaRebuildDelaySeconds: opts.replicaRebuildDelaySeconds, clusterSigning: opts.clusterSigning,
    clusterCidr: opts.clusterCidr, nodeCidrMaskSize: opts.nodeCidrMaskSize, serviceCidr: opts.serviceCidr, agentTls: opts.agentTls,
  };
  const as = opts.clientAs;
  const client = as ? as(CONTROLLER_MANAGER_USER) : apiClient;
  const ctx: StartContext = {
    client, log, registry: opts.registry, resources: opts.registry.types.map((t) => t.info), settings, serviceAccountTokens: opts.serviceAccountTokens,
    clientFor: as ? (d) => as(controllerIdentity(d.name)) : undefined,
  };
  if (!opts.controllers) {
    const running = await startControllers(CONTROLLER_DESCRIPTORS.filter((d) => d.apiSemantics), ctx);
    return { isLeader: () => false, stop: () => running.stop() };
  }
  // Starting takes a while (informers list first): losing the Lease meanwhile must stop what it started.
  let starting: Promise<Stoppable[]> | undefined;
  const startAll = async (): Promise<Stoppable[]> => {
    log.info('leading: starting controllers and scheduler');
    // One recorder for the manager, as client-go has one broadcaster: its controllers share the aggregation.
    const recorder = new EventRecorder({ sink: clientEventSink(client), source: { component: 'kube-controller-manager' }, log });
    // One informer factory for the controllers and the scheduler: the leader keeps one pod cache, not two.
    const factory = new InformerFactory(client, { log });
    const running = await startControllers(CONTROLLER_DESCRIPTORS, { ...ctx, recorder, factory });
    const schedulerClient = as ? as(SCHEDULER_USER) : client;
    const schedulerLog = log.child({ component: 'scheduler' });
    const scheduler = (opts.schedulerThread ?? true)
      ? await startSchedulerThread(schedulerClient, schedulerLog)
      : await startScheduler(schedulerClient, schedulerLog, { factory });
    const controllers: Stoppable = { async stop() { await running.stop(); await recorder.close(); factory.stop(); } };
    return [scheduler, controllers];
  };
  const stopAll = async () => {
    const s = starting;
    starting = undefined;
    // A start that failed was logged where it failed; there is nothing of it to stop.
    const running = await s?.catch((): Stoppable[] => []) ?? [];
    await Promise.all(running.map((x) => x.stop().catch((err) => log.warn('stop failed', { error: String(err) }))));
  };
  const elector = new LeaderElector(client, {
    name: 'berth-controller-manager',
    identity: `${hostname()}-${process.pid}`,
    // 10 s (Kubernetes' components use 15): a crashed leader is replaced within ~12 s.
    leaseDurationSeconds: opts.leaseDurationSeconds ?? 10,
    // Not awaited: the elector keeps renewing while the informers list (which can outlast the Lease).
    onStartedLeading: () => {
      starting = startAll();
      starting.catch((err) => log.error('starting controllers failed', { error: String(err) }));
    },
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
