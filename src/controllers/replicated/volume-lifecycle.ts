/**
 * A replicated PV after it is made: its health as the storage nodes report it (ANN_HEALTH) turned
 * into the PV's status message and the VolumeDegraded / VolumeHealed events (on the PV and its
 * claim, once per change: the last state told is kept on the PV, so a restart does not repeat it),
 * and its end — a released volume under reclaim policy Delete goes once the engine volume is deleted
 * (ANN_VOLUME_STATE=Deleted, by a brick node) and every brick node that is up removed its brick.
 * A brick node that is down keeps its brick directory: it is named in a warning. A brick whose
 * filesystem is full (ANN_BRICK_FULL_PREFIX, from its own node) makes the volume Degraded too.
 */
import type { KubeObject } from '../../apis/object.ts';
import {
  ANN_BRICK_REMOVED_PREFIX, ANN_VOLUME_STATE, bricksOf, fullBricksOf, healthOf, isHealthy, isReplicatedVolume, type BrickSpace, type VolumeHealth,
} from '../../apis/volumes/replicated-volume.ts';
import { R } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { unfitReason } from './placement.ts';
import { emit, type ReplicatedContext } from './replicated-context.ts';

/** On a replicated PV: the health last told by events (`Degraded` | `Healthy`), the provisioner's own. */
export const ANN_HEALTH_REPORTED = 'storage.berth.dev/health-reported';

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

/** The PV status message for a health report and the bricks whose filesystem is full. */
export function healthMessage(h: VolumeHealth, full: Array<BrickSpace & { node: string }> = []): string {
  if (isHealthy(h) && !full.length) return `healthy: ${h.online} of ${h.total} replicas online, nothing to heal`;
  const parts = [`${h.online} of ${h.total} replicas online`];
  if (h.offline.length) parts.push(`offline: ${h.offline.join(', ')}`);
  if (h.pendingHeal) parts.push(`${h.pendingHeal} entries to heal`);
  // Writes fail with ENOSPC in the pod once a quorum of bricks is full; one full brick misses writes.
  if (full.length) parts.push(`brick disk full on ${full.map((b) => `${b.node} (${mib(b.free)} free of ${mib(b.total)})`).join(', ')}`);
  return `degraded: ${parts.join('; ')}`;
}

export async function syncHealth(ctx: ReplicatedContext, pv: KubeObject): Promise<void> {
  const h = healthOf(pv);
  if (!h || pv.metadata.deletionTimestamp) return;
  const full = fullBricksOf(pv);
  const state = isHealthy(h) && !full.length ? 'Healthy' : 'Degraded';
  const told = pv.metadata.annotations?.[ANN_HEALTH_REPORTED];
  const message = healthMessage(h, full);
  if (pv.status?.message !== message) {
    await ctx.client.update(R.persistentvolumes, undefined, { ...pv, status: { ...(pv.status ?? {}), message } }, 'status').catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
  if (told === state || (told === undefined && state === 'Healthy')) {
    if (told === undefined) await ctx.client.patch(R.persistentvolumes, undefined, pv.metadata.name!, 'merge', { metadata: { annotations: { [ANN_HEALTH_REPORTED]: state } } });
    return;
  }
  await ctx.client.patch(R.persistentvolumes, undefined, pv.metadata.name!, 'merge', { metadata: { annotations: { [ANN_HEALTH_REPORTED]: state } } });
  const reason = state === 'Healthy' ? 'VolumeHealed' : 'VolumeDegraded';
  const type = state === 'Healthy' ? 'Normal' : 'Warning';
  const text = state === 'Healthy' ? `volume ${pv.metadata.name} is whole again: ${message}` : `volume ${pv.metadata.name} is ${message}`;
  emit(ctx, pv, type, reason, text);
  const ref = pv.spec?.claimRef;
  const claim = ref?.name ? ctx.claims.get(`${ref.namespace}/${ref.name}`) : undefined;
  if (claim) emit(ctx, claim, type, reason, text);
}

/** Whether the provisioner deletes `pv` now: ours, released, reclaim policy Delete. */
export function isReleasedForDeletion(pv: KubeObject): boolean {
  return isReplicatedVolume(pv) && pv.spec?.persistentVolumeReclaimPolicy === 'Delete'
    && (pv.status?.phase === 'Released' || pv.status?.phase === 'Failed');
}

export async function syncDeletion(ctx: ReplicatedContext, pv: KubeObject): Promise<void> {
  if (!isReleasedForDeletion(pv)) return;
  const ann = pv.metadata.annotations ?? {};
  if (ann[ANN_VOLUME_STATE] !== 'Deleted') return; // a brick node deletes the engine volume first
  const waiting: string[] = [];
  const left: string[] = [];
  for (const b of bricksOf(pv)) {
    if (ann[ANN_BRICK_REMOVED_PREFIX + b.node] === 'true') continue;
    const node = ctx.nodes.get(b.node);
    if (node && !unfitReason(node)) waiting.push(b.node);
    else left.push(`${b.node}:${b.path}`);
  }
  if (waiting.length) return; // their agents remove the bricks; the annotations bring the PV back here
  if (left.length) emit(ctx, pv, 'Warning', 'VolumeDelete', `brick directories stay on nodes that are down: ${left.join(', ')}`);
  try {
    await ctx.client.delete(R.persistentvolumes, undefined, pv.metadata.name!);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
}
