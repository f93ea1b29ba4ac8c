/**
 * A volume whose claim was deleted but that a pool member still holds, dropped from the pool.
 * Kubernetes' rule for reclaim policy Delete is that the backing volume goes (the PV controller
 * keeps retrying while the delete fails); with gluster a member that missed the `volume delete`
 * keeps the definition in its store, and brings it back to every member at its next reconnect:
 * each side of a handshake sends its volumes, and a volume the receiver lacks is imported
 * (glusterd-utils.c, glusterd_compare_friend_volume: not found here ⇒ UPDATE_REQ), started bricks
 * and all. How a member misses it: glusterd's transactions go only to the peers the leading glusterd
 * sees connected and "Peer in Cluster" (gd_sync_task_begin skips the others without a word), so a
 * member rejoining (half-joined, rejected, mid-import) or down during the delete keeps the volume —
 * seen in CI: the member killed in the stays-down case, back shortly before, still listed it after
 * the PV was gone.
 *
 * Which volumes: those this glusterd lists whose PV says the engine volume was deleted
 * (volume-state=Deleted, written by the chore node after its transaction, under reclaim policy
 * Delete only), or whose PV this agent saw go so marked, for a grace period across passes. A volume
 * without a PV this agent never saw marked (a PV deleted by hand, a Retain volume, an agent restarted
 * since) is kept and named once: Kubernetes leaves the asset of a deleted PV to its administrator. Only while the pool is whole as this member sees it (every peer
 * connected and "Peer in Cluster", none (re)joined for POOL_SETTLE_MS): a member with a partial view
 * deletes nothing. Then, by who else holds it (`volume list --remote-host` of every peer):
 *   every member          `volume stop` + `volume delete`, a transaction (two members leading one at
 *                          once: the second fails on the lock, and finds nothing to do next pass)
 *   this member alone     dropped from this store: glusterd stopped, the definition set aside
 *                          (`<workdir>/vols-dropped/`), its bricks here stopped, glusterd started —
 *                          a transaction cannot: it is pre-validated on members that lack it
 *   some members          this holder restarts its glusterd: its handshake gives the volume to those
 *                          that lack it, and a later pass deletes it everywhere
 * Restarts (either kind) at most once per ORPHAN_RESTART_EVERY_MS.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_VOLUME_STATE, engineVolumeName, isReplicatedVolume } from '../../apis/volumes/replicated-volume.ts';
import type { Logger } from '../../util/log.ts';
import type { GlusterCli, PoolPeer } from './gluster-cli.ts';
import { PEER_IN_CLUSTER } from './peer-repair.ts';
import { POOL_SETTLE_MS } from './volume-chores.ts';

/** How long a volume must be seen deleted by the cluster before anything is done about it. */
export const ORPHAN_GRACE_MS = 15_000;
/** At most one glusterd restart this often for deleted volumes. */
export const ORPHAN_RESTART_EVERY_MS = 60_000;
/** The names Berth gives engine volumes (pvc-<claim uid>): no other volume of the pool is ever touched. */
const OURS = /^pvc-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export interface OrphanState {
  /** Since when each volume listed here has been seen deleted by the cluster (ms). */
  since: Map<string, number>;
  /** When glusterd was last restarted for one (ms). */
  lastRestart?: number;
  /** Volumes this glusterd lists that no PV names and that were not deleted through one: since when (ms), -1 once told. */
  unclaimed: Map<string, number>;
}

/**
 * Called with each PV the informer reports deleted: its engine volume is remembered as deleted when
 * the PV was marked Deleted (its claim's deletion under reclaim policy Delete) — a PV deleted any
 * other way leaves its volume, as Kubernetes leaves the asset of a deleted PV.
 */
export function rememberDeleted(deleted: Set<string>, pv: KubeObject): void {
  if (isReplicatedVolume(pv) && pv.metadata.annotations?.[ANN_VOLUME_STATE] === 'Deleted') deleted.add(engineVolumeName(pv));
}

/** What the cluster says of an engine volume: a PV uses it, or it was deleted (PV gone or volume-state=Deleted). */
export type VolumeFate = 'live' | 'deleted';

/** From the informer's PVs: `deleted` for a PV marked Deleted, `live` for any other, undefined for none (ask the API). */
export function fateFromPVs(pvs: readonly KubeObject[], volume: string): VolumeFate | undefined {
  const pv = pvs.find((p) => isReplicatedVolume(p) && engineVolumeName(p) === volume);
  if (!pv) return undefined;
  return pv.metadata.annotations?.[ANN_VOLUME_STATE] === 'Deleted' ? 'deleted' : 'live';
}

/**
 * The volumes of `known` (this glusterd's list) seen deleted for at least `graceMs`; updates `since`
 * (a volume live again, or gone from the list, is forgotten: a later sighting waits a whole grace).
 */
export function overdueOrphans(known: readonly string[], fate: ReadonlyMap<string, VolumeFate>, since: Map<string, number>, now: number, graceMs = ORPHAN_GRACE_MS): string[] {
  const deleted = known.filter((v) => OURS.test(v) && fate.get(v) === 'deleted');
  for (const v of [...since.keys()]) if (!deleted.includes(v)) since.delete(v);
  const overdue: string[] = [];
  for (const v of deleted) {
    const first = since.get(v) ?? now;
    since.set(v, first);
    if (now - first >= graceMs) overdue.push(v);
  }
  return overdue;
}

