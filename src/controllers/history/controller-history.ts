/**
 * Controller history for DaemonSets and StatefulSets (pkg/controller/history): the template hash
 * that names a ControllerRevision `<owner>-<hash>`, the revision object (the template as a replace
 * patch — what `kubectl rollout undo` applies back — and the owner's annotations, so
 * `kubectl rollout history` shows `kubernetes.io/change-cause`), and revision numbering.
 */
import type { KubeObject, OwnerReference } from '../../apis/object.ts';
import type { ResourceRef } from '../../client/client.ts';

/** apps/v1 ControllerRevisions. */
export const CONTROLLER_REVISIONS: ResourceRef = { group: 'apps', version: 'v1', resource: 'controllerrevisions' };

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

/** What a revision stores: the owner's pod template as a replace patch (getPatch in daemon/ and statefulset/). */
export function templatePatch(owner: KubeObject): { spec: { template: Record<string, unknown> } } {
  return { spec: { template: { ...structuredClone(owner.spec.template), $patch: 'replace' } } };
}

/**
 * A ControllerRevision `<owner>-<hash>` of `owner` (a DaemonSet or StatefulSet) holding its template
 * patch, labelled with the template's labels and the hash, annotated with the owner's annotations
 * (history.NewControllerRevision copies them: the change-cause shows in `kubectl rollout history`).
 */
export function newRevision(owner: KubeObject, hash: string, revision: number, ref: OwnerReference): KubeObject {
  const annotations = { ...(owner.metadata.annotations ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  return {
    apiVersion: 'apps/v1', kind: 'ControllerRevision',
    metadata: {
      name: `${owner.metadata.name}-${hash}`, namespace: owner.metadata.namespace,
      labels: { ...(owner.spec.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ownerReferences: [ref],
    },
    data: templatePatch(owner),
    revision,
  };
}

/** Revisions oldest first: by revision number, then creation, then name (history.SortControllerRevisions). */
export function sortRevisions(revisions: KubeObject[]): KubeObject[] {
  const num = (r: KubeObject) => Number((r as { revision?: number }).revision ?? 0);
  return [...revisions].sort((a, b) => num(a) - num(b)
    || String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? ''))
    || String(a.metadata.name).localeCompare(String(b.metadata.name)));
}

/** Two revisions hold the same template (history.EqualRevision compares the data). */
export function sameRevisionData(a: KubeObject, b: KubeObject): boolean {
  return stableJson(a.data) === stableJson(b.data);
}
