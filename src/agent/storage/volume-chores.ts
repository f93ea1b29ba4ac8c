/**
 * What a storage node does for one replicated PV it holds a brick of (heketi's executor, driven by
 * the PV instead of a REST call). The volume's chores fall to its first brick node that is Ready, so
 * one glusterd at a time changes it; each step is checked before it is made, so a crash between two
 * steps only repeats the check:
 *
 *   live volume, not Ready: create (replica 3, the PV's bricks) ─▶ options ─▶ start ─▶ volume-state=Ready
 *   Ready: brick status + entries waiting for heal ─▶ storage.berth.dev/health (written when it changes);
 *          a brick offline on a Ready node is started again; a brick back online is healed (index heal);
 *          options of a volume made before VOLUME_OPTIONS changed brought up to date, once per agent run
 *   ANN_REPLACE (a replica lost with its node): the new brick node makes its directory; the chore node
 *          runs replace-brick and a full heal ─▶ ANN_REPLACE removed
 *   Ready, on every brick node: its brick's filesystem (statfs) full ─▶ storage.berth.dev/brick-full.<node>
 *          (removed when space returns)
 *   released under Delete: every connected member "Peer in Cluster" ─▶ stop + delete ─▶ volume-state=Deleted;
 *          then every brick node removes its own brick directory ─▶ brick-removed.<node> — the chore
 *          node once no connected member lists the volume (one that missed the delete drops it itself,
 *          orphan-volumes.ts), so the PV stays until the pool has forgotten it
 */
import { promises as fs } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import {
  ANN_BRICK_FULL_PREFIX, ANN_BRICK_REMOVED_PREFIX, ANN_ENGINE_ERROR, ANN_HEALTH, ANN_REPLACE, ANN_VOLUME_STATE, bricksOf, engineVolumeName,
  healthOf, isBrickFull, type Brick, type BrickSpace, type VolumeHealth,
} from '../../apis/volumes/replicated-volume.ts';
import type { Logger } from '../../util/log.ts';
import type { GlusterCli } from './gluster-cli.ts';
import { PEER_IN_CLUSTER } from './peer-repair.ts';
import { isReady } from './pool-membership.ts';
import { memberHolding } from './volume-import.ts';

/**
 * Every volume's options: client-side quorum (a write needs 2 of 3 bricks: a minority side cannot
 * diverge), server-side quorum (bricks of a glusterd cut off from most of the pool stop), and 5 s
 * instead of 42 s / 74 s before a dead brick is given up, so a pod stalls ~5 s when a node dies.
 */
export const VOLUME_OPTIONS: readonly [string, string][] = [
  ['cluster.quorum-type', 'auto'],
  ['cluster.server-quorum-type', 'server'],
  ['network.ping-timeout', '5'],
  ['client.tcp-user-timeout', '5'],
  // The bricks' side too: a dead client's connection (its node killed mid-write) is dropped, and its
  // POSIX locks released, after 5 s instead of 42 s — etcd moved elsewhere waited ~20 s on the old
  // copy's lock on snap/db ("another etcd process … holds the file lock").
  ['server.tcp-user-timeout', '5'],
  ['cluster.heal-timeout', '10'],
  // A data heal copies (or compares) a file in steps of this many 128 KiB blocks, each under a lock on
  // its range the writer's own lock must give up first: 8 (1 MiB) made each 64 MB etcd WAL take 10–36 s
  // to heal under a live writer on the lab; 32 (4 MiB): a restored brick healed 3.6–3.9 s after it came
  // online instead of 9.9–10.4 s (shd threads 1 → 4 and diff → full changed nothing measurable).
  ['cluster.self-heal-window-size', '32'],
];

/**
 * A volume transaction the chores start unasked (a brick's `start force`, a replica swap) waits
 * until no pool member has (re)joined for this long: a rejoining glusterd imports the definitions
 * it is behind on, and a transaction during that import can leave it without the volume
 * (pool-membership.ts, trackConnections). A restarted glusterd starts its own bricks anyway.
 */
export const POOL_SETTLE_MS = 15_000;

/** Health is read at most this often per volume: `volume status` takes the volume's cluster-wide lock. */
export const HEALTH_EVERY_MS = 5_000;

export interface ChoreContext {
  cli: GlusterCli;
  nodeName: string;
  /** This node's brick directory: only paths below it are ever removed. */
  brickRoot: string;
  node(name: string): KubeObject | undefined;
  /** Merge-patches the PV's annotations (null removes one). */
  annotate(pv: string, annotations: Record<string, string | null>): Promise<void>;
  log: Logger;
  /** When each volume's health was last read (ms), kept across passes. */
  lastHealth?: Map<string, number>;
  /** The volumes whose options this agent has checked against VOLUME_OPTIONS (kept across passes; absent: never checked). */
  optionsChecked?: Set<string>;
  /** How long no pool member has (re)joined (ms); default: settled. */
  poolSettledMs?: () => number;
  /** Measures a brick's filesystem (tests fake it); default statfs. */
  brickSpace?: (path: string) => Promise<BrickSpace | undefined>;
}

