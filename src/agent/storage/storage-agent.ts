/**
 * A storage node's agent part (`--storage`): this node's glusterd (glusterd.ts), its place in the
 * trusted pool (pool-membership.ts), the chores of the replicated volumes it holds bricks of
 * (volume-chores.ts) and their fences (brick-fence.ts); a member the pool rejects rejoins it
 * (peer-repair.ts). Announced on the Node as the label
 * `storage.berth.dev/node=true` and the brick directory, which the provisioner places volumes by.
 *
 * One serialized pass does everything, run when a Node or PV changes and every few seconds (health
 * is polled: gluster has no event stream Berth could watch without its events daemon). Everything
 * it changes is checked first, so a pass repeated after a crash does nothing twice. Why in the agent
 * and not a pod: glusterd must outlive both the agent (it does: it daemonizes) and a pod's restart
 * policy, and the agent already holds a node credential the API lets read and annotate PVs
 * (berth:storage-node); a crashed glusterd is started again by the next pass.
 */
import { promises as fs, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../apis/object.ts';
import { ANN_FENCE, ANN_FENCE_ACK_PREFIX, STORAGE_NODE_LABEL } from '../../apis/volumes/replicated.ts';
import { ANN_BRICK_DIR, bricksOf, engineVolumeName, isReplicatedVolume, type Brick } from '../../apis/volumes/replicated-volume.ts';
import { R, type Client } from '../../client/client.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { Logger } from '../../util/log.ts';
import { FenceTable, type FenceRule } from './brick-fence.ts';
import { GlusterCommand, type GlusterCli } from './gluster-cli.ts';
import { Glusterd, glusterdPaths } from './glusterd.ts';
import { joinPool, nodeIP, settledForMs, trackConnections } from './pool-membership.ts';
import { volumeChores, type ChoreContext } from './volume-chores.ts';
import { importMissingVolumes, type ImportState } from './volume-import.ts';
import { probesPaused, repairRejection, type RepairDaemon, type RepairState } from './peer-repair.ts';
import { dropOrphanVolumes, rememberDeleted, type OrphanDaemon, type OrphanState } from './orphan-volumes.ts';

export interface StorageAgentOptions {
  client: Client;
  informers: InformerFactory;
  nodeName: string;
  /** The node's address: glusterd binds it, bricks are named by it. */
  hostIP: string;
  /** `<agent data dir>/replicated` holds glusterd's state and the bricks. */
  dataDir: string;
  log: Logger;
  /** Between polls (default 3 s). */
  intervalMs?: number;
  /** Tests: a fake CLI, daemon and fence table. */
  cli?: GlusterCli;
  daemon?: { ensure(): Promise<boolean> } & RepairDaemon & OrphanDaemon;
  fence?: FenceTable;
}

export interface RunningStorageAgent {
  /** One pass now (tests); resolves when it is done. */
  pass(): Promise<void>;
  stop(): void;
}

/** The fence a PV carries, if any. */
export function fenceOf(pv: KubeObject): { node: string; generation: number } | undefined {
  try {
    const f = JSON.parse(pv.metadata.annotations?.[ANN_FENCE] ?? '');
    return typeof f?.node === 'string' && Number.isFinite(Number(f?.generation)) ? { node: f.node, generation: Number(f.generation) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The port glusterd gave this node's brick, from glusterd's own store on this machine
 * (`<workdir>/vols/<volume>/bricks/<address>:<path, / as ->`, `listen-port=`); undefined while the
 * brick is offline or unknown. Read locally, not by `volume status`: that takes the volume's
 * cluster-wide lock, which hangs for the ping-timeout while a peer is cut off — exactly when a
 * fence is wanted (a partition measured a 5.8 s late ack).
 */
export function localBrickPort(workdir: string, volume: string, brick: Brick): number | undefined {
  try {
    const store = readFileSync(join(workdir, 'vols', volume, 'bricks', `${brick.address}:${brick.path.replaceAll('/', '-')}`), 'utf8');
    const port = Number(/^listen-port=(\d+)$/m.exec(store)?.[1]);
    return port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}

export async function startStorageAgent(o: StorageAgentOptions): Promise<RunningStorageAgent> {
  const root = join(o.dataDir, 'replicated');
  const brickRoot = join(root, 'bricks');
  const log = o.log.child({ component: 'storage' });
  await fs.mkdir(brickRoot, { recursive: true });
  const glusterd = o.daemon ?? new Glusterd(join(root, 'glusterd'), o.hostIP, log);
  const cli = o.cli ?? new GlusterCommand(glusterdPaths(join(root, 'glusterd')).socket, 30_000);
  const fence = o.fence ?? new FenceTable();
  // glusterd is not waited for here: it takes seconds to initialize (tens on a loaded machine); the first pass starts it.
  await o.client.patch(R.nodes, undefined, o.nodeName, 'merge', { metadata: { labels: { [STORAGE_NODE_LABEL]: 'true' }, annotations: { [ANN_BRICK_DIR]: brickRoot } } });
  log.info('storage node', { bricks: brickRoot, address: o.hostIP });

  const nodes = o.informers.forResource(R.nodes);
  const volumes = o.informers.forResource(R.persistentvolumes);
  /** Since when each pool member has been connected (pool-membership.ts: the chores wait while one rejoins). */
  const connectedSince = new Map<string, number>();
  const ctx: ChoreContext = {
    cli, nodeName: o.nodeName, brickRoot, log, lastHealth: new Map(), optionsChecked: new Set(),
    poolSettledMs: () => settledForMs(connectedSince, Date.now()),
    node: (name) => nodes.get(name),
    annotate: async (pv, annotations) => void (await o.client.patch(R.persistentvolumes, undefined, pv, 'merge', { metadata: { annotations } })),
  };
  const mine = () => volumes.list().filter((pv) => isReplicatedVolume(pv) && bricksOf(pv).some((b) => b.node === o.nodeName));
  let lastPoolProblem = '';
  /** Volumes this glusterd lacks (volume-import.ts), and the last reason told for not importing them yet. */
  const imports: ImportState = { missingSince: new Map() };
  let lastImportProblem = '';
  /** Whether the pool rejects this glusterd (peer-repair.ts). */
  const rejection: RepairState = {};
  /** Deleted volumes this glusterd still holds (orphan-volumes.ts). */
  const orphans: OrphanState = { since: new Map(), unclaimed: new Map() };
  let lastOrphanWait = '';
  /** Engine volumes whose PV went after its claim's deletion marked it Deleted. */
  const deletedVolumes = new Set<string>();
  const orphanCtx = { cli, daemon: glusterd, log, pvs: () => volumes.list(), deleted: deletedVolumes, settledMs: ctx.poolSettledMs! };

  const workdir = glusterdPaths(join(root, 'glusterd')).workdir;
  async function syncFences(): Promise<void> {
    const rules: FenceRule[] = [];
    const acks: [KubeObject, number][] = [];
    for (const pv of mine()) {
      const f = fenceOf(pv);
      if (!f || f.node === o.nodeName) continue;
      const from = nodeIP(nodes.get(f.node)) ?? bricksOf(pv).find((b) => b.node === f.node)?.address;
      if (!from) {
        log.warn('fence names a node whose address is unknown', { volume: pv.metadata.name, node: f.node });
        continue;
      }
      const name = engineVolumeName(pv);
      const ports = bricksOf(pv).filter((b) => b.node === o.nodeName).map((b) => localBrickPort(workdir, name, b));
      // A brick whose port is unknown (offline, restarting on a new port): every brick port.
      for (const port of ports.includes(undefined) || !ports.length ? [undefined] : ports) rules.push({ volume: name, from, port });
      if (pv.metadata.annotations?.[ANN_FENCE_ACK_PREFIX + o.nodeName] !== String(f.generation)) acks.push([pv, f.generation]);
    }
    await fence.sync(rules);
    for (const [pv, generation] of acks) {
      await ctx.annotate(pv.metadata.name!, { [ANN_FENCE_ACK_PREFIX + o.nodeName]: String(generation) });
      log.info('fence enforced', { volume: pv.metadata.name, node: fenceOf(pv)?.node, generation });
    }
  }

  async function passOnce(): Promise<void> {
    await glusterd.ensure();
    // Not while a reset glusterd rejoins: its peers come with the handshake of the member it probed, and
    // a probe of one that already counts it a member crosses that member's own friend request — both
    // then stay "Sent and Received peer request" (seen on the lab).
    const problems = probesPaused(rejection) ? [] : await joinPool(cli, o.nodeName, nodes.list()).catch((err) => [(err as Error).message]);
    const p = problems.join('; ');
    if (p && p !== lastPoolProblem) log.warn('joining the storage pool', { problems: p });
    lastPoolProblem = p;
    const peers = await cli.peers().catch(() => undefined);
    if (peers) trackConnections(connectedSince, peers, Date.now());
    else {
      // This glusterd not answering (restarting): it rejoins too, and every member with it.
      connectedSince.clear();
      connectedSince.set('', Date.now());
    }
    await fencePass();
    // A member the pool rejects takes part in no volume transaction: put it back first.
    await repairRejection(cli, glusterd, log, o.hostIP, rejection).catch((err) => log.debug('pool rejection check failed', { error: (err as Error).message }));
    // Before the chores: a volume this glusterd lacks makes the volume's every change refused cluster-wide.
    // Not while a reset glusterd rejoins: its handshakes bring the volumes, and a restart then drops
    // a friend request a member waits on — left "Sent and Received peer request" (seen on the lab).
    const imported = probesPaused(rejection) ? { missing: [], waiting: undefined } : await importMissingVolumes(cli, glusterd, log, volumes.list(), imports).catch((err) => {
      log.debug('volume import check failed', { error: (err as Error).message }); // glusterd still starting: the next pass looks again
      return { missing: [], waiting: undefined };
    });
    const waiting = imported.waiting ? `${imported.missing.join(', ')}: ${imported.waiting}` : '';
    if (waiting && waiting !== lastImportProblem) log.warn('volumes this node\'s glusterd lacks are not imported yet', { problem: waiting });
    lastImportProblem = waiting;
    for (const pv of mine()) await volumeChores(ctx, pv);
    await dropReplacedBricks();
    // A volume the cluster deleted that this glusterd still holds (it missed the delete): gone, or it
    // comes back to every member at the next handshake. Not while a reset glusterd rejoins.
    if (!probesPaused(rejection)) {
      const step = await dropOrphanVolumes(orphanCtx, orphans).catch((err) => {
        log.debug('deleted-volume check failed', { error: (err as Error).message });
        return undefined;
      });
      const why = step?.kind === 'wait' ? step.why : '';
      if (why && why !== lastOrphanWait) log.info('a deleted volume this glusterd holds waits', { why });
      lastOrphanWait = why;
    }
  }

  /**
   * A brick directory of a volume this node no longer holds a brick of (its replica moved while the
   * node was away) is a stale copy nothing reads: removed once the engine confirms it is not a brick.
   */
  async function dropReplacedBricks(): Promise<void> {
    const dirs = await fs.readdir(brickRoot).catch(() => [] as string[]);
    for (const pv of volumes.list()) {
      const name = engineVolumeName(pv);
      if (!isReplicatedVolume(pv) || !dirs.includes(name) || bricksOf(pv).some((b) => b.node === o.nodeName)) continue;
      const info = await cli.info(name).catch(() => undefined);
      if (!info || info.bricks.some((b) => b.startsWith(`${o.hostIP}:`))) continue;
      await fs.rm(join(brickRoot, name), { recursive: true, force: true });
      log.info('stale brick removed (its replica moved to another node)', { volume: name });
    }
  }

  let stopped = false;
  /** `run` one call at a time; a call during a run asks for one more run after it. */
  const serialized = (run: () => Promise<void>, what: string) => {
    let running: Promise<void> | undefined;
    let again = false;
    return (): Promise<void> => {
      if (running) { again = true; return running; }
      running = (async () => {
        do {
          again = false;
          await run().catch((err) => log.warn(`${what} failed`, { error: (err as Error).message }));
        } while (again && !stopped);
      })().finally(() => { running = undefined; });
      return running;
    };
  };
  /**
   * Fences have their own serialized loop, run on every PV change without waiting for the chores:
   * a chore's gluster call can hang for the ping-timeout on the very peer being fenced, and the
   * fencing controller moves the member only once this node's ack is written.
   */
  const fencePass = serialized(syncFences, 'storage fence');
  // One pass at a time; a request during a pass runs one more after it.
  const pass = serialized(passOnce, 'storage pass');
  let debounce: NodeJS.Timeout | undefined;
  const soon = () => {
    if (stopped || debounce) return;
    debounce = setTimeout(() => { debounce = undefined; void pass(); }, 200);
  };
  nodes.addHandlers({ add: soon, update: soon, delete: soon });
  volumes.addHandlers({ add: soon, update: soon, delete: soon });
  volumes.addHandlers({ delete: (pv) => rememberDeleted(deletedVolumes, pv) });
  // A fence (or its lifting) is applied at once, whatever pass is under way.
  const fenceSoon = (pv: KubeObject) => { if (!stopped && isReplicatedVolume(pv) && bricksOf(pv).some((b) => b.node === o.nodeName)) void fencePass(); };
  volumes.addHandlers({ add: fenceSoon, update: (_old, pv) => fenceSoon(pv), delete: fenceSoon });
  await Promise.all([nodes.synced(), volumes.synced()]);
  const timer = setInterval(() => void pass(), o.intervalMs ?? 3000);
  timer.unref();
  void pass();
  return {
    pass,
    stop() {
      stopped = true;
      clearInterval(timer);
      if (debounce) clearTimeout(debounce);
    },
  };
}
