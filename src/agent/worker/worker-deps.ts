/**
 * What a pod worker needs from the agent around it: the API client, the node's facts, the runtime
 * drivers, the pod network, event recording and restart back-off shared by all pods.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Client } from '../../client/client.ts';
import type { Logger } from '../../util/log.ts';
import type { RuntimeDriver } from '../runtime/driver.ts';
import type { CrashLoopBackoff } from '../pod/backoff.ts';
import type { EventRecorder } from '../pod/events.ts';
import type { ObjectLookup } from '../pod/lookup.ts';
import type { NodeAllocatable } from '../pod/field-ref.ts';
import type { PodImagePuller } from './image-pull.ts';

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
  /** The driver for one container: its runtime annotation, else the pod's RuntimeClass, else the default. */
  pickDriver(pod: KubeObject, containerName: string): Promise<RuntimeDriver>;
}
