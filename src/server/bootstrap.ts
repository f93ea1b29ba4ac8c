/**
 * Objects a cluster has from its first start: the namespaces `default`, `kube-system`,
 * `kube-public` and `kube-node-lease`. Idempotent: existing ones are left alone. As Kubernetes'
 * system namespaces controller (pkg/controlplane/controller/systemnamespaces), a loop recreates one
 * that went missing — the first three cannot be deleted (registry.ts), but kube-node-lease can, and
 * the control plane's Leases live in kube-system and kube-node-lease.
 */
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
