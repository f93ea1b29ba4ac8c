/**
 * The StatefulSet controller's writes (stateful_pod_control.go): a member's PVCs before the member,
 * deletes, identity repairs and the PVC owners of the retention policy — each with the events
 * `kubectl describe statefulset` shows (SuccessfulCreate, SuccessfulDelete, FailedCreate…).
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.ts';
import type { ControllerEvents } from '../controller-utils.ts';
import type { MemberControl } from './stateful-set-control.ts';
import { memberClaims, ordinalOf, repairedIdentityLabels, retentionOwnerRefs } from './stateful-set-utils.ts';

export class StatefulPodControl implements MemberControl {
  constructor(private readonly client: Client, private readonly events: ControllerEvents) {}

  private async claims(set: KubeObject, pod: KubeObject): Promise<{ name: string; want: KubeObject; have?: KubeObject }[]> {
    const out = [];
    for (const [name, want] of memberClaims(set, ordinalOf(pod))) {
      const have = await this.client.get(R.persistentvolumeclaims, set.metadata.namespace, name).catch((e) => { if (isNotFound(e)) return undefined; throw e; });
      out.push({ name, want, have });
    }
    return out;
  }

  async createMissingClaims(set: KubeObject, pod: KubeObject): Promise<void> {
    for (const c of await this.claims(set, pod)) {
      if (c.have) {
        if (c.have.metadata.deletionTimestamp) throw new Error(`pvc ${c.name} is being deleted`);
        continue;
      }
      try {
        await this.client.create(R.persistentvolumeclaims, set.metadata.namespace, c.want);
        void this.events.event(set, 'Normal', 'SuccessfulCreate', `create Claim ${c.name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        void this.events.event(set, 'Warning', 'FailedCreate', `create Claim ${c.name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`);
        throw err;
      }
    }
  }

  async claimIsStale(set: KubeObject, pod: KubeObject): Promise<boolean> {
    return (await this.claims(set, pod)).some((c) => !!c.have?.metadata.deletionTimestamp);
  }

  async createMember(set: KubeObject, pod: KubeObject): Promise<void> {
    await this.createMissingClaims(set, pod);
    try {
      await this.client.create(R.pods, set.metadata.namespace, pod);
    } catch (err) {
      // The name is the member's: a pod the cache has not seen yet is already there.
      if (isAlreadyExists(err)) return;
      void this.events.event(set, 'Warning', 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`);
      throw err;
    }
    void this.events.event(set, 'Normal', 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
  }

  async deleteMember(set: KubeObject, pod: KubeObject): Promise<void> {
    try {
      await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
    } catch (err) {
      if (isNotFound(err)) return;
      void this.events.event(set, 'Warning', 'FailedDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`);
      throw err;
    }
    void this.events.event(set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
  }

  async updateMember(set: KubeObject, pod: KubeObject): Promise<void> {
    try {
      await this.client.patch(R.pods, pod.metadata.namespace, pod.metadata.name!, 'merge', { metadata: { labels: repairedIdentityLabels(pod) } });
    } catch (err) {
      if (isNotFound(err)) return;
      void this.events.event(set, 'Warning', 'FailedUpdate', `update Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${(err as Error).message}`);
      throw err;
    }
  }

  async syncClaimRetention(set: KubeObject, pod: KubeObject): Promise<void> {
    for (const c of await this.claims(set, pod)) {
      if (!c.have) continue;
      const refs = retentionOwnerRefs(set, pod, c.have);
      if (!refs) continue;
      try {
        await this.client.update(R.persistentvolumeclaims, set.metadata.namespace, { ...c.have, metadata: { ...c.have.metadata, ownerReferences: refs } });
      } catch (err) {
        // A newer claim: the next sync decides again.
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
  }
}
