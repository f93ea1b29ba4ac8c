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

/** Healthy: every brick online and nothing left to heal. */
export function isHealthy(h: VolumeHealth): boolean {
  return h.online === h.total && h.pendingHeal === 0;
}
