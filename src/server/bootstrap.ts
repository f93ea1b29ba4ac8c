/**
 * Objects a cluster has from its first start: the namespaces `default`, `kube-system`,
 * `kube-public` and `kube-node-lease`. Idempotent: existing ones are left alone. As Kubernetes'
 * system namespaces controller (pkg/controlplane/controller/systemnamespaces), a loop recreates one
 * that went missing — the first three cannot be deleted (registry.ts), but kube-node-lease can, and
 * the control plane's Leases live in kube-system and kube-node-lease.
 *
 * And the default StorageClass `local-path` (provisioner berth.dev/local-path, WaitForFirstConsumer),
 * created at each start when missing — as k3s deploys its local-path class, and as the addon manager
 * keeps kube's default class with EnsureExists: a user's changes to it stay; deleted, it returns at
 * the next start. Beside it the class `replicated` (provisioner berth.dev/replicated, Immediate: a
 * volume's replicas are on storage nodes, not on its first pod's node), made the same way.
 */
import { ANN_DEFAULT_CLASS, LOCAL_PATH_CLASS, LOCAL_PATH_PROVISIONER } from '../apis/volumes/annotations.ts';
import { REPLICATED_CLASS, REPLICATED_PROVISIONER } from '../apis/volumes/replicated.ts';
import type { KubeObject } from '../apis/object.ts';
import { ApiError } from '../errors/index.ts';
import { IMMORTAL_NAMESPACES, type Registry } from '../registry/registry.ts';
import type { Logger } from '../util/log.ts';

export const SYSTEM_NAMESPACES = [...IMMORTAL_NAMESPACES, 'kube-node-lease'];

/** Creates the system namespaces that do not exist; returns the names it created. */
export async function ensureSystemNamespaces(registry: Registry): Promise<string[]> {
  const ns = registry.store('', 'namespaces')!;
  const created: string[] = [];
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await ns.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      created.push(name);
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
  return created;
}

/**
 * Re-creates missing system namespaces every `intervalMs` (Kubernetes checks every minute; 10 s
 * here is well inside the node grace period, so node Leases come back before nodes turn NotReady).
 */
export function keepSystemNamespaces(registry: Registry, log: Logger, intervalMs = 10_000): { stop(): void } {
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    ensureSystemNamespaces(registry)
      .then((created) => { if (created.length) log.warn('recreated missing system namespaces', { namespaces: created }); })
      .catch((err) => log.debug('system namespace check failed', { error: (err as Error).message }))
      .finally(() => { busy = false; });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The default StorageClass every Berth cluster starts with. */
export const DEFAULT_STORAGE_CLASS = {
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
  metadata: { name: LOCAL_PATH_CLASS, annotations: { [ANN_DEFAULT_CLASS]: 'true' } },
  provisioner: LOCAL_PATH_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'WaitForFirstConsumer', allowVolumeExpansion: true,
};

/** The class of replicated volumes (three replicas on three storage nodes; controllers/replicated). */
export const REPLICATED_STORAGE_CLASS = {
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass',
  metadata: { name: REPLICATED_CLASS },
  provisioner: REPLICATED_PROVISIONER, reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate', allowVolumeExpansion: false,
};

/** Creates the `local-path` StorageClass unless it exists (and `replicated`, likewise); true when it created local-path. */
export async function ensureDefaultStorageClass(registry: Registry): Promise<boolean> {
  const create = async (sc: { metadata: { name: string } }): Promise<boolean> => {
    try {
      await registry.store('storage.k8s.io', 'storageclasses')!.create(undefined, structuredClone(sc) as KubeObject);
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'AlreadyExists') return false;
      throw err;
    }
  };
  const made = await create(DEFAULT_STORAGE_CLASS);
  await create(REPLICATED_STORAGE_CLASS);
  return made;
}
