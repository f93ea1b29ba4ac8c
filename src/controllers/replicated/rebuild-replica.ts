/**
 * Rebuilding a replica lost with its node (what heketi's device remove / `gluster volume
 * replace-brick` do by hand): once a brick's node has not been Ready for `rebuildAfterMs` (or is
 * gone), and another storage node is fit and holds no brick of the volume, the provisioner moves
 * that replica there — the PV's bricks name the new one, and ANN_REPLACE tells the storage nodes
 * which brick to swap; the chore node runs replace-brick and a full heal copies the data from the
 * two survivors. The old node's directory is then no brick of the volume: if the node returns, its
 * stale copy is not used. One replacement at a time per volume. Pure decision + one patch.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_BRICKS, ANN_REPLACE, bricksOf, type Brick } from '../../apis/volumes/replicated-volume.ts';
import { R } from '../../client/client.ts';
import { placeReplicas, unfitReason } from './placement.ts';
import { brickLoad } from './provision-claim.ts';
import { emit, type ReplicatedContext } from './replicated-context.ts';

/** Default wait before a replica on a node that is not Ready is rebuilt elsewhere (`berth server --replica-rebuild-delay`). */
export const REBUILD_AFTER_MS = 30_000;

/** Since when `node` has not been Ready (ms), or 0 when it is gone; undefined when it is Ready. */
export function notReadySince(node: KubeObject | undefined): number | undefined {
  if (!node) return 0;
  const ready = (node.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'Ready');
  if (ready?.status === 'True') return undefined;
  return Date.parse(ready?.lastTransitionTime ?? '') || Date.now();
}

/** The brick to replace now and its successor, or when to look again (ms), or nothing to do. */
export function planRebuild(ctx: ReplicatedContext, pv: KubeObject, rebuildAfterMs: number, now = Date.now()): { from: Brick; to: Brick } | { retryInMs: number } | undefined {
  if (pv.metadata.annotations?.[ANN_REPLACE] || pv.status?.phase !== 'Bound') return undefined;
  const bricks = bricksOf(pv);
  let wait: number | undefined;
  for (const b of bricks) {
    const since = notReadySince(ctx.nodes.get(b.node));
    if (since === undefined) continue;
    if (now - since < rebuildAfterMs) { wait = Math.min(wait ?? Infinity, rebuildAfterMs - (now - since)); continue; }
    const holders = new Set(bricks.map((x) => x.node));
    const spare = placeReplicas(ctx.nodes.list().filter((n) => !holders.has(n.metadata.name!)), 1, brickLoad(ctx.volumes.list()));
    if (!spare) return undefined; // no fit storage node left: stays degraded (the health says so)
    const to = ctx.engine.brickFor(spare[0], pv.metadata.name!);
    if (to instanceof Error) return undefined;
    return { from: b, to };
  }
  return wait === undefined ? undefined : { retryInMs: wait };
}

/** Applies a plan: the PV names the new brick and the swap to make; an event says why. */
export async function startRebuild(ctx: ReplicatedContext, pv: KubeObject, from: Brick, to: Brick): Promise<void> {
  const bricks = bricksOf(pv).map((b) => (b.node === from.node ? to : b));
  await ctx.client.patch(R.persistentvolumes, undefined, pv.metadata.name!, 'merge', {
    metadata: { annotations: { [ANN_BRICKS]: JSON.stringify(bricks), [ANN_REPLACE]: JSON.stringify({ from, to }) } },
  });
  const why = ctx.nodes.get(from.node) ? `${from.node} is ${unfitReason(ctx.nodes.get(from.node)!) ?? 'not Ready'}` : `${from.node} is gone`;
  const text = `replica of ${pv.metadata.name} moves from ${from.node} to ${to.node} (${why}): rebuilt from the other replicas`;
  emit(ctx, pv, 'Warning', 'ReplicaMoved', text);
  const ref = pv.spec?.claimRef;
  const claim = ref?.name ? ctx.claims.get(`${ref.namespace}/${ref.name}`) : undefined;
  if (claim) emit(ctx, claim, 'Warning', 'ReplicaMoved', text);
}
