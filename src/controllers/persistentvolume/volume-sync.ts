/**
 * What the PV controller does with one volume (pv_controller.go syncVolume, reclaimVolume): no claimRef
 * → Available; a claimRef without uid (pre-bound by a user) → Available until its claim binds; a claim
 * that is gone (or replaced by a same-named one) → Released, then the reclaim policy: Retain keeps it,
 * Delete leaves a dynamically provisioned volume to its provisioner (every provisioner is external in
 * Berth) and fails any other (no in-tree deleter), Recycle fails (no recycler); the claim bound elsewhere
 * → a provisioned Delete volume is released, one this controller bound is unbound.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_PROVISIONED_BY } from '../../apis/volumes/annotations.ts';
import { volumeModeMismatch } from '../../apis/volumes/volume-match.ts';
import { R } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { BinderWrites, type BinderContext } from './binder-writes.ts';

export class VolumeSync {
  private readonly w: BinderWrites;

  constructor(private readonly ctx: BinderContext) {
    this.w = new BinderWrites(ctx);
  }

  async sync(volume: KubeObject): Promise<void> {
    const { ctx, w } = this;
    const ref = volume.spec?.claimRef;
    if (!ref || !ref.uid) {
      // Unused, or reserved for a claim that has not bound yet (that claim's sync binds it).
      await w.updateVolumePhase(volume, 'Available');
      return;
    }
    let claim = ctx.claims.get(`${ref.namespace}/${ref.name}`);
    if (!claim && volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') {
      // Under load a provisioner's or scheduler's claim may not be in our cache yet: ask before releasing.
      claim = await this.fetchClaim(ref.namespace, ref.name);
    }
    if (claim && claim.metadata.uid !== ref.uid) {
      // The claim we see may be older than the claimRef: ask the API which one is current.
      claim = await this.fetchClaim(ref.namespace, ref.name);
      if (claim && claim.metadata.uid !== ref.uid) claim = undefined;
    }
    if (!claim) {
      // Released: do not overwrite Failed, so the user sees what went wrong while we retry.
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') volume = await w.updateVolumePhase(volume, 'Released');
      await this.reclaim(volume);
      return;
    }
    if (!claim.spec?.volumeName) {
      if (volumeModeMismatch(claim, volume)) {
        w.event(volume, 'Warning', 'VolumeMismatch', `Cannot bind PersistentVolume to requested PersistentVolumeClaim "${claim.metadata.name}" due to incompatible volumeMode.`);
        w.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind PersistentVolume "${volume.metadata.name}" to requested PersistentVolumeClaim due to incompatible volumeMode.`);
        return;
      }
      // Bound here, pending there: the claim's sync finishes it (a provisioner only creates the volume).
      ctx.enqueueClaim(`${claim.metadata.namespace}/${claim.metadata.name}`);
      return;
    }
    if (claim.spec.volumeName === volume.metadata.name) {
      await w.updateVolumePhase(volume, 'Bound');
      return;
    }
    // The claim is bound to another volume.
    if (volume.metadata.annotations?.[ANN_PROVISIONED_BY] !== undefined && volume.spec?.persistentVolumeReclaimPolicy === 'Delete') {
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') volume = await w.updateVolumePhase(volume, 'Released');
      await this.reclaim(volume);
      return;
    }
    // Ours to undo when we bound it; a user's pre-binding keeps the claim's name but loses its uid.
    await w.unbindVolume(volume);
  }

  private async fetchClaim(namespace: string, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.ctx.client.get(R.persistentvolumeclaims, namespace, name);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** reclaimVolume: what the reclaim policy does with a released volume. */
  private async reclaim(volume: KubeObject): Promise<void> {
    const w = this.w;
    switch (volume.spec?.persistentVolumeReclaimPolicy) {
      case 'Retain':
        return;
      case 'Delete': {
        const by = volume.metadata.annotations?.[ANN_PROVISIONED_BY];
        // An external provisioner deletes what it made (it watches Released volumes).
        if (by && !by.startsWith('kubernetes.io/')) return;
        const message = by
          ? `error getting deleter volume plugin for volume "${volume.metadata.name}": no deletable volume plugin matched name: ${by}`
          : `error getting deleter volume plugin for volume "${volume.metadata.name}": no deletable volume plugin matched`;
        await w.updateVolumePhaseWithEvent(volume, 'Failed', 'Warning', 'VolumeFailedDelete', message);
        return;
      }
      case 'Recycle':
        await w.updateVolumePhaseWithEvent(volume, 'Failed', 'Warning', 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
        return;
      default:
        await w.updateVolumePhaseWithEvent(volume, 'Failed', 'Warning', 'VolumeUnknownReclaimPolicy', 'Volume has unrecognized PersistentVolumeReclaimPolicy');
    }
  }
}
