/**
 * The shape of a replicated PersistentVolume, shared by the provisioner (control plane) and the
 * storage nodes' agents — Berth's own, in the manner of a CSI driver's volume handle and context
 * (csi.volumeHandle = the engine's volume name, csi.volumeAttributes = where its replicas live).
 * The annotations are the small work protocol between the two sides, so neither imports the other:
 *
 *   provisioner: PV with ANN_BRICKS (node, address, path per replica)
 *   first live brick node: creates + starts the engine volume ─▶ ANN_VOLUME_STATE=Ready; health ─▶ ANN_HEALTH
 *   released (Delete): that node deletes the engine volume ─▶ ANN_VOLUME_STATE=Deleted
 *   every brick node: removes its brick directory ─▶ ANN_BRICK_REMOVED_PREFIX+node ─▶ provisioner deletes the PV
 *   a brick's node lost: provisioner names a new brick + ANN_REPLACE ─▶ chore node: replace-brick, full heal ─▶ ANN_REPLACE removed
 */
import type { KubeObject } from '../object.ts';
import { REPLICATED_PROVISIONER } from './replicated.ts';

/** On a replicated PV: JSON list of its replicas, in the engine's order. */
export const ANN_BRICKS = 'storage.berth.dev/bricks';
/** On a replicated PV: `Ready` once the engine volume is created and started; `Deleted` once it is gone. */
export const ANN_VOLUME_STATE = 'storage.berth.dev/volume-state';
/** On a replicated PV: JSON {@link VolumeHealth}, written by the brick node that runs the volume's chores. */
export const ANN_HEALTH = 'storage.berth.dev/health';
/** On a replicated PV: `<prefix><node>` = "true" once that node removed its brick directory. */
export const ANN_BRICK_REMOVED_PREFIX = 'storage.berth.dev/brick-removed.';
/**
 * On a replicated PV: `<prefix><node>` = JSON {@link BrickSpace} while that node's brick filesystem
 * is full (written and removed by the node itself, which alone can see its brick's filesystem).
 */
export const ANN_BRICK_FULL_PREFIX = 'storage.berth.dev/brick-full.';
/** On a replicated PV: why the engine refused a step (the last error, for events and `describe`). */
export const ANN_ENGINE_ERROR = 'storage.berth.dev/engine-error';
/**
 * On a replicated PV: JSON `{from, to}` ({@link Brick}s) while a replica lost with its node is being
 * moved — the bricks already name `to`; the chore node swaps them in the engine, then removes this.
 */
export const ANN_REPLACE = 'storage.berth.dev/replace';
/** On a storage Node: the directory its bricks live in (its agent creates it). */
export const ANN_BRICK_DIR = 'storage.berth.dev/brick-dir';

/** One replica of a volume. */
export interface Brick {
  node: string;
  /** The node's address the engine uses (its InternalIP). */
  address: string;
  /** The brick directory on that node. */
  path: string;
}

/** What the brick node running a volume's chores last saw. */
export interface VolumeHealth {
  /** Bricks whose process is online, of `total`. */
  online: number;
  total: number;
  /** Nodes whose brick is offline. */
  offline: string[];
  /** Entries waiting for self-heal (a copy that missed writes is being brought up to date). */
  pendingHeal: number;
  /** When (RFC 3339). */
  checkedAt: string;
}

/** Whether `pv` is a replicated volume (its CSI driver is Berth's provisioner). */
export function isReplicatedVolume(pv: KubeObject | undefined): boolean {
  return pv?.spec?.csi?.driver === REPLICATED_PROVISIONER;
}

/** The engine's volume name (the CSI volume handle). */
export function engineVolumeName(pv: KubeObject): string {
  return String(pv.spec?.csi?.volumeHandle ?? '');
}

/** The PV's bricks; empty when the annotation is missing or malformed. */
export function bricksOf(pv: KubeObject): Brick[] {
  try {
    const list = JSON.parse(pv.metadata.annotations?.[ANN_BRICKS] ?? '[]');
    return Array.isArray(list) ? list.filter((b): b is Brick => typeof b?.node === 'string' && typeof b?.address === 'string' && typeof b?.path === 'string') : [];
  } catch {
    return [];
  }
}

/** The PV's last health report, if any. */
export function healthOf(pv: KubeObject): VolumeHealth | undefined {
  try {
    const h = JSON.parse(pv.metadata.annotations?.[ANN_HEALTH] ?? '');
    return typeof h?.online === 'number' && typeof h?.total === 'number' ? { offline: [], pendingHeal: 0, checkedAt: '', ...h } : undefined;
  } catch {
    return undefined;
  }
}

/** A brick's filesystem, as its node measured it (bytes). */
export interface BrickSpace {
  free: number;
  total: number;
}

/**
 * Full: less than 2 % of the brick's filesystem free — twice the engine's reserve (gluster's
 * `storage.reserve`, 1 % by default, below which a brick refuses writes with ENOSPC), so the PV says
 * so from the moment writes start to fail, and a little before.
 */
export function isBrickFull(space: BrickSpace): boolean {
  return space.total > 0 && space.free < space.total * 0.02;
}

/** The PV's bricks whose filesystem is full, by node. */
export function fullBricksOf(pv: KubeObject): Array<BrickSpace & { node: string }> {
  const out: Array<BrickSpace & { node: string }> = [];
  for (const [k, v] of Object.entries(pv.metadata.annotations ?? {})) {
    if (!k.startsWith(ANN_BRICK_FULL_PREFIX)) continue;
    try {
      const s = JSON.parse(v);
      if (typeof s?.free === 'number' && typeof s?.total === 'number') out.push({ node: k.slice(ANN_BRICK_FULL_PREFIX.length), free: s.free, total: s.total });
    } catch {
      // Malformed: not ours to judge.
    }
  }
  return out.sort((a, b) => a.node.localeCompare(b.node));
}

/** Healthy: every brick online and nothing left to heal. */
export function isHealthy(h: VolumeHealth): boolean {
  return h.online === h.total && h.pendingHeal === 0;
}
