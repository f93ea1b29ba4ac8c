/**
 * What a pod worker needs from the agent around it: the API client, the node's facts, the node
 * runtime (drivers), the pod network, event recording and restart back-off shared by all pods —
 * and `buildWorkerDeps`, which assembles them once per agent.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import type { Logger } from '../../util/log.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import { CrashLoopBackoff, type BackoffOptions } from '../pod/backoff.ts';
import type { EventRecorder } from '../../client/event-recorder.ts';
import type { ObjectLookup } from '../pod/lookup.ts';
import type { NodeAllocatable } from '../pod/field-ref.ts';
import { PodImagePuller, type ImageSource } from './image-pull.ts';
import { ServiceAccountTokens } from '../pod/service-account-tokens.ts';

/** Where pods' cgroups go unless the agent is given another root. */
export const DEFAULT_CGROUP_ROOT = 'berth';

/** The part of the node runtime (../runtime/node-runtime.ts) a worker uses. */
export interface PodRuntime {
  /** The driver for one container: its runtime annotation, else the pod's RuntimeClass, else the default. */
  pick(pod: KubeObject, containerName: string): Promise<RuntimeDriver>;
  /** After every container of the pod is destroyed: the pod's cgroup and what drivers keep per pod. */
  cleanupPod(cgroupParent: string): Promise<void>;
}

/** The part of PodNetwork a worker uses (tests may fake it). */
export interface PodNetworkLike {
  /** `onNetns`: told as soon as the namespace exists, before the CNI ADD. */
  setup(pod: { uid: string; name: string; namespace: string }, opts?: { onNetns?: (netnsPath: string) => void }): Promise<{ netnsPath: string; ip: string }>;
  teardown(uid: string): Promise<void>;
}

export interface WorkerDeps {
  client: Client;
  nodeName: string;
  hostIP: string;
  dataDir: string;
  network: PodNetworkLike;
  recorder: EventRecorder;
  backoff: CrashLoopBackoff;
  log: Logger;
  lookup: ObjectLookup;
  volumeLookup: { pvc(namespace: string, name: string): Promise<KubeObject | undefined>; pv(name: string): Promise<KubeObject | undefined> };
  nodeAllocatable?: NodeAllocatable;
  clusterDNS: string[];
  clusterDomain?: string;
  /** Image pulls for drivers that run images (runc); absent on a node without an image service. */
  images?: Pick<PodImagePuller, 'pull' | 'forget'>;
  runtime: PodRuntime;
  /** The Services the node knows (service link env); absent: containers get none. */
  services?: ServiceLister;
  /** Bound ServiceAccount tokens for projected volumes (TokenRequests through `client`). */
  tokens: ServiceAccountTokens;
  /**
   * The cgroup every pod's cgroup is made below (`<cgroupRoot>/pod-<uid>`; default `berth`): several
   * agents on one machine (berth lab) keep their pods apart, so one node's processes can be found and killed.
   */
  cgroupRoot?: string;
  /** Self-fencing of stateful pods' containers (the agent's heartbeat and fenceAfter); absent: off. */
  fence?: { heartbeatFile: string; afterMs: number };
}

/** Services from a cache: `synced` once it has listed (the kubelet builds no env before that). */
export interface ServiceLister {
  list(namespace: string): KubeObject[];
  synced(): boolean;
}

/** What buildWorkerDeps is given: the shared parts as they are, and the settings it builds the rest from. */
export interface WorkerDepsOptions extends Pick<WorkerDeps, 'client' | 'nodeName' | 'hostIP' | 'dataDir' | 'network' | 'recorder' | 'log' | 'runtime' | 'cgroupRoot' | 'fence'> {
  clusterDNS?: string[];
  /** Crash-loop back-off; the image pull back-off scales with it (tests shrink both). */
  backoff?: BackoffOptions;
  /** The node's image store, for drivers that run images. */
  images?: ImageSource;
  /** The Services informer (the kubelet's service lister, for service link env). */
  services?: { list(namespace?: string): KubeObject[]; synced(): Promise<void> };
}

const SERVICE_ACCOUNTS = { group: '', version: 'v1', resource: 'serviceaccounts' };

/** A lister that knows whether its informer has listed once. */
function serviceLister(informer: NonNullable<WorkerDepsOptions['services']>): ServiceLister {
  let synced = false;
  void informer.synced().then(() => { synced = true; });
  return { list: (ns) => informer.list(ns), synced: () => synced };
}

/** The dependencies every worker of this agent shares. */
export function buildWorkerDeps(o: WorkerDepsOptions): WorkerDeps {
  const lookup: ObjectLookup = {
    configMap: (ns, name) => o.client.get(R.configmaps, ns, name).catch(undefinedIfNotFound),
    secret: (ns, name) => o.client.get(R.secrets, ns, name).catch(undefinedIfNotFound),
  };
  return {
    client: o.client, nodeName: o.nodeName, hostIP: o.hostIP, dataDir: o.dataDir, network: o.network, log: o.log,
    recorder: o.recorder, runtime: o.runtime, lookup, cgroupRoot: o.cgroupRoot, fence: o.fence,
    services: o.services && serviceLister(o.services),
    // As the kubelet: the node asks for its pods' tokens, bound to each pod (NodeRestriction checks the binding).
    tokens: new ServiceAccountTokens((ns, sa, body) => o.client.create(SERVICE_ACCOUNTS, ns, body, 'token')),
    backoff: new CrashLoopBackoff(o.backoff),
    volumeLookup: {
      pvc: (ns, name) => o.client.get(R.persistentvolumeclaims, ns, name).catch(undefinedIfNotFound),
      pv: (name) => o.client.get(R.persistentvolumes, undefined, name).catch(undefinedIfNotFound),
    },
    nodeAllocatable: undefined,
    clusterDNS: o.clusterDNS ?? [],
    // Kubernetes' image pull back-off: 10 s doubling to 5 min (tests shrink it with the crash back-off).
    images: o.images && new PodImagePuller(o.images, o.recorder, lookup, { baseMs: o.backoff?.baseMs ?? 10_000, capMs: o.backoff?.capMs ?? 300_000 }),
  };
}

function undefinedIfNotFound(err: unknown): undefined {
  if (isNotFound(err)) return undefined;
  throw err;
}
