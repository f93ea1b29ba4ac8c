/**
 * Which PersistentVolume may serve which claim (k8s.io/component-helpers/storage/volume pv_helpers.go:
 * GetPersistentVolumeClaimClass, IsVolumeBoundToClaim, CheckVolumeModeMismatches, CheckAccessModes,
 * FindMatchingVolume; pkg/controller/volume/persistentvolume checkVolumeSatisfyClaim). Shared by the
 * PV controller (which binds Immediate claims) and the scheduler's volume binding (which binds
 * WaitForFirstConsumer claims on the node it picked). Pure; no I/O.
 */
import type { KubeObject } from '../object.ts';
import { tryParseQuantity } from '../quantity.ts';
import { fromLabelSelectorSpec } from '../selectors/label-selector-spec.ts';
import { ANN_BETA_DEFAULT_CLASS, ANN_BETA_STORAGE_CLASS, ANN_DEFAULT_CLASS } from './annotations.ts';

/** The class a claim asks for: the beta annotation, else `storageClassName`, else '' (no class). */
export function claimClass(pvc: KubeObject): string {
  const ann = pvc.metadata.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (ann !== undefined) return ann;
  return pvc.spec?.storageClassName ?? '';
}

/** Whether the claim names a class at all (nil and '' differ: '' asks for no class). */
export function claimHasClass(pvc: KubeObject): boolean {
  return pvc.metadata.annotations?.[ANN_BETA_STORAGE_CLASS] !== undefined || (pvc.spec?.storageClassName !== undefined && pvc.spec?.storageClassName !== null);
}

/** The class of a volume, as for claims. */
export function volumeClass(pv: KubeObject): string {
  const ann = pv.metadata.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (ann !== undefined) return ann;
  return pv.spec?.storageClassName ?? '';
}

/** Requested storage of a claim in bytes (0 when absent or malformed: validation refuses those). */
export function claimSize(pvc: KubeObject): number {
  return tryParseQuantity(pvc.spec?.resources?.requests?.storage) ?? 0;
}

/** Capacity of a volume in bytes. */
export function volumeSize(pv: KubeObject): number {
  return tryParseQuantity(pv.spec?.capacity?.storage) ?? 0;
}

/** Whether a StorageClass is marked default (the GA or the beta annotation, value `true`). */
export function isDefaultClass(sc: KubeObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[ANN_DEFAULT_CLASS] === 'true' || a[ANN_BETA_DEFAULT_CLASS] === 'true';
}

/**
 * The default class (storage util GetDefaultClass): of several defaults, the newest wins (ties by
 * name), as Kubernetes does since 1.26 so a second default never blocks claims.
 */
export function defaultClass(classes: readonly KubeObject[]): KubeObject | undefined {
  let best: KubeObject | undefined;
  for (const c of classes) {
    if (!isDefaultClass(c)) continue;
    if (!best) { best = c; continue; }
    const a = c.metadata.creationTimestamp ?? '';
    const b = best.metadata.creationTimestamp ?? '';
    if (a > b || (a === b && (c.metadata.name ?? '') < (best.metadata.name ?? ''))) best = c;
  }
  return best;
}

/** `pv.spec.claimRef` names this claim (and, when the ref has a uid, this very object). */
export function isVolumeBoundToClaim(pv: KubeObject, pvc: KubeObject): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  if (ref.name !== pvc.metadata.name || (ref.namespace ?? '') !== (pvc.metadata.namespace ?? '')) return false;
  return !ref.uid || ref.uid === pvc.metadata.uid;
}

/** Claim and volume disagree on Filesystem vs Block (both default to Filesystem). */
export function volumeModeMismatch(pvc: KubeObject, pv: KubeObject): boolean {
  return (pvc.spec?.volumeMode || 'Filesystem') !== (pv.spec?.volumeMode || 'Filesystem');
}

