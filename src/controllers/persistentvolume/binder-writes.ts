/**
 * The PV controller's writes (pv_controller.go bind, bindVolumeToClaim, bindClaimToVolume,
 * updateClaimStatus[WithEvent], updateVolumePhase[WithEvent], unbindVolume, assignDefaultStorageClass,
 * setClaimProvisioner): each writes only when something changes and remembers what it wrote, so the
 * next sync reads it back (latest-cache.ts). The policy deciding which to call is claim-sync.ts and
 * volume-sync.ts.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import {
  ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_STORAGE_PROVISIONER,
} from '../../apis/volumes/annotations.ts';
import { isVolumeBoundToClaim } from '../../apis/volumes/volume-match.ts';
import { R, type Client } from '../../client/client.ts';
import type { EventType } from '../../client/event-recorder.ts';
import type { ControllerEvents } from '../controller-utils.ts';
import type { LatestCache } from './latest-cache.ts';

/** What the sync functions share: the API, the caches and the events. */
export interface BinderContext {
  client: Client;
  events: ControllerEvents;
  volumes: LatestCache;
  claims: LatestCache;
  /** StorageClasses by name (informer cache). */
  storageClass(name: string): KubeObject | undefined;
  storageClasses(): KubeObject[];
  /** Live pods in the claim's namespace whose volumes name it. */
  podsUsingClaim(namespace: string, claimName: string): KubeObject[];
  /** Queue a claim (`ns/name`) for a sync soon. */
  enqueueClaim(key: string): void;
}

export type ClaimPhase = 'Pending' | 'Bound' | 'Lost';
export type VolumePhase = 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed';

/** Binding writes of the PV controller. */
export class BinderWrites {
  constructor(private readonly ctx: BinderContext) {}

  event(obj: KubeObject, type: EventType, reason: string, message: string): void {
    void this.ctx.events.event(obj, type, reason, message);
  }

  /** PV spec, PV status, PVC spec, PVC status — in that order; stops at the first failure (the next sync finishes). */
  async bind(volume: KubeObject, claim: KubeObject): Promise<void> {
    let pv = await this.bindVolumeToClaim(volume, claim);
    pv = await this.updateVolumePhase(pv, 'Bound');
    const pvc = await this.bindClaimToVolume(claim, pv);
    await this.updateClaimStatus(pvc, 'Bound', pv);
  }