/** Why the pool is not whole as this member sees it, or undefined when it is. */
export function poolNotWhole(peers: readonly PoolPeer[], settledMs: number): string | undefined {
  const off = peers.filter((p) => !p.connected || (p.state !== undefined && p.state !== PEER_IN_CLUSTER));
  if (off.length) return `members not in the pool: ${off.map((p) => `${p.address} (${p.connected ? p.state : 'disconnected'})`).join(', ')}`;
  if (settledMs < POOL_SETTLE_MS) return 'a member (re)joined just now';
  return undefined;
}

export type OrphanStep =
  | { kind: 'delete'; volume: string }
  | { kind: 'drop'; volumes: string[] }
  | { kind: 'spread'; volumes: string[]; to: string[] }
  | { kind: 'wait'; why: string };

/**
 * The step for `orphans` (overdue, listed here) given the pool as this member sees it and what each
 * peer lists (`held`; a peer missing from it did not answer). One step a pass.
 */
export function orphanStep(orphans: readonly string[], peers: readonly PoolPeer[], held: ReadonlyMap<string, readonly string[]>, settledMs: number, state: OrphanState, now: number): OrphanStep | undefined {
  if (!orphans.length) return undefined;
  const notWhole = poolNotWhole(peers, settledMs);
  if (notWhole) return { kind: 'wait', why: notWhole };
  const silent = peers.filter((p) => !held.has(p.address)).map((p) => p.address);
  if (silent.length) return { kind: 'wait', why: `no volume list from ${silent.join(', ')}` };
  const holders = (v: string) => peers.filter((p) => held.get(p.address)!.includes(v)).map((p) => p.address);
  // Every member that judges it deleted may lead: a second transaction at once only fails on the lock.
  const everywhere = orphans.find((v) => holders(v).length === peers.length);
  if (everywhere) return { kind: 'delete', volume: everywhere };
  if (state.lastRestart !== undefined && now - state.lastRestart < ORPHAN_RESTART_EVERY_MS) return { kind: 'wait', why: 'glusterd restarted for a deleted volume just now' };
  const alone = orphans.filter((v) => !holders(v).length);
  if (alone.length) return { kind: 'drop', volumes: alone };
  return { kind: 'spread', volumes: [...orphans], to: peers.map((p) => p.address).filter((a) => orphans.some((v) => !holders(v).includes(a))) };
}

export interface OrphanDaemon {
  restart(why: string): Promise<void>;
  /** Stops glusterd, sets these volumes' definitions aside and stops their bricks here, starts it. */
  dropVolumes(volumes: readonly string[], why: string): Promise<void>;
}

export interface OrphanContext {
  cli: GlusterCli;
  daemon: OrphanDaemon;
  log: Logger;
  /** The informer's PVs. */
  pvs: () => readonly KubeObject[];
  /** Engine volumes whose PV this agent saw deleted once marked Deleted (rememberDeleted). */
  deleted: ReadonlySet<string>;
  /** How long no pool member has (re)joined, as this glusterd's connections tell (ms). */
  settledMs: () => number;
}

/** One pass: finds the deleted volumes this glusterd still holds and takes the step for them. */
export async function dropOrphanVolumes(ctx: OrphanContext, state: OrphanState, now = Date.now()): Promise<OrphanStep | undefined> {
  const known = await ctx.cli.list();
  const pvs = ctx.pvs();
  const fate = new Map<string, VolumeFate>();
  for (const v of known.filter((x) => OURS.test(x))) {
    const f = fateFromPVs(pvs, v) ?? (ctx.deleted.has(v) ? 'deleted' : undefined);
    if (f) fate.set(v, f);
    const since = state.unclaimed.get(v);
    if (f) state.unclaimed.delete(v);
    else if (since === undefined) state.unclaimed.set(v, now);
    else if (since >= 0 && now - since >= ORPHAN_GRACE_MS) {
      // After the grace: a new volume is listed here before this agent's informer has its PV.
      state.unclaimed.set(v, -1);
      ctx.log.warn('volume without a PV, not deleted through one: kept (Kubernetes leaves such a volume to its administrator)', { volume: v });
    }
  }
  const orphans = overdueOrphans(known, fate, state.since, now);
  if (!orphans.length) return undefined;
  const peers = await ctx.cli.peers();
  const held = new Map<string, string[]>();
  for (const p of peers.filter((x) => x.connected)) {
    const list = await ctx.cli.list(p.address).catch(() => undefined);
    if (list) held.set(p.address, list);
  }
  const step = orphanStep(orphans, peers, held, ctx.settledMs(), state, now);
  if (!step || step.kind === 'wait') return step;
  if (step.kind === 'delete') {
    const info = await ctx.cli.info(step.volume);
    if (info?.status === 'Started') await ctx.cli.stop(step.volume);
    if (info) await ctx.cli.delete(step.volume);
    ctx.log.warn('deleted volume held by every pool member (a member that missed its delete brought it back): deleted again', { volume: step.volume });
  } else if (step.kind === 'drop') {
    state.lastRestart = now;
    await ctx.daemon.dropVolumes(step.volumes, `volumes ${step.volumes.join(', ')} were deleted; no other member holds them`);
  } else {
    state.lastRestart = now;
    ctx.log.warn('deleted volumes held by some pool members: restarting glusterd so every member imports them, then they are deleted', { volumes: step.volumes, lacking: step.to });
    await ctx.daemon.restart(`deleted volumes ${step.volumes.join(', ')} held here and lacking on ${step.to.join(', ')}`);
  }
  state.since.clear();
  return step;
}
