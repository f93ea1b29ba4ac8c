/**
 * The PersistentVolume the local-path provisioner makes for a claim (rancher's local-path-provisioner
 * provisioner.go Provision, with Berth's node annotations): named `pvc-<claim uid>` as Kubernetes'
 * provisioners name theirs, a `local` volume at `<node's local-path dir>/<pv>_<namespace>_<claim>`
 * pinned to the node by required node affinity, the claim's size and access modes, the class's
 * reclaim policy, and a claimRef so only that claim can bind it. `local` rather than `hostPath`: the
 * kubelet applies fsGroup to local volumes (not to hostPath ones), and so does Berth's agent. Pure.
 */
import { isAbsolute, posix } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import { tryParseQuantity } from '../../apis/quantity.ts';
import { HOSTNAME_LABEL, SIMULATED_LABEL } from '../../apis/well-known.ts';
import {
  ANN_LOCAL_PATH_DIR, ANN_LOCAL_PATH_QUOTA, ANN_LOCAL_PATH_SIZE_LIMIT, ANN_PROVISIONED_BY, LOCAL_PATH_PROVISIONER,
} from '../../apis/volumes/annotations.ts';
import { claimSize } from '../../apis/volumes/volume-match.ts';

/** Where a simulated node "keeps" its volumes: nothing is ever written there. */
export const SIMULATED_DIR = '/var/lib/berth/storage';
const ACCESS_MODES = new Set(['ReadWriteOnce', 'ReadWriteOncePod']);

/** The name Kubernetes' provisioners give the volume of a claim. */
export function volumeNameFor(claim: KubeObject): string {
  return `pvc-${claim.metadata.uid}`;
}

/** The directory of the node's local-path volumes, or an error naming what is missing. */
export function nodeDir(node: KubeObject): string | Error {
  const dir = node.metadata.annotations?.[ANN_LOCAL_PATH_DIR];
  if (dir && isAbsolute(dir)) return posix.normalize(dir);
  if (node.metadata.labels?.[SIMULATED_LABEL] !== undefined) return SIMULATED_DIR;
  return new Error(`node "${node.metadata.name}" does not serve local-path volumes (no ${ANN_LOCAL_PATH_DIR} annotation: is its agent running?)`);
}

/** The node's file system size (its ephemeral-storage capacity), in bytes; undefined when unknown. */
export function nodeStorageBytes(node: KubeObject): number | undefined {
  return tryParseQuantity(node.status?.capacity?.['ephemeral-storage']);
}

/** How a size limit is enforced on that node: `project` quotas, or `none`. */
export function nodeSizeLimit(node: KubeObject): 'project' | 'none' {
  return node.metadata.annotations?.[ANN_LOCAL_PATH_QUOTA] === 'project' ? 'project' : 'none';
}

/** The directory of one volume: `<dir>/<pv>_<namespace>_<claim>` (rancher's layout). */
export function volumeDir(dir: string, pvName: string, claim: KubeObject): string {
  return posix.join(dir, `${pvName}_${claim.metadata.namespace}_${claim.metadata.name}`);
}

/**
 * Whether `path` is a directory this provisioner made on that node: directly under the node's dir and
 * named after the volume — the only paths the deleter ever removes.
 */
export function isProvisionedPath(path: string, dir: string, pvName: string): boolean {
  if (!isAbsolute(path) || path.split('/').includes('..')) return false;
  return posix.dirname(posix.normalize(path)) === posix.normalize(dir) && posix.basename(path).startsWith(`${pvName}_`);
}

/** The volume for `claim` on `node` of class `sc`, or the reason it cannot be made. */
export function localPathVolume(claim: KubeObject, node: KubeObject, sc: KubeObject): KubeObject | Error {
  const modes: string[] = claim.spec?.accessModes ?? [];
  if (modes.some((m) => !ACCESS_MODES.has(m))) {
    return new Error(`${LOCAL_PATH_PROVISIONER} only supports the ReadWriteOnce and ReadWriteOncePod access modes (a directory on one node), not ${modes.join(', ')}`);
  }
  if ((claim.spec?.volumeMode ?? 'Filesystem') !== 'Filesystem') return new Error(`${LOCAL_PATH_PROVISIONER} only provisions Filesystem volumes`);
  if (claim.spec?.dataSource || claim.spec?.dataSourceRef) return new Error(`${LOCAL_PATH_PROVISIONER} cannot populate a volume from a data source`);
  const dir = nodeDir(node);
  if (dir instanceof Error) return dir;
  const size = claimSize(claim);
  const room = nodeStorageBytes(node);
  if (room !== undefined && size > room) {
    return new Error(`requested ${claim.spec?.resources?.requests?.storage} is more than node "${node.metadata.name}" holds (${node.status?.capacity?.['ephemeral-storage']})`);
  }
  const name = volumeNameFor(claim);
  const hostname = node.metadata.labels?.[HOSTNAME_LABEL] ?? node.metadata.name;
  const hostnameKey = node.metadata.labels?.[HOSTNAME_LABEL] ? HOSTNAME_LABEL : 'metadata.name';
  const term = hostnameKey === HOSTNAME_LABEL
    ? { matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostname] }] }
    : { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node.metadata.name] }] };
  return {
    apiVersion: 'v1', kind: 'PersistentVolume',
    metadata: {
      name,
      annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER, [ANN_LOCAL_PATH_SIZE_LIMIT]: nodeSizeLimit(node) },
    },
    spec: {
      capacity: { storage: claim.spec?.resources?.requests?.storage },
      accessModes: modes,
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata.name,
      volumeMode: 'Filesystem',
      local: { path: volumeDir(dir, name, claim) },
      nodeAffinity: { required: { nodeSelectorTerms: [term] } },
      claimRef: {
        kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace,
        name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion,
      },
    },
  };
}