/** Every access mode the claim asks for is one the volume offers. */
export function accessModesFit(pvc: KubeObject, pv: KubeObject): boolean {
  const offered = new Set<string>(pv.spec?.accessModes ?? []);
  return ((pvc.spec?.accessModes ?? []) as string[]).every((m) => offered.has(m));
}

/**
 * Why a volume the claim names cannot serve it (checkVolumeSatisfyClaim), or undefined when it can:
 * deleting, too small, another class, another volume mode, missing access modes.
 */
export function volumeMismatch(pv: KubeObject, pvc: KubeObject): string | undefined {
  if (pv.metadata.deletionTimestamp) return `the volume is marked for deletion "${pv.metadata.name}"`;
  if (volumeSize(pv) < claimSize(pvc)) return 'requested PV is too small';
  if (volumeClass(pv) !== claimClass(pvc)) return 'storageClassName does not match';
  if (volumeModeMismatch(pvc, pv)) return 'incompatible volumeMode';
  if (!accessModesFit(pvc, pv)) return 'incompatible accessMode';
  return undefined;
}

/** Options of {@link findMatchingVolume}. */
export interface MatchOptions {
  /**
   * The scheduler's path: whether a volume's node affinity admits the node under consideration.
   * Absent on the PV controller's path (no node), where WaitForFirstConsumer claims are left alone.
   */
  nodeFits?: (pv: KubeObject) => boolean;
  /** Volumes already promised to other claims of the same pod. */
  excluded?: ReadonlySet<string>;
  /** The claim's class binds WaitForFirstConsumer. */
  delayBinding?: boolean;
}

/**
 * The volume to bind `pvc` to (FindMatchingVolume): a volume pre-bound to this claim wins (unless its
 * node affinity rules the node out: then none); otherwise the smallest Available volume of the claim's
 * class that is big enough, of the same volume mode, offers its access modes, matches its selector and,
 * on the scheduler's path, admits the node. Undefined when none fits.
 */
export function findMatchingVolume(pvc: KubeObject, volumes: Iterable<KubeObject>, opts: MatchOptions = {}): KubeObject | undefined {
  const requested = claimSize(pvc);
  const requestedClass = claimClass(pvc);
  let selector: ReturnType<typeof fromLabelSelectorSpec> | undefined;
  if (pvc.spec?.selector) {
    try {
      selector = fromLabelSelectorSpec(pvc.spec.selector);
    } catch {
      return undefined; // a selector that does not parse matches nothing
    }
  }
  let smallest: KubeObject | undefined;
  let smallestSize = Infinity;
  for (const pv of volumes) {
    const name = pv.metadata.name ?? '';
    if (opts.excluded?.has(name)) continue;
    if (pv.spec?.claimRef && !isVolumeBoundToClaim(pv, pvc)) continue;
    const size = volumeSize(pv);
    if (size < requested) continue;
    if (volumeModeMismatch(pvc, pv)) continue;
    if (pv.metadata.deletionTimestamp) continue;
    const nodeOk = opts.nodeFits ? opts.nodeFits(pv) : true;
    if (isVolumeBoundToClaim(pv, pvc)) return nodeOk ? pv : undefined;
    // The PV controller leaves WaitForFirstConsumer claims to the scheduler.
    if (!opts.nodeFits && opts.delayBinding) continue;
    if (pv.status?.phase !== 'Available') continue;
    if (selector && !selector.matches(pv.metadata.labels ?? {})) continue;
    if (volumeClass(pv) !== requestedClass) continue;
    if (!nodeOk) continue;
    if (!accessModesFit(pvc, pv)) continue;
    // Of equal sizes, the one offering fewer access modes (index.go tries the smallest mode set first).
    if (size < smallestSize || (size === smallestSize && (pv.spec?.accessModes?.length ?? 0) < (smallest?.spec?.accessModes?.length ?? 0))) {
      smallest = pv;
      smallestSize = size;
    }
  }
  return smallest;
}