const brickArg = (b: Brick) => `${b.address}:${b.path}`;

/** Released under reclaim policy Delete: the volume and its bricks go. */
export function isDeleting(pv: KubeObject): boolean {
  return pv.spec?.persistentVolumeReclaimPolicy === 'Delete' && (pv.status?.phase === 'Released' || pv.status?.phase === 'Failed');
}

/** The brick node that runs the volume's chores: the first whose Node is Ready. */
export function choreNode(pv: KubeObject, node: (name: string) => KubeObject | undefined): string | undefined {
  return bricksOf(pv).find((b) => isReady(node(b.node)))?.node;
}

/** Entries a brick holds for self-heal (files and directories it has writes for that another brick missed). */
export async function pendingHeal(brickPath: string): Promise<number> {
  const dir = join(brickPath, '.glusterfs', 'indices', 'xattrop');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => !n.startsWith('xattrop-')).length;
}

export async function volumeChores(ctx: ChoreContext, pv: KubeObject): Promise<void> {
  const bricks = bricksOf(pv);
  const mine = bricks.find((b) => b.node === ctx.nodeName);
  if (!mine) return;
  const name = engineVolumeName(pv);
  const ann = pv.metadata.annotations ?? {};
  const leader = choreNode(pv, ctx.node) === ctx.nodeName;
  try {
    if (isDeleting(pv)) {
      if (leader && ann[ANN_VOLUME_STATE] !== 'Deleted') await deleteVolume(ctx, pv, name);
      else if (ann[ANN_VOLUME_STATE] === 'Deleted' && ann[ANN_BRICK_REMOVED_PREFIX + ctx.nodeName] !== 'true') {
        // The chore node's brick goes last, once no member lists the volume: the PV (which waits
        // for it) stays while one does, as Kubernetes keeps a PV whose delete has not succeeded.
        if (leader) await confirmForgotten(ctx, name);
        // Before the removal, which lets the PV go: the error said why it stayed.
        if (leader && ann[ANN_ENGINE_ERROR]) await ctx.annotate(pv.metadata.name!, { [ANN_ENGINE_ERROR]: null });
        await removeBrick(ctx, pv, mine, name);
      }
      return;
    }
    const replace = replaceOf(pv);
    // Every brick node makes its brick's parent (glusterd makes only the last level, on each node).
    if (ann[ANN_VOLUME_STATE] !== 'Ready' || replace?.to.node === ctx.nodeName) await fs.mkdir(ownDir(ctx, mine, name), { recursive: true });
    if (ann[ANN_VOLUME_STATE] === 'Ready') await watchSpace(ctx, pv, mine);
    if (!leader) return;
    if (ann[ANN_VOLUME_STATE] !== 'Ready') await createVolume(ctx, pv, name, bricks);
    else if (replace) await replaceBrick(ctx, pv, name, replace);
    else if (ctx.optionsChecked && !ctx.optionsChecked.has(name) && settled(ctx)) await updateOptions(ctx, name);
    else if (Date.now() - (ctx.lastHealth?.get(name) ?? 0) >= HEALTH_EVERY_MS) {
      ctx.lastHealth?.set(name, Date.now());
      await watchHealth(ctx, pv, name, bricks, mine);
    }
    if (ann[ANN_ENGINE_ERROR]) await ctx.annotate(pv.metadata.name!, { [ANN_ENGINE_ERROR]: null });
  } catch (err) {
    const message = (err as Error).message;
    if (ann[ANN_ENGINE_ERROR] !== message) {
      ctx.log.warn('replicated volume step failed', { volume: name, error: message });
      await ctx.annotate(pv.metadata.name!, { [ANN_ENGINE_ERROR]: message }).catch(() => {});
    }
  }
}

async function createVolume(ctx: ChoreContext, pv: KubeObject, name: string, bricks: Brick[]): Promise<void> {
  let info = await ctx.cli.info(name);
  if (!info) {
    await ctx.cli.create(name, bricks.length, bricks.map(brickArg));
    ctx.log.info('replicated volume created', { volume: name, bricks: bricks.map(brickArg) });
    info = await ctx.cli.info(name);
  }
  for (const [k, v] of VOLUME_OPTIONS) await ctx.cli.set(name, k, v);
  if (info?.status !== 'Started') await ctx.cli.start(name);
  await ctx.annotate(pv.metadata.name!, { [ANN_VOLUME_STATE]: 'Ready' });
}

/**
 * A volume made before its options changed (an older agent) gets the ones that differ, once per agent
 * run: only those — each `volume set` is a transaction that bumps the volume's version, and a member
 * that misses one can come back rejected by the pool (peer-repair.ts).
 */
