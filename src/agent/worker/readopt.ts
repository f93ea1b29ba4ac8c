/**
 * Taking over what an earlier agent left running (the kubelet's start-up reconciliation): a worker
 * for every pod bound here, given back its network (PodNetwork.recover), its completed init
 * containers (from the pod's status) and its running containers (driver.recover, by the pod uid
 * and restart count in each container id). Containers of pods no longer bound here are destroyed,
 * networks of pods no longer here torn down. Then every worker syncs once.
 *
 * Runs before the pod source follows the API, so no worker acts before it knows what still runs.
 * Fencing (fence-guard.ts): only pods this node may run are adopted — a pod listed here but bound
 * to another node, or carrying a fence that names this node, is treated as gone, so its containers
 * are destroyed before anything else starts (and before the agent's heartbeat is armed again).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Logger } from '../../util/log.ts';
import type { ContainerHandle, RuntimeDriver } from '../runtime/driver.ts';
import { parseContainerId, type SandboxInfo } from './container-spec.ts';
import { mayRunHere } from './fence-guard.ts';
import type { TableWorker, WorkerTable } from './worker-table.ts';

/** What re-adoption does to a new worker (PodWorker; tests fake it). */
export interface AdoptingWorker extends TableWorker {
  adoptSandbox(sandbox: SandboxInfo): void;
  adoptCompletedInit(): void;
  adopt(name: string, driver: RuntimeDriver, id: string, restartCount: number, handle: ContainerHandle): void;
}

export interface ReadoptOptions<W extends AdoptingWorker> {
  /** The pods bound to this node now (the pod informer's first list). */
  pods: KubeObject[];
  workers: WorkerTable<W>;
  newWorker(pod: KubeObject): W;
  network: {
    recover(): Promise<Map<string, { netnsPath: string; ip: string }>>;
    cleanupOrphans(liveUids: Iterable<string>): Promise<unknown>;
  };
  drivers: Iterable<RuntimeDriver>;
  log: Logger;
  /** This node: pods not bound to it or fenced away from it are not adopted (absent: every listed pod is). */
  nodeName?: string;
}

export async function readoptPods<W extends AdoptingWorker>(o: ReadoptOptions<W>): Promise<void> {
  const pods = o.nodeName === undefined ? o.pods : o.pods.filter((p) => {
    if (mayRunHere(p, o.nodeName!)) return true;
    o.log.warn('not re-adopting a pod moved away from this node', { pod: `${p.metadata.namespace}/${p.metadata.name}`, nodeName: p.spec?.nodeName });
    return false;
  });
  const live = new Set(pods.map((p) => p.metadata.uid!));
  const nets = await o.network.recover();
  for (const pod of pods) {
    const w = o.newWorker(pod);
    const net = nets.get(w.uid);
    if (net) w.adoptSandbox({ netnsPath: net.netnsPath, ip: net.ip });
    w.adoptCompletedInit();
    o.workers.add(w);
  }
  for (const driver of o.drivers) {
    for (const id of await driver.list()) {
      const parsed = parseContainerId(id);
      const w = parsed && o.workers.get(parsed.podUid);
      const handle = w ? await driver.recover(id).catch(() => undefined) : undefined;
      if (w && handle && parsed) w.adopt(parsed.name, driver, id, parsed.restartCount, handle);
      else await driver.destroy(id).catch((err) => o.log.warn('orphan container cleanup failed', { id, error: String(err) }));
    }
  }
  await o.network.cleanupOrphans(live);
  for (const w of o.workers) w.schedule();
}
