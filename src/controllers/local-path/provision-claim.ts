/**
 * Provisioning one claim (the external-provisioner's ProvisionClaimOperation, distributed as upstream's
 * `--node-deployment` mode has it: the node is the one the scheduler selected). Acts on a claim that
 * is unbound, names this provisioner (the PV controller's annotation), and — WaitForFirstConsumer —
 * carries `volume.kubernetes.io/selected-node`: the PV is created there, the PV controller binds it.
 * A failure removes the selected node (rescheduleProvisioning), so the pod's PreBind stops waiting and
 * the scheduler tries again — another node when it was the node's fault (gone, too small, no
 * local-path directory); each attempt records the ProvisioningFailed event saying why.
 */
import type { KubeObject } from '../../apis/object.ts';
import {
  ANN_BETA_STORAGE_PROVISIONER, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, LOCAL_PATH_PROVISIONER,
} from '../../apis/volumes/annotations.ts';
import { R } from '../../client/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../client/errors.ts';
import { emit, type LocalPathContext } from './local-path-context.ts';
import { localPathVolume, volumeNameFor } from './local-path-volume.ts';

/** Whether the claim asks this provisioner (either annotation key). */
export function wantsLocalPath(claim: KubeObject): boolean {
  const a = claim.metadata.annotations ?? {};
  return (a[ANN_STORAGE_PROVISIONER] ?? a[ANN_BETA_STORAGE_PROVISIONER]) === LOCAL_PATH_PROVISIONER;
}

export async function provisionClaim(ctx: LocalPathContext, claim: KubeObject, sc: KubeObject): Promise<void> {
  if (claim.spec?.volumeName || claim.metadata.deletionTimestamp || !wantsLocalPath(claim)) return;
  const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
  const pvName = volumeNameFor(claim);
  // Made already (the PV controller has not bound it yet).
  if (ctx.volumes.get(pvName)) return;
  const selected = claim.metadata.annotations?.[ANN_SELECTED_NODE];
  if (!selected) {
    if (sc.volumeBindingMode !== 'WaitForFirstConsumer') {
      emit(ctx, claim, 'Warning', 'ProvisioningFailed', `${LOCAL_PATH_PROVISIONER} needs a StorageClass with volumeBindingMode WaitForFirstConsumer: a volume lives on the node its first pod is scheduled to`);
    }
    return;
  }
  const node = ctx.nodes.get(selected);
  if (!node) {
    emit(ctx, claim, 'Warning', 'ProvisioningFailed', `failed to get target node: node "${selected}" not found`);
    await reschedule(ctx, claim);
    return;
  }
  const pv = localPathVolume(claim, node, sc);
  if (pv instanceof Error) {
    emit(ctx, claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${pv.message}`);
    await reschedule(ctx, claim);
    return;
  }
  emit(ctx, claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${key}"`);
  try {
    await ctx.client.create(R.persistentvolumes, undefined, pv);
  } catch (err) {
    if (isAlreadyExists(err)) return;
    emit(ctx, claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${(err as Error).message}`);
    throw err;
  }
  emit(ctx, claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName}`);
}

/** Drops the selected node so the scheduler chooses again (rescheduleProvisioning). */
async function reschedule(ctx: LocalPathContext, claim: KubeObject): Promise<void> {
  const annotations = { ...(claim.metadata.annotations ?? {}) };
  delete annotations[ANN_SELECTED_NODE];
  try {
    await ctx.client.update(R.persistentvolumeclaims, claim.metadata.namespace, { ...claim, metadata: { ...claim.metadata, annotations } });
  } catch (err) {
    if (!isNotFound(err) && !isConflict(err)) throw err;
  }
}
