/**
 * Growing a bound local-path volume (the external-resizer's job for this provisioner, with
 * pkg/controller/volume/expand's admission check moved here): when a claim asks for more than its
 * volume has, the class must allow expansion and the node must hold the new size; then the volume's
 * capacity, the claim's status capacity and allocatedResources become the new size at once — a
 * directory needs no file system resize, so the claim never waits on its node. The limit is enforced
 * by the node's agent where the file system has project quotas; elsewhere the event says it is not.
 * Refusals set the claim's ControllerResizeError condition and record a VolumeResizeFailed event.
 */
import type { KubeObject } from '../../apis/object.ts';
import { tryParseQuantity } from '../../apis/quantity.ts';
import { rfc3339 } from '../../apis/time.ts';
import { ANN_LOCAL_PATH_SIZE_LIMIT, LOCAL_PATH_PROVISIONER } from '../../apis/volumes/annotations.ts';
import { claimSize, volumeSize } from '../../apis/volumes/volume-match.ts';
import { R } from '../../client/client.ts';
import { volumeNodeName } from '../../apis/volumes/local-volume.ts';
import { emit, findNode, type LocalPathContext } from './local-path-context.ts';
import { nodeSizeLimit, nodeStorageBytes } from './local-path-volume.ts';

const RESIZE_CONDITIONS = new Set(['Resizing', 'FileSystemResizePending', 'ControllerResizeError', 'NodeResizeError']);

export async function expandClaim(ctx: LocalPathContext, claim: KubeObject, pv: KubeObject, sc: KubeObject | undefined): Promise<void> {
  if (claim.status?.phase !== 'Bound' || claim.metadata.deletionTimestamp) return;
  const want = claimSize(claim);
  const have = volumeSize(pv);
  const requested = claim.spec?.resources?.requests?.storage;
  if (want > have) {
    const node = findNode(ctx, volumeNodeName(pv) ?? '');
    if (sc?.allowVolumeExpansion !== true) {
      return refuse(ctx, claim, `StorageClass "${sc?.metadata.name ?? claim.spec?.storageClassName}" does not allow volume expansion (allowVolumeExpansion is not true): the volume stays ${pv.spec?.capacity?.storage}`);
    }
    const room = node ? nodeStorageBytes(node) : undefined;
    if (room !== undefined && want > room) {
      return refuse(ctx, claim, `requested ${requested} is more than node "${node!.metadata.name}" holds (${node!.status?.capacity?.['ephemeral-storage']})`);
    }
    const limit = node ? nodeSizeLimit(node) : 'none';
    const next = structuredClone(pv);
    next.spec.capacity = { ...(next.spec.capacity ?? {}), storage: requested };
    next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [ANN_LOCAL_PATH_SIZE_LIMIT]: limit };
    await ctx.client.update(R.persistentvolumes, undefined, next);
    await setClaimCapacity(ctx, claim, requested);
    const note = limit === 'project' ? 'the node enforces it with a project quota'
      : `the size is recorded, not enforced: the file system of node "${node?.metadata.name ?? volumeNodeName(pv)}" has no project quotas`;
    emit(ctx, claim, 'Normal', 'VolumeResizeSuccessful', `resize volume "${pv.metadata.name}" by resizer "${LOCAL_PATH_PROVISIONER}" finished successfully (${note})`);
    return;
  }
  // The volume grew (maybe by us before a failed status write): the claim's status catches up.
  const recorded = tryParseQuantity(claim.status?.capacity?.storage) ?? 0;
  const hasResizeCondition = (claim.status?.conditions ?? []).some((c: { type: string }) => RESIZE_CONDITIONS.has(c.type));
  if (have > recorded || hasResizeCondition) {
    await setClaimCapacity(ctx, claim, pv.spec?.capacity?.storage);
  }
}

async function setClaimCapacity(ctx: LocalPathContext, claim: KubeObject, storage: string): Promise<void> {
  const status = structuredClone(claim.status ?? {});
  status.capacity = { ...(status.capacity ?? {}), storage };
  status.allocatedResources = { ...(status.allocatedResources ?? {}), storage };
  delete status.allocatedResourceStatuses;
  const conditions = (status.conditions ?? []).filter((c: { type: string }) => !RESIZE_CONDITIONS.has(c.type));
  if (conditions.length) status.conditions = conditions;
  else delete status.conditions;
  await ctx.client.update(R.persistentvolumeclaims, claim.metadata.namespace, { ...claim, status }, 'status');
}

/** A resize that cannot happen: the ControllerResizeError condition (written once per message) and an event. */
async function refuse(ctx: LocalPathContext, claim: KubeObject, message: string): Promise<void> {
  const conditions: any[] = claim.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'ControllerResizeError' && c.message === message)) return;
  emit(ctx, claim, 'Warning', 'VolumeResizeFailed', message);
  const status = structuredClone(claim.status ?? {});
  status.conditions = [
    ...conditions.filter((c) => c.type !== 'ControllerResizeError'),
    { type: 'ControllerResizeError', status: 'True', lastTransitionTime: rfc3339(), message },
  ];
  await ctx.client.update(R.persistentvolumeclaims, claim.metadata.namespace, { ...claim, status }, 'status');
}
