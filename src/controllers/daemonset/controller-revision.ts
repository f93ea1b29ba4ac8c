/**
 * DaemonSet history (pkg/controller/history, daemon/update.go): the template hash that names a
 * ControllerRevision `<ds>-<hash>` and labels pods `controller-revision-hash`, the revision object,
 * and the next revision number.
 */
import type { KubeObject, OwnerReference } from '../../apis/object.ts';

/** The label on daemon pods and revisions naming the revision. */
export const REVISION_HASH_LABEL = 'controller-revision-hash';
const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with object keys sorted, so equal templates hash equally. */
function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${stableJson((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v);
}

/** FNV-32a of the template (and collision count), encoded with Kubernetes' vowel-free alphabet. */
export function templateHash(template: unknown, collisionCount = 0): string {
  let h = 0x811c9dc5;
  const s = stableJson(template) + (collisionCount ? String(collisionCount) : '');
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return [...String(h)].map((c) => SAFE[c.charCodeAt(0) % SAFE.length]).join('');
}

/** The highest revision number among `revisions` (0 for none). */
export function maxRevision(revisions: KubeObject[]): number {
  return revisions.reduce((m, r) => Math.max(m, Number((r as { revision?: number }).revision ?? 0)), 0);
}

/** A ControllerRevision holding the DaemonSet's template as a replace patch. */
export function newRevision(ds: KubeObject, hash: string, revision: number, owner: OwnerReference): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'ControllerRevision',
    metadata: {
      name: `${ds.metadata.name}-${hash}`, namespace: ds.metadata.namespace,
      labels: { ...(ds.spec.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
      ownerReferences: [owner],
    },
    data: { spec: { template: { ...structuredClone(ds.spec.template), $patch: 'replace' } } },
    revision,
  };
}
