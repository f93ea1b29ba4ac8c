/**
 * What the PV controller does with one claim (pv_controller.go syncClaim → syncUnboundClaim /
 * syncBoundClaim). A claim without `pv.kubernetes.io/bind-completed` is still being bound: it gets the
 * volume it names, else the best matching Available volume, else (naming no class) the default class
 * retroactively, else — WaitForFirstConsumer without a selected node — an event saying it waits for
 * its pod, else provisioning by its class's provisioner (an external one: the claim is annotated and
 * the provisioner creates the volume), else an event that nothing can serve it. A claim that was bound
 * is checked against its volume: gone or claimed by another → Lost.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE } from '../../apis/volumes/annotations.ts';
import { claimClass, claimHasClass, defaultClass, findMatchingVolume, isVolumeBoundToClaim, volumeMismatch } from '../../apis/volumes/volume-match.ts';
import { BinderWrites, type BinderContext } from './binder-writes.ts';

/** StorageClass binding mode: unknown classes count as Immediate (IsDelayBindingMode). */
export function isDelayBinding(ctx: BinderContext, claim: KubeObject): boolean {
  const name = claimClass(claim);
  if (!name) return false;
  return ctx.storageClass(name)?.volumeBindingMode === 'WaitForFirstConsumer';
}

export class ClaimSync {
  private readonly w: BinderWrites;

  constructor(private readonly ctx: BinderContext) {
    this.w = new BinderWrites(ctx);
  }

  async sync(claim: KubeObject): Promise<void> {
    if (claim.metadata.annotations?.[ANN_BIND_COMPLETED] === undefined) return this.syncUnbound(claim);
    return this.syncBound(claim);
  }

  private async syncUnbound(claim: KubeObject): Promise<void> {
    const { ctx, w } = this;
    const volumeName: string = claim.spec?.volumeName ?? '';
    if (!volumeName) {
      const delay = isDelayBinding(ctx, claim);
      const volume = findMatchingVolume(claim, ctx.volumes.list(), { delayBinding: delay });
      if (volume) return w.bind(volume, claim);
      // No volume: maybe the default class applies (its update brings the claim back here).
      if (!claimHasClass(claim) && await w.assignDefaultStorageClass(claim, defaultClass(ctx.storageClasses())?.metadata.name)) return;
      if (delay && claim.metadata.annotations?.[ANN_SELECTED_NODE] === undefined) {
        this.eventForWaitingClaim(claim);
      } else if (claimClass(claim)) {
        // Provisioning is started (the claim annotated); the volume's arrival binds it.
        await this.provision(claim);
        return;
      } else {
        w.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      }
      await w.updateClaimStatus(claim, 'Pending');
      return;
    }
    // The user asked for a specific volume.
    const volume = ctx.volumes.get(volumeName);
    if (!volume) {
      await w.updateClaimStatus(claim, 'Pending');
      return;
    }
    if (!volume.spec?.claimRef) {
      const why = volumeMismatch(volume, claim);
      if (why) {
        w.event(claim, 'Warning', 'VolumeMismatch', `Cannot bind to requested volume "${volumeName}": ${why}`);
        await w.updateClaimStatus(claim, 'Pending');
        return;
      }
      return w.bind(volume, claim);
    }
    if (isVolumeBoundToClaim(volume, claim)) return w.bind(volume, claim);
    w.event(claim, 'Warning', 'FailedBinding', `volume "${volumeName}" already bound to a different claim.`);
    if (claim.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] === undefined) {
      await w.updateClaimStatus(claim, 'Pending');
      return;
    }
    const ref = volume.spec.claimRef;
    throw new Error(`invalid binding of claim "${key(claim)}" to volume "${volumeName}": volume already claimed by "${ref.namespace}/${ref.name}"`);
  }

  private async syncBound(claim: KubeObject): Promise<void> {
    const { ctx, w } = this;
    const volumeName: string = claim.spec?.volumeName ?? '';
    if (!volumeName) {
      await w.updateClaimStatusWithEvent(claim, 'Lost', undefined, 'Warning', 'ClaimLost', 'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!');
      return;
    }
    const volume = ctx.volumes.get(volumeName);
    if (!volume) {
      await w.updateClaimStatusWithEvent(claim, 'Lost', undefined, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
      return;
    }
    const ref = volume.spec?.claimRef;
    // Unbound (or our write not seen yet), or correctly bound: bind() repairs or does nothing.
    if (!ref || ref.uid === claim.metadata.uid) return w.bind(volume, claim);
    await w.updateClaimStatusWithEvent(claim, 'Lost', undefined, 'Warning', 'ClaimMisbound', 'Two claims are bound to the same volume, this one is bound incorrectly');
  }

  /** emitEventForUnboundDelayBindingClaim: waiting for a consumer, or for the consumer to be scheduled. */
  private eventForWaitingClaim(claim: KubeObject): void {
    const waiting = this.ctx.podsUsingClaim(claim.metadata.namespace!, claim.metadata.name!)
      .filter((p) => !p.spec?.nodeName && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed')
      .map((p) => p.metadata.name!);
    if (!waiting.length) this.w.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
    else if (waiting.length === 1) this.w.event(claim, 'Normal', 'WaitForPodScheduled', `waiting for pod ${waiting[0]} to be scheduled`);
    else this.w.event(claim, 'Normal', 'WaitForPodScheduled', `waiting for pods ${waiting.join(',')} to be scheduled`);
  }

  /**
   * provisionClaim: Berth has no in-tree volume plugins, so every provisioner is external — the claim
   * is annotated with it and the provisioner (e.g. the local-path controller) creates the volume.
   * An unknown class or a `kubernetes.io/` provisioner nobody implements fails with an event.
   */
  private async provision(claim: KubeObject): Promise<void> {
    const name = claimClass(claim);
    const sc = this.ctx.storageClass(name);
    if (!sc) {
      this.w.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${name}" not found`);
      await this.w.updateClaimStatus(claim, 'Pending');
      return;
    }
    const provisioner = String(sc.provisioner ?? '');
    if (provisioner.startsWith('kubernetes.io/')) {
      this.w.event(claim, 'Warning', 'ProvisioningFailed', `no volume plugin matched name: ${provisioner}`);
      await this.w.updateClaimStatus(claim, 'Pending');
      return;
    }
    let next: KubeObject;
    try {
      next = await this.w.setClaimProvisioner(claim, provisioner);
    } catch (err) {
      this.w.event(claim, 'Warning', 'ProvisioningFailed', `Error saving claim: ${(err as Error).message}`);
      throw err;
    }
    this.w.event(next, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${provisioner}' `
      + 'or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.');
    await this.w.updateClaimStatus(next, 'Pending');
  }
}

function key(o: KubeObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}