async function updateOptions(ctx: ChoreContext, name: string): Promise<void> {
  const info = await ctx.cli.info(name);
  if (!info?.options) return;
  for (const [k, v] of VOLUME_OPTIONS) {
    if (info.options[k] === v) continue;
    await ctx.cli.set(name, k, v);
    ctx.log.info('volume option updated', { volume: name, option: k, value: v });
  }
  ctx.optionsChecked!.add(name);
}

async function watchHealth(ctx: ChoreContext, pv: KubeObject, name: string, bricks: Brick[], mine: Brick): Promise<void> {
  // Without an answer (a transaction stuck on a peer that just died), a brick counts as online while its node is Ready.
  const status = await ctx.cli.status(name).catch((err) => {
    ctx.log.debug('volume status failed', { volume: name, error: (err as Error).message });
    return undefined;
  });
  const online = (b: Brick) => (status ? status.some((s) => s.name === brickArg(b) && s.online) : isReady(ctx.node(b.node)));
  const offline = bricks.filter((b) => !online(b)).map((b) => b.node);
  // A brick whose node is up but whose process is not (a crash): start it again, once no member is mid-rejoin.
  if (status && offline.some((n) => isReady(ctx.node(n)))) {
    if (settled(ctx)) await ctx.cli.start(name, true).catch((err) => ctx.log.debug('volume start force failed', { volume: name, error: String(err) }));
    else ctx.log.debug('volume start force waits: a pool member rejoined just now', { volume: name });
  }
  const health: VolumeHealth = {
    online: bricks.length - offline.length, total: bricks.length, offline,
    pendingHeal: await pendingHeal(mine.path), checkedAt: new Date().toISOString(),
  };
  const before = healthOf(pv);
  const same = before && before.online === health.online && before.pendingHeal === health.pendingHeal && before.offline.join() === health.offline.join();
  if (same) return;
  // Every brick back with writes still to copy: an index heal now (what the bricks' indices name, the
  // writes the returned brick missed), as gluster's docs advise after a brick's return — not a full
  // crawl, which is for a new, empty brick.
  if (!offline.length && health.pendingHeal && before?.offline.length) await ctx.cli.heal(name, 'index').catch(() => {});
  await ctx.annotate(pv.metadata.name!, { [ANN_HEALTH]: JSON.stringify(health) });
}

/** This node's brick filesystem, or undefined when it cannot be measured (not made yet). */
export async function brickSpace(path: string): Promise<BrickSpace | undefined> {
  const s = await fs.statfs(path).catch(() => undefined);
  return s && { free: s.bavail * s.bsize, total: s.blocks * s.bsize };
}

/**
 * Only a brick's own node sees its filesystem, so each brick node tells the PV when its brick is
 * full and when it is not any more (writes only on a change: a statfs per pass costs nothing).
 */
async function watchSpace(ctx: ChoreContext, pv: KubeObject, mine: Brick): Promise<void> {
  const space = await (ctx.brickSpace ?? brickSpace)(mine.path);
  if (!space) return;
  const key = ANN_BRICK_FULL_PREFIX + ctx.nodeName;
  const told = pv.metadata.annotations?.[key] !== undefined;
  const full = isBrickFull(space);
  if (full === told) return;
  if (full) ctx.log.warn('brick filesystem full', { volume: engineVolumeName(pv), free: space.free, total: space.total });
  await ctx.annotate(pv.metadata.name!, { [key]: full ? JSON.stringify(space) : null });
}

/** The replica swap a PV asks for, if any. */
function replaceOf(pv: KubeObject): { from: Brick; to: Brick } | undefined {
  try {
    const r = JSON.parse(pv.metadata.annotations?.[ANN_REPLACE] ?? '');
    return r?.from?.path && r?.to?.path ? r : undefined;
  } catch {
    return undefined;
  }
}

const settled = (ctx: ChoreContext) => (ctx.poolSettledMs?.() ?? Infinity) >= POOL_SETTLE_MS;

