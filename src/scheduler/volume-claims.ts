/**
 * Resolves a pod's PersistentVolumeClaims before its cycle (VolumeBinding-lite): a claim bound to a
 * PV carries the PV's required node affinity; an unbound claim carries nothing (skipped); a missing
 * claim is marked so the pod is rejected with Kubernetes' `persistentvolumeclaim "x" not found`.
 */
import type { Client } from '../client/client.ts';
import { R } from '../client/client.ts';
import { isNotFound } from '../client/errors.ts';
import type { PodInfo, ResolvedClaim } from './pod-info.ts';

/** Fills `info.claims` from the API (only for pods that use claims). */
export async function resolveClaims(client: Client, info: PodInfo): Promise<void> {
  if (!info.claimNames.length) return;
  const claims: ResolvedClaim[] = [];
  for (const claimName of info.claimNames) {
    try {
      const pvc = await client.get(R.persistentvolumeclaims, info.namespace, claimName);
      const volumeName = pvc.spec?.volumeName;
      if (!volumeName) { claims.push({ claimName }); continue; }
      const pv = await client.get(R.persistentvolumes, undefined, volumeName);
      const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
      claims.push({ claimName, nodeAffinity: Array.isArray(terms) ? terms : undefined });
    } catch (err) {
      if (isNotFound(err)) claims.push({ claimName, missing: true });
      else throw err;
    }
  }
  info.claims = claims;
}
