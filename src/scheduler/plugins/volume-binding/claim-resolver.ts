/**
 * A pod's claims as the VolumeBinding filter sees them (the volume binder's getPodVolumes and
 * podVolumeClaims, read from informer caches): missing, being deleted, bound (with the PV's node
 * affinity, or a missing PV), unbound Immediate, or unbound WaitForFirstConsumer with the volumes of
 * its class that could still serve it. Volumes promised to another claim by a binding in flight are
 * not offered (the binder's assume cache, reduced to names).
 */
import type { KubeObject } from '../../../apis/object.ts';
import { claimClass, isVolumeBoundToClaim, volumeClass } from '../../../apis/volumes/volume-match.ts';
import type { SharedInformer } from '../../../client/informer.ts';
import type { PodInfo, ResolvedClaim } from '../../pod-info.ts';

/** PVs filed under their class name. */
export const PV_CLASS_INDEX = 'pv-class';

export class ClaimResolver {
  /** PV name → the claim (`ns/name`) a binding in flight promised it to. */
  readonly assumed = new Map<string, string>();

  constructor(private readonly pvcs: SharedInformer, private readonly pvs: SharedInformer, private readonly classes: SharedInformer) {
    pvs.addIndex(PV_CLASS_INDEX, (pv) => [volumeClass(pv)]);
  }

  resolve(info: PodInfo): ResolvedClaim[] {
    return info.claimNames.map((claimName) => this.resolveOne(info.namespace, claimName));
  }

  private resolveOne(namespace: string, claimName: string): ResolvedClaim {
    const key = `${namespace}/${claimName}`;
    const pvc = this.pvcs.get(key);
    if (!pvc) return { claimName, missing: true };
    if (pvc.metadata.deletionTimestamp) return { claimName, deleting: true };
    const volumeName: string | undefined = pvc.spec?.volumeName;
    if (volumeName) {
      const pv = this.pvs.get(volumeName);
      if (!pv) return { claimName, volumeMissing: true };
      const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
      return { claimName, nodeAffinity: Array.isArray(terms) ? terms : undefined };
    }
    const className = claimClass(pvc);
    const sc = className ? this.classes.get(className) : undefined;
    // No class, an unknown class, or Immediate: the PV controller binds it, not the scheduler.
    if (!sc || sc.volumeBindingMode !== 'WaitForFirstConsumer') return { claimName, unboundImmediate: true };
    const candidates = this.pvs.byIndex(PV_CLASS_INDEX, className).filter((pv) => this.offerable(pv, pvc, key));
    return { claimName, delayed: { pvc, storageClass: sc, candidates } };
  }

  /** Free (or pre-bound to this claim) and not promised to another claim. */
  private offerable(pv: KubeObject, pvc: KubeObject, key: string): boolean {
    const promised = this.assumed.get(pv.metadata.name!);
    if (promised !== undefined && promised !== key) return false;
    return !pv.spec?.claimRef || isVolumeBoundToClaim(pv, pvc);
  }
}
