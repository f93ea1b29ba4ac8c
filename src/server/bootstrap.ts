/**
 * Objects a cluster has from its first start: the namespaces `default`, `kube-system`,
 * `kube-public` and `kube-node-lease`. Idempotent: existing ones are left alone.
 */
import { ApiError } from '../errors/index.ts';
import type { Registry } from '../registry/registry.ts';

export const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

export async function ensureSystemNamespaces(registry: Registry): Promise<void> {
  const ns = registry.store('', 'namespaces')!;
  for (const name of SYSTEM_NAMESPACES) {
    try {
      await ns.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}
