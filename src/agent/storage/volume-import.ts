/**
 * A volume this node's glusterd does not know although the cluster says it exists, brought back
 * from the pool the way an operator does it: find a member that has it, then restart this glusterd,
 * whose handshake with its peers imports every volume it lacks (glusterd-utils.c,
 * glusterd_compare_friend_volume: a volume missing here is UPDATE_REQ). Kubernetes has no
 * counterpart: its volume plugins leave the engine's own state to the engine.
 *
 * Why it is needed: glusterd keeps every volume's definition on every pool member and pre-validates
 * each change of a volume (replace-brick, set, start, stop) on all of them, so one member that lacks
 * it makes every change refused ("Pre Validation failed on <its address>. Volume … does not exist")
 * — the replica rebuild first of all. A glusterd killed while it imported a newer definition from a
 * peer (after its restart, glusterd_delete_stale_volume drops the old one before the new one is
 * stored) comes back without it, and the handshake that would bring it has already happened.
 *
 * Why not `gluster volume sync <peer> <volume>`, upstream's command for this: in glusterfs 10 it
 * answers "success" and imports nothing — the peer's answer lacks the `volume1.update` key the
 * import reads since volumes are imported in a synctask (log: "Dict get failed [{Key=volume1.update}]";
 * gluster/glusterfs#521: "volume sync command has bugs … restart glusterd"). A restart costs this
 * node's management for a few seconds; its bricks and self-heal daemon run on.
 *
 * Which volumes: those of Ready replicated PVs (created and started by their chore node), on every
 * storage node, brick holder or not, since every member pre-validates. A volume must be missing for
 * a grace period first (a glusterd still starting imports it by itself), a connected member must
 * list it (a volume nobody has cannot be imported: no restart loop), and restarts are spaced.
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_VOLUME_STATE, bricksOf, engineVolumeName, isReplicatedVolume } from '../../apis/volumes/replicated-volume.ts';
import type { Logger } from '../../util/log.ts';
import type { GlusterCli } from './gluster-cli.ts';

/** How long a volume is missing before anything is done: a restarted glusterd's handshake imports within seconds, tens on a loaded machine. */
export const IMPORT_GRACE_MS = 15_000;
/** At most one restart this often for missing volumes. */
export const RESTART_EVERY_MS = 60_000;

/** What is kept across passes. */
export interface ImportState {
  /** Since when each wanted volume has been missing here (ms). */
  missingSince: Map<string, number>;
  /** When glusterd was last restarted for a missing volume (ms). */
  lastRestart?: number;
  /** The volumes that restart was for, to tell when they are back. */
  awaited?: string[];
}

/** The volumes the cluster says exist: engine name → the pool members to ask first (the brick nodes' addresses). */
export function wantedVolumes(pvs: readonly KubeObject[]): Map<string, string[]> {
  const wanted = new Map<string, string[]>();
  for (const pv of pvs) {
    if (isReplicatedVolume(pv) && pv.metadata.annotations?.[ANN_VOLUME_STATE] === 'Ready') wanted.set(engineVolumeName(pv), bricksOf(pv).map((b) => b.address));
  }
  return wanted;
}

/**
 * The wanted volumes missing from `known` for at least `graceMs`. Updates `missingSince`: a volume
 * known again, or no longer wanted, is forgotten (a later loss waits a whole grace again).
 */
export function overdueVolumes(wanted: ReadonlyMap<string, unknown>, known: readonly string[], missingSince: Map<string, number>, now: number, graceMs = IMPORT_GRACE_MS): string[] {
  for (const v of [...missingSince.keys()]) if (!wanted.has(v) || known.includes(v)) missingSince.delete(v);
  const overdue: string[] = [];
  for (const v of wanted.keys()) {
    if (known.includes(v)) continue;
    const since = missingSince.get(v) ?? now;
    missingSince.set(v, since);
    if (now - since >= graceMs) overdue.push(v);
  }
  return overdue;
}

/** The connected members to ask, the volumes' brick nodes first. */
export function membersToAsk(volumes: readonly string[], wanted: ReadonlyMap<string, string[]>, peers: readonly { address: string; connected: boolean }[]): string[] {
  const connected = peers.filter((p) => p.connected).map((p) => p.address);
  const first = [...new Set(volumes.flatMap((v) => wanted.get(v) ?? []))].filter((a) => connected.includes(a));
  return [...first, ...connected.filter((a) => !first.includes(a))];
}

/** The first connected member (asked in order) whose glusterd lists `volume`, if any. */
export async function memberHolding(cli: GlusterCli, volume: string, first: readonly string[] = []): Promise<string | undefined> {
  for (const member of membersToAsk([volume], new Map([[volume, [...first]]]), await cli.peers())) {
    if ((await cli.list(member).catch(() => [] as string[])).includes(volume)) return member;
  }
  return undefined;
}

export interface ImportOutcome {
  /** The volumes this pass found missing past the grace. */
  missing: string[];
  /** The member found holding them, when a restart was made. */
  restartedFor?: { volumes: string[]; holder: string };
  /** Why nothing was done about missing volumes, if so. */
  waiting?: string;
}

/**
 * One pass: lists what this glusterd knows; for volumes missing past the grace, asks connected
 * members (`volume list --remote-host`) until one has them and restarts this glusterd, at most once
 * per RESTART_EVERY_MS. Logs the restart and, on a later pass, the volumes being back.
 */
export async function importMissingVolumes(
  cli: GlusterCli, daemon: { restart(why: string): Promise<void> }, log: Logger, pvs: readonly KubeObject[], state: ImportState, now = Date.now(),
): Promise<ImportOutcome> {
  const wanted = wantedVolumes(pvs);
  const known = await cli.list();
  const back = (state.awaited ?? []).filter((v) => known.includes(v));
  if (back.length) {
    log.info('volumes imported from the pool by the restarted glusterd', { volumes: back, afterMs: now - (state.lastRestart ?? now) });
    state.awaited = state.awaited!.filter((v) => !back.includes(v));
  }
  const missing = overdueVolumes(wanted, known, state.missingSince, now);
  if (!missing.length) return { missing };
  if (state.lastRestart !== undefined && now - state.lastRestart < RESTART_EVERY_MS) return { missing, waiting: 'restarted recently' };
  const asked: string[] = [];
  for (const member of membersToAsk(missing, wanted, await cli.peers())) {
    const theirs = await cli.list(member).catch(() => undefined);
    if (!theirs) continue;
    asked.push(member);
    const held = missing.filter((v) => theirs.includes(v));
    if (!held.length) continue;
    log.warn('glusterd lacks volumes the pool holds: restarting it so its handshake imports them', { volumes: held, holder: member });
    await daemon.restart(`volumes ${held.join(', ')} missing here, held by ${member}`);
    state.lastRestart = now;
    state.awaited = [...new Set([...(state.awaited ?? []), ...held])];
    return { missing, restartedFor: { volumes: held, holder: member } };
  }
  return { missing, waiting: asked.length ? `no connected member holds them (asked ${asked.join(', ')})` : 'no connected member answered' };
}
