/**
 * A StatefulSet's ControllerRevisions (getStatefulSetRevisions and truncateHistory): the update
 * revision is the set's template now — an existing revision with the same template is reused (the
 * newest: no change; an older one: a rollback, renumbered to the top), otherwise a new one is
 * created (`<set>-<hash>`, a name collision bumps collisionCount); the current revision is the one
 * the status names. History beyond revisionHistoryLimit goes, never a revision a member still runs.
 */
import type { KubeObject, OwnerReference } from '../../apis/object.ts';
import type { Client } from '../../client/client.ts';
import { isAlreadyExists } from '../../client/errors.ts';
import { CONTROLLER_REVISIONS, maxRevision, newRevision, sameRevisionData, sortRevisions, templateHash, templatePatch } from '../history/controller-history.ts';
import { podRevision } from './stateful-set-utils.ts';

export { CONTROLLER_REVISIONS };

export interface SetRevisions {
  current: KubeObject;
  update: KubeObject;
  collisionCount: number;
}

/** Current and update revisions of `set`; `owned` are the revisions it controls. */
export async function syncRevisions(client: Client, set: KubeObject, owned: KubeObject[], ref: OwnerReference): Promise<SetRevisions> {
  const revisions = sortRevisions(owned);
  let collisionCount = Number(set.status?.collisionCount ?? 0);
  const next = maxRevision(revisions) + 1;
  const data = templatePatch(set);
  const equal = revisions.filter((r) => sameRevisionData(r, { metadata: {}, data }));
  let update: KubeObject;
  if (equal.length && revisions.at(-1) === equal.at(-1)) {
    update = equal.at(-1)!;
  } else if (equal.length) {
    // A rollback: the older equal revision becomes the newest.
    update = await client.update(CONTROLLER_REVISIONS, set.metadata.namespace, { ...equal.at(-1)!, revision: next });
  } else {
    for (;;) {
      const candidate = newRevision(set, templateHash(data, collisionCount), next, ref);
      try {
        update = await client.create(CONTROLLER_REVISIONS, set.metadata.namespace, candidate);
        break;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const existing = await client.get(CONTROLLER_REVISIONS, set.metadata.namespace, candidate.metadata.name!);
        if (sameRevisionData(existing, candidate) && existing.metadata.ownerReferences?.some((o) => o.uid === set.metadata.uid)) { update = existing; break; }
        collisionCount++;
      }
    }
  }
  const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
  return { current, update, collisionCount };
}

/** Deletes the oldest revisions beyond revisionHistoryLimit that neither the status nor a member uses. */
export async function truncateHistory(client: Client, set: KubeObject, owned: KubeObject[], pods: KubeObject[], live: string[]): Promise<void> {
  const keep = new Set([...live, ...pods.map(podRevision)]);
  const history = sortRevisions(owned).filter((r) => !keep.has(r.metadata.name!));
  const limit = Number(set.spec?.revisionHistoryLimit ?? 10);
  if (limit < 0 || history.length <= limit) return;
  for (const r of history.slice(0, history.length - limit)) {
    await client.delete(CONTROLLER_REVISIONS, r.metadata.namespace, r.metadata.name!, { preconditions: { uid: r.metadata.uid } }).catch(() => {});
  }
}