/** replace-brick (when the engine still has the old one), a full heal onto the new one, then done. */
async function replaceBrick(ctx: ChoreContext, pv: KubeObject, name: string, r: { from: Brick; to: Brick }): Promise<void> {
  if (!settled(ctx)) return void ctx.log.debug('replica swap waits: a pool member rejoined just now', { volume: name });
  const info = await ctx.cli.info(name);
  // Unknown here is not "already swapped": this glusterd lost the volume (volume-sync.ts brings it back).
  if (!info) throw new Error(`volume ${name} is unknown to this node's glusterd: the replica moves once it is synced from a peer`);
  if (info.bricks.includes(brickArg(r.from))) {
    await ctx.cli.replaceBrick(name, brickArg(r.from), brickArg(r.to));
    ctx.log.info('replica moved', { volume: name, from: brickArg(r.from), to: brickArg(r.to) });
  }
  try {
    await ctx.cli.heal(name, 'full');
    healFailingSince.delete(name);
  } catch (err) {
    // The request stays (the swap above is not repeated) and the next pass asks again: a heal
    // refused just after the swap (the new node's self-heal daemon not up yet) left the new brick
    // without data once. Bounded: after HEAL_RETRY_MS the swap is done and the health watch
    // reports pending heals as for any brick.
    const since = healFailingSince.get(name) ?? Date.now();
    healFailingSince.set(name, since);
    if (Date.now() - since < HEAL_RETRY_MS) throw new Error(`replica moved to ${brickArg(r.to)}; its full heal did not start (retrying): ${(err as Error).message}`);
    healFailingSince.delete(name);
    ctx.log.warn('full heal onto the new brick never started; the self-heal daemon\'s index heal is left to copy it', { volume: name, error: String(err) });
  }
  ctx.lastHealth?.delete(name);
  await ctx.annotate(pv.metadata.name!, { [ANN_REPLACE]: null });
}

/** When each volume's post-swap full heal first failed (replaceBrick retries it for HEAL_RETRY_MS). */
const healFailingSince = new Map<string, number>();
export const HEAL_RETRY_MS = 120_000;

async function deleteVolume(ctx: ChoreContext, pv: KubeObject, name: string): Promise<void> {
  // Not while a member rejoins: a stop committed everywhere but on a member mid-import left that one
  // holding the volume "Started", and every delete after it failed its staging there ("Volume … has
  // been started", seen on the lab 7 s after a restarted node's glusterd came up).
  if (!settled(ctx)) return void ctx.log.debug('volume deletion waits: a pool member rejoined just now', { volume: name });
  // Nor while a connected member is not "Peer in Cluster" here: glusterd's transaction skips it
  // without a word (gd_sync_task_begin), and it keeps the volume (seen in CI after a member rejoined).
  const outside = (await ctx.cli.peers()).filter((p) => p.connected && p.state !== undefined && p.state !== PEER_IN_CLUSTER);
  if (outside.length) throw new Error(`volume ${name} is deleted once every connected member is in the pool: ${outside.map((p) => `${p.address} is "${p.state}"`).join(', ')}`);
  const info = await ctx.cli.info(name);
  if (info) {
    if (info.status === 'Started') await ctx.cli.stop(name);
    await ctx.cli.delete(name);
    ctx.log.info('replicated volume deleted', { volume: name });
  } else {
    // Unknown here is not "deleted" while a member holds it: it would stay in the pool with its bricks gone.
    const holder = await memberHolding(ctx.cli, name, bricksOf(pv).map((b) => b.address));
    if (holder) throw new Error(`volume ${name} is unknown to this node's glusterd but ${holder} holds it: deleted once it is imported here`);
  }
  await ctx.annotate(pv.metadata.name!, { [ANN_VOLUME_STATE]: 'Deleted' });
}

/**
 * Throws while a connected pool member still lists the deleted volume: one the delete transaction
 * missed. Its own agent drops it (orphan-volumes.ts); a member that is down now does so when it is
 * back, since it would give the volume back to the pool at its handshake.
 */
async function confirmForgotten(ctx: ChoreContext, name: string): Promise<void> {
  const holders: string[] = [];
  for (const p of (await ctx.cli.peers()).filter((x) => x.connected)) {
    const list = await ctx.cli.list(p.address).catch(() => undefined);
    if (!list) throw new Error(`volume ${name} is deleted; ${p.address} did not answer whether it still holds it`);
    if (list.includes(name)) holders.push(p.address);
  }
  if (holders.length) throw new Error(`volume ${name} is deleted but ${holders.join(', ')} still list it (missed the delete): their agents drop it; the PV stays until then`);
}

/** `<brick root>/<volume>`, the brick's parent; refuses any other path (the PV is not trusted to name one). */
function ownDir(ctx: ChoreContext, mine: Brick, name: string): string {
  const dir = dirname(mine.path);
  if (relative(ctx.brickRoot, dir) !== name || !/^[\w.-]+$/.test(name)) throw new Error(`refusing brick ${mine.path}: not ${name}/… directly under this node's brick directory ${ctx.brickRoot}`);
  return dir;
}

/** Removes `<brick root>/<volume>` — the brick's own directory, and nothing that is not below this node's brick root. */
async function removeBrick(ctx: ChoreContext, pv: KubeObject, mine: Brick, name: string): Promise<void> {
  await fs.rm(ownDir(ctx, mine, name), { recursive: true, force: true });
  await ctx.annotate(pv.metadata.name!, { [ANN_BRICK_REMOVED_PREFIX + ctx.nodeName]: 'true' });
}
