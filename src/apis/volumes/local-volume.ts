/**
 * Facts about node-local PersistentVolumes that the control plane and the node agent both read: the
 * one node a volume's required node affinity names (`kubernetes.io/hostname In [x]` or
 * `metadata.name In [x]`, as local provisioners write it), and whether a volume is one of Berth's
 * local-path provisioner's.
 */
import type { KubeObject } from '../object.ts';
import { HOSTNAME_LABEL } from '../well-known.ts';
import { ANN_PROVISIONED_BY, LOCAL_PATH_PROVISIONER } from './annotations.ts';

/** The single node a volume is pinned to, or undefined when its affinity names none (or several). */
export function volumeNodeName(pv: KubeObject): string | undefined {
  for (const term of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of term?.matchExpressions ?? []) if (e?.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.length === 1) return e.values[0];
    for (const f of term?.matchFields ?? []) if (f?.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/** A volume Berth's local-path provisioner made (a `local` directory it owns on one node). */
export function isLocalPathVolume(pv: KubeObject): boolean {
  return pv.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER && !!pv.spec?.local?.path;
}