  /** claimRef → the claim (with its uid); bound-by-controller unless the user pre-bound it. */
  async bindVolumeToClaim(volume: KubeObject, claim: KubeObject): Promise<KubeObject> {
    const next = structuredClone(volume);
    let dirty = false;
    const ref = volume.spec?.claimRef;
    if (!ref || ref.name !== claim.metadata.name || ref.namespace !== claim.metadata.namespace || ref.uid !== claim.metadata.uid) {
      next.spec.claimRef = {
        kind: 'PersistentVolumeClaim', namespace: claim.metadata.namespace, name: claim.metadata.name,
        uid: claim.metadata.uid, apiVersion: 'v1', resourceVersion: claim.metadata.resourceVersion,
      };
      dirty = true;
    }
    if (!isVolumeBoundToClaim(volume, claim) && !next.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER]) {
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
      dirty = true;
    }
    if (!dirty) return volume;
    return this.ctx.volumes.remember(await this.ctx.client.update(R.persistentvolumes, undefined, next));
  }

  /** volumeName (bound-by-controller when the controller chose it) and bind-completed. */
  async bindClaimToVolume(claim: KubeObject, volume: KubeObject): Promise<KubeObject> {
    const next = structuredClone(claim);
    const ann = { ...(next.metadata.annotations ?? {}) };
    let dirty = false;
    if (claim.spec?.volumeName !== volume.metadata.name) {
      next.spec.volumeName = volume.metadata.name;
      ann[ANN_BOUND_BY_CONTROLLER] ??= 'yes';
      dirty = true;
    }
    if (ann[ANN_BIND_COMPLETED] === undefined) {
      ann[ANN_BIND_COMPLETED] = 'yes';
      dirty = true;
    }
    if (!dirty) return claim;
    next.metadata.annotations = ann;
    return this.ctx.claims.remember(await this.ctx.client.update(R.persistentvolumeclaims, claim.metadata.namespace, next));
  }

  /**
   * The claim's phase; with a volume, its access modes, and its capacity when the claim becomes Bound
   * (a later difference may be a resize in progress: not overwritten). Without one, both are cleared.
   */
  async updateClaimStatus(claim: KubeObject, phase: ClaimPhase, volume?: KubeObject): Promise<KubeObject> {
    const status = structuredClone(claim.status ?? {});
    let dirty = false;
    if (status.phase !== phase) { status.phase = phase; dirty = true; }
    if (!volume) {
      if (status.accessModes !== undefined) { delete status.accessModes; dirty = true; }
      if (status.capacity !== undefined) { delete status.capacity; dirty = true; }
    } else {
      if (!isDeepStrictEqual(status.accessModes ?? null, volume.spec?.accessModes ?? null)) { status.accessModes = volume.spec?.accessModes; dirty = true; }
      if (claim.status?.phase !== phase && !isDeepStrictEqual(status.capacity ?? null, volume.spec?.capacity ?? null)) {
        status.capacity = volume.spec?.capacity;
        dirty = true;
      }
    }
    if (!dirty) return claim;
    return this.ctx.claims.remember(await this.ctx.client.update(R.persistentvolumeclaims, claim.metadata.namespace, { ...claim, status }, 'status'));
  }

  /** Sets the phase and records an event, only when the phase changes. */
  async updateClaimStatusWithEvent(claim: KubeObject, phase: ClaimPhase, volume: KubeObject | undefined, type: EventType, reason: string, message: string): Promise<KubeObject> {
    if (claim.status?.phase === phase) return claim;
    const next = await this.updateClaimStatus(claim, phase, volume);
    this.event(next, type, reason, message);
    return next;
  }

  async updateVolumePhase(volume: KubeObject, phase: VolumePhase, message = ''): Promise<KubeObject> {
    if (volume.status?.phase === phase) return volume;
    // lastPhaseTransitionTime is the API's to set (the PV status strategy), as in Kubernetes.
    const status: Record<string, unknown> = { ...(volume.status ?? {}), phase };
    if (message) status.message = message;
    else delete status.message;
    return this.ctx.volumes.remember(await this.ctx.client.update(R.persistentvolumes, undefined, { ...volume, status }, 'status'));
  }

  async updateVolumePhaseWithEvent(volume: KubeObject, phase: VolumePhase, type: EventType, reason: string, message: string): Promise<KubeObject> {
    if (volume.status?.phase === phase) return volume;
    const next = await this.updateVolumePhase(volume, phase, message);
    this.event(next, type, reason, message);
    return next;
  }

  /**
   * Rolls a binding back (unbindVolume): a volume the controller bound loses its claimRef; one the user
   * pre-bound keeps the claim's name but not its uid. Then Available.
   */
  async unbindVolume(volume: KubeObject): Promise<void> {
    const next = structuredClone(volume);
    if (volume.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] !== undefined) {
      delete next.spec.claimRef;
      delete next.metadata.annotations![ANN_BOUND_BY_CONTROLLER];
    } else {
      delete next.spec.claimRef.uid;
    }
    const saved = this.ctx.volumes.remember(await this.ctx.client.update(R.persistentvolumes, undefined, next));
    await this.updateVolumePhase(saved, 'Available');
  }

  /** Retroactive default class: a claim naming no class gets the default one; false when there is none. */
  async assignDefaultStorageClass(claim: KubeObject, defaultClassName: string | undefined): Promise<boolean> {
    if (!defaultClassName) return false;
    const next = structuredClone(claim);
    next.spec.storageClassName = defaultClassName;
    this.ctx.claims.remember(await this.ctx.client.update(R.persistentvolumeclaims, claim.metadata.namespace, next));
    return true;
  }

  /** Names the external provisioner on the claim (both annotation keys), so it starts. */
  async setClaimProvisioner(claim: KubeObject, provisioner: string): Promise<KubeObject> {
    const ann = claim.metadata.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] === provisioner && ann[ANN_BETA_STORAGE_PROVISIONER] === provisioner) return claim;
    const next = structuredClone(claim);
    next.metadata.annotations = { ...ann, [ANN_STORAGE_PROVISIONER]: provisioner, [ANN_BETA_STORAGE_PROVISIONER]: provisioner };
    return this.ctx.claims.remember(await this.ctx.client.update(R.persistentvolumeclaims, claim.metadata.namespace, next));
  }
}
