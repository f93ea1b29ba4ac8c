/**
 * The PersistentVolume of a replicated claim (external-provisioner's Provision for a CSI driver,
 * with the engine's bricks): named `pvc-<claim uid>` like every dynamic volume, the engine volume of
 * the same name as its CSI volume handle, the bricks in ANN_BRICKS for the storage nodes, the claim's
 * size and access modes, the class's reclaim policy and mount options, and a claimRef so only that
 * claim binds it. No node affinity: every node reaches the bricks over the network. Pure.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_PROVISIONED_BY } from '../../apis/volumes/annotations.ts';
import { REPLICATED_PROVISIONER } from '../../apis/volumes/replicated.ts';
import { ANN_BRICKS, type Brick } from '../../apis/volumes/replicated-volume.ts';
import type { VolumeEngine } from './volume-engine.ts';

const ACCESS_MODES = new Set(['ReadWriteOnce', 'ReadWriteOncePod', 'ReadWriteMany', 'ReadOnlyMany']);

/** The name Kubernetes' provisioners give the volume of a claim. */
export function volumeNameFor(claim: KubeObject): string {
  return `pvc-${claim.metadata.uid}`;
}

/** Why the claim cannot have a replicated volume, or undefined. */
export function claimProblem(claim: KubeObject): string | undefined {
  const modes: string[] = claim.spec?.accessModes ?? [];
  const bad = modes.filter((m) => !ACCESS_MODES.has(m));
  if (bad.length) return `unsupported access modes ${bad.join(', ')}`;
  if ((claim.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') return `${REPLICATED_PROVISIONER} only provisions Filesystem volumes`;
  if (claim.spec?.dataSource || claim.spec?.dataSourceRef) return `${REPLICATED_PROVISIONER} cannot populate a volume from a data source`;
  if (!claim.spec?.resources?.requests?.storage) return 'the claim requests no storage size';
  return undefined;
}

export function replicatedVolume(claim: KubeObject, sc: KubeObject, engine: VolumeEngine, bricks: Brick[]): KubeObject {
  const name = volumeNameFor(claim);
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_PROVISIONED_BY]: REPLICATED_PROVISIONER, [ANN_BRICKS]: JSON.stringify(bricks) } },
    spec: {
      capacity: { storage: claim.spec.resources.requests.storage },
      accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: 'Filesystem',
      ...(sc.mountOptions ? { mountOptions: sc.mountOptions } : {}),
      csi: { driver: REPLICATED_PROVISIONER, volumeHandle: name, volumeAttributes: engine.volumeAttributes(bricks) },
      claimRef: {
        kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace,
        name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion,
      },
    },
  };
}
