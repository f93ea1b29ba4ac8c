/**
 * Provisioning one replicated claim (external-provisioner's ProvisionClaimOperation, Immediate
 * binding): the engine's replica count of distinct storage nodes (placement.ts), their bricks, and
 * the PV; the PV controller binds it and the first brick node's agent creates the engine volume.
 * Too few storage nodes: the claim stays Pending with a ProvisioningFailed event saying how many
 * there are and why the others do not count; a node change brings the claim back here.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { isAlreadyExists } from '../../client/errors.ts';
import { bricksOf, type Brick } from '../../apis/volumes/replicated-volume.ts';
import { placeReplicas, storageNodes, unfitReason } from './placement.ts';
import { emit, type ReplicatedContext } from './replicated-context.ts';
import { claimProblem, replicatedVolume, volumeNameFor } from './replicated-pv.ts';

/** Replicas each node holds now (from the PVs' bricks). */
export function brickLoad(volumes: readonly KubeObject[]): (node: string) => number {
  const count = new Map<string, number>();
  for (const pv of volumes) for (const b of bricksOf(pv)) count.set(b.node, (count.get(b.node) ?? 0) + 1);
  return (node) => count.get(node) ?? 0;
}

/** The Pending reason when too few nodes fit. */
export function tooFewNodesMessage(nodes: readonly KubeObject[], replicas: number): string {
  const storage = storageNodes(nodes).sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  const fit = storage.filter((n) => !unfitReason(n)).map((n) => n.metadata.name);
  const unfit = storage.filter((n) => unfitReason(n)).map((n) => `${n.metadata.name} (${unfitReason(n)})`);
  return `waiting for ${replicas} storage nodes to place ${replicas} replicas on distinct nodes: ${fit.length} available${fit.length ? ` (${fit.join(', ')})` : ''}`
    + `${unfit.length ? `; not available: ${unfit.join(', ')}` : ''}; storage nodes are those whose agent runs with --storage`;
}

export async function provisionClaim(ctx: ReplicatedContext, claim: KubeObject, sc: KubeObject): Promise<void> {
  if (claim.spec?.volumeName || claim.metadata.deletionTimestamp) return;
  const pvName = volumeNameFor(claim);
  if (ctx.volumes.get(pvName)) return; // made already; the PV controller binds it
  const problem = claimProblem(claim);
  if (problem) {
    emit(ctx, claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${problem}`);
    return;
  }
  const nodes = ctx.nodes.list();
  const chosen = placeReplicas(nodes, ctx.engine.replicas, brickLoad(ctx.volumes.list()));
  if (!chosen) {
    emit(ctx, claim, 'Warning', 'ProvisioningFailed', tooFewNodesMessage(nodes, ctx.engine.replicas));
    return;
  }
  const bricks: Brick[] = [];
  for (const node of chosen) {
    const brick = ctx.engine.brickFor(node, pvName);
    if (brick instanceof Error) {
      emit(ctx, claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${brick.message}`);
      return;
    }
    bricks.push(brick);
  }
  emit(ctx, claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${claim.metadata.namespace}/${claim.metadata.name}"`);
  try {
    await ctx.client.create(R.persistentvolumes, undefined, replicatedVolume(claim, sc, ctx.engine, bricks));
  } catch (err) {
    if (isAlreadyExists(err)) return;
    emit(ctx, claim, 'Warning', 'ProvisioningFailed', `failed to provision volume with StorageClass "${sc.metadata.name}": ${(err as Error).message}`);
    throw err;
  }
  emit(ctx, claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${pvName} (${ctx.engine.name} replica ${bricks.length}: ${bricks.map((b) => b.node).join(', ')})`);
}
