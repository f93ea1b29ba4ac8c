/**
 * `kubectl get` columns for persistentvolumes, persistentvolumeclaims and storageclasses
 * (printers.go printPersistentVolume, printPersistentVolumeClaim, printStorageClass).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { TableConvertor } from '../types.ts';
import { accessModesAsString } from './access-modes.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col, str } from './format.ts';

const BETA_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';
const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';

/** The class of a PV or PVC: the beta annotation wins over `spec.storageClassName`. */
function storageClassOf(obj: KubeObject): string {
  const ann = obj.metadata.annotations?.[BETA_CLASS_ANNOTATION];
  if (ann !== undefined) return ann;
  return str(obj.spec?.storageClassName);
}

/** A quantity as stored (not re-canonicalised); Go's zero Quantity prints "0". */
const quantity = (q: unknown): string => (typeof q === 'string' && q !== '' ? q : typeof q === 'number' ? String(q) : '0');

export const persistentVolumeTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Capacity', 'string', false, 'capacity is the description of the persistent volume\'s resources and capacity.'),
    col('Access Modes', 'string', false, 'accessModes contains all ways the volume can be mounted.'),
    col('Reclaim Policy', 'string', false, 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.'),
    col('Status', 'string', false, 'phase indicates if a volume is available, bound to a claim, or released by a claim.'),
    col('Claim', 'string', false, 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.'),
    col('StorageClass', 'string', false, 'StorageClass of the pv'),
    col('VolumeAttributesClass', 'string', false, 'VolumeAttributesClass of the pv'),
    col('Reason', 'string', false, 'reason is a brief CamelCase string that describes any failure.'),
    AGE_COLUMN,
    col('VolumeMode', 'string', true, 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.'),
  ],
  cells(pv, now) {
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${str(spec.claimRef.namespace)}/${str(spec.claimRef.name)}` : '';
    const phase = pv.metadata.deletionTimestamp ? 'Terminating' : str(pv.status?.phase);
    return [
      pv.metadata.name, quantity(spec.capacity?.storage), accessModesAsString(spec.accessModes),
      str(spec.persistentVolumeReclaimPolicy), phase, claim, storageClassOf(pv),
      spec.volumeAttributesClassName ?? '<unset>', str(pv.status?.reason), age(pv, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
};

export const persistentVolumeClaimTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', false, 'phase represents the current phase of PersistentVolumeClaim.'),
    col('Volume', 'string', false, 'volumeName is the binding reference to the PersistentVolume backing this claim.'),
    col('Capacity', 'string', false, 'capacity represents the actual resources of the underlying volume.'),
    col('Access Modes', 'string', false, 'accessModes contains the actual access modes the volume backing the PVC has.'),
    col('StorageClass', 'string', false, 'StorageClass of the pvc'),
    col('VolumeAttributesClass', 'string', false, 'VolumeAttributesClass of the pvc'),
    AGE_COLUMN,
    col('VolumeMode', 'string', true, 'volumeMode defines what type of volume is required by the claim.'),
  ],
  cells(pvc, now) {
    const spec = pvc.spec ?? {};
    const phase = pvc.metadata.deletionTimestamp ? 'Terminating' : str(pvc.status?.phase);
    const bound = str(spec.volumeName) !== '';
    // Capacity and access modes are the bound volume's, so they show only once bound.
    const capacity = bound ? quantity(pvc.status?.capacity?.storage) : '';
    const modes = bound ? accessModesAsString(pvc.status?.accessModes) : '';
    return [
      pvc.metadata.name, phase, str(spec.volumeName), capacity, modes, storageClassOf(pvc),
      spec.volumeAttributesClassName ?? '<unset>', age(pvc, now), spec.volumeMode ?? '<unset>',
    ];
  },
};

/** Whether a StorageClass is annotated as the default one. */
export function isDefaultStorageClass(sc: KubeObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[DEFAULT_CLASS] === 'true' || a[BETA_DEFAULT_CLASS] === 'true';
}

export const storageClassTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Provisioner', 'string', false, 'provisioner indicates the type of the provisioner.'),
    col('ReclaimPolicy', 'string', false, 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.'),
    col('VolumeBindingMode', 'string', false, 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.'),
    col('AllowVolumeExpansion', 'string', false, 'allowVolumeExpansion shows whether the storage class allow volume expand.'),
    AGE_COLUMN,
  ],
  cells(sc, now) {
    const name = isDefaultStorageClass(sc) ? `${sc.metadata.name} (default)` : sc.metadata.name;
    return [
      name, str(sc.provisioner), sc.reclaimPolicy ?? 'Delete', sc.volumeBindingMode ?? 'Immediate',
      sc.allowVolumeExpansion === true, age(sc, now),
    ];
  },
};
