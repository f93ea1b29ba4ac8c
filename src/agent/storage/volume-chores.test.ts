import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { REPLICATED_PROVISIONER } from '../../apis/volumes/replicated.ts';
import { ANN_BRICKS, ANN_BRICK_FULL_PREFIX, ANN_BRICK_REMOVED_PREFIX, ANN_ENGINE_ERROR, ANN_HEALTH, ANN_VOLUME_STATE, type Brick } from '../../apis/volumes/replicated-volume.ts';
import { createLogger } from '../../util/log.ts';
import type { BrickStatus, GlusterCli, VolumeInfo } from './gluster-cli.ts';
import { brickSpace, POOL_SETTLE_MS, VOLUME_OPTIONS, volumeChores, type ChoreContext } from './volume-chores.ts';

const root = mkdtempSync(join(tmpdir(), 'berth-chores-'));
after(() => rmSync(root, { recursive: true, force: true }));
const V = 'pvc-1';
const brick = (n: number): Brick => ({ node: `n${n}`, address: `10.0.0.${n}`, path: join(root, `n${n}`, V, 'brick') });
const bricks = [brick(1), brick(2), brick(3)];

/** A gluster that keeps one volume in memory and records every mutating call. */
class FakeGluster implements GlusterCli {
  calls: string[] = [];
  vol?: VolumeInfo;
  offline = new Set<string>();
  async probe() {}
  /** A peer's state as this glusterd sees it, by address (default: none given, as older fakes). */
  peerState: Record<string, string> = {};
  async peers() { return Object.keys(this.remote).map((address) => ({ address, connected: true, ...(this.peerState[address] ? { state: this.peerState[address] } : {}) })); }
  async info() { return this.vol && { ...this.vol }; }
  async create(v: string, r: number, b: string[]) { this.calls.push(`create ${v} ${r} ${b.length}`); this.vol = { name: v, status: 'Created', bricks: b }; }
  async set(v: string, k: string, val: string) { this.calls.push(`set ${k}=${val}`); }
  async start(v: string, force = false) { this.calls.push(`start${force ? ' force' : ''}`); this.vol!.status = 'Started'; }
  async stop() { this.calls.push('stop'); this.vol!.status = 'Stopped'; }
  async delete() { this.calls.push('delete'); this.vol = undefined; }
  async status(): Promise<BrickStatus[]> { return this.vol!.bricks.map((name) => ({ name, online: !this.offline.has(name.split(':')[0]), port: 50000 })); }
  async heal(_v: string, how: 'index' | 'full') { this.calls.push(`heal ${how}`); }
  async replaceBrick(v: string, from: string, to: string) { this.calls.push(`replace ${from.split(':')[0]} ${to.split(':')[0]}`); this.vol!.bricks = this.vol!.bricks.map((b) => (b === from ? to : b)); }
  /** What other members' glusterds list, by address (all connected). */
  remote: Record<string, string[]> = {};
  async list(remoteHost?: string) { return remoteHost ? this.remote[remoteHost] ?? [] : this.vol ? [this.vol.name] : []; }
}

function setup(me: string, ready: Record<string, boolean> = {}) {
  const cli = new FakeGluster();
  const annotations: Record<string, string | null>[] = [];
  const ctx: ChoreContext = {
    cli, nodeName: me, brickRoot: join(root, me), log: createLogger({ level: 'error' }),
    node: (name) => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { conditions: [{ type: 'Ready', status: ready[name] === false ? 'False' : 'True' }] } }),
    annotate: async (_pv, a) => void annotations.push(a),
  };
  return { cli, ctx, annotations };
}
const pv = (ann: Record<string, string> = {}, phase = 'Bound'): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: V, annotations: { [ANN_BRICKS]: JSON.stringify(bricks), ...ann } },
  spec: { persistentVolumeReclaimPolicy: 'Delete', csi: { driver: REPLICATED_PROVISIONER, volumeHandle: V } }, status: { phase },
});

test('the first Ready brick node creates, configures and starts the volume once, then says Ready; the others only make their brick dir', async () => {
  const other = setup('n2');
  await volumeChores(other.ctx, pv());
  assert.deepEqual(other.cli.calls, []);
  assert.ok(existsSync(join(root, 'n2', V)));
  const lead = setup('n1');
  await volumeChores(lead.ctx, pv());
  assert.deepEqual(lead.cli.calls, [`create ${V} 3 3`, ...VOLUME_OPTIONS.map(([k, v]) => `set ${k}=${v}`), 'start']);
  assert.deepEqual(lead.annotations.at(-1), { [ANN_VOLUME_STATE]: 'Ready' });
  // Lost the annotation write: the next pass finds the volume and does not create it again.
  lead.cli.calls = [];
  await volumeChores(lead.ctx, pv());
  assert.ok(!lead.cli.calls.some((c) => c.startsWith('create') || c === 'start'));
});

test('node n1 down: n2 runs the chores; health names the offline brick, healed it is written again', async () => {
  const s = setup('n2', { n1: false });
  s.cli.vol = { name: V, status: 'Started', bricks: bricks.map((b) => `${b.address}:${b.path}`) };
  s.cli.offline.add('10.0.0.1');
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }));
  const h = JSON.parse(s.annotations.at(-1)![ANN_HEALTH]!);
  assert.deepEqual([h.online, h.total, h.offline], [2, 3, ['n1']]);
  assert.ok(!s.cli.calls.includes('start force'), 'a brick of a node that is down is not restarted');
  s.annotations.length = 0;
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready', [ANN_HEALTH]: JSON.stringify(h) }));
  assert.equal(s.annotations.length, 0, 'unchanged health is not written again');
});

test('a brick back online with writes it missed: an index heal at once (not a full crawl)', async () => {
  const s = setup('n1');
  s.cli.vol = { name: V, status: 'Started', bricks: bricks.map((b) => `${b.address}:${b.path}`) };
  const index = join(brick(1).path, '.glusterfs', 'indices', 'xattrop');
  mkdirSync(index, { recursive: true });
  writeFileSync(join(index, '0f9c2b1e-4d1a-4c55-9d0e-2a7b6c1d3e4f'), '');
  const degraded = { online: 2, total: 3, offline: ['n3'], pendingHeal: 1, checkedAt: '' };
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready', [ANN_HEALTH]: JSON.stringify(degraded) }));
  assert.deepEqual(s.cli.calls, ['heal index']);
  rmSync(join(brick(1).path, '.glusterfs'), { recursive: true });
});

test('a volume made with older options gets those that differ, once per agent run; none when they match', async () => {
  const s = setup('n1');
  const current = Object.fromEntries(VOLUME_OPTIONS);
  s.cli.vol = { name: V, status: 'Started', bricks: bricks.map((b) => `${b.address}:${b.path}`), options: { ...current, 'cluster.self-heal-window-size': '8' } };
  s.ctx.optionsChecked = new Set();
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }));
  assert.deepEqual(s.cli.calls.filter((c) => c.startsWith('set')), ['set cluster.self-heal-window-size=32']);
  s.cli.calls = [];
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }));
  assert.deepEqual(s.cli.calls.filter((c) => c.startsWith('set')), [], 'checked once');
  const fresh = setup('n1');
  fresh.cli.vol = { ...s.cli.vol, options: current };
  fresh.ctx.optionsChecked = new Set();
  await volumeChores(fresh.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }));
  assert.deepEqual(fresh.cli.calls.filter((c) => c.startsWith('set')), [], 'no transaction when they match');
  assert.ok(fresh.ctx.optionsChecked.has(V));
});

test('a brick offline on a Ready node is started again (start force) only once no pool member rejoined for POOL_SETTLE_MS; a replica swap waits too', async () => {
  const s = setup('n1');
  s.cli.vol = { name: V, status: 'Started', bricks: bricks.map((b) => `${b.address}:${b.path}`) };
  s.cli.offline.add('10.0.0.3');
  let settledMs = POOL_SETTLE_MS - 1;
  s.ctx.poolSettledMs = () => settledMs;
  s.ctx.lastHealth = new Map();
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }));
  assert.ok(!s.cli.calls.includes('start force'), 'not while a member may be importing the volume');
  settledMs = POOL_SETTLE_MS;
  s.ctx.lastHealth.clear();
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }));
  assert.ok(s.cli.calls.includes('start force'));
  const ann = { [ANN_VOLUME_STATE]: 'Ready', [ANN_BRICKS]: JSON.stringify([brick(1), brick(2), brick(4)]), 'storage.berth.dev/replace': JSON.stringify({ from: brick(3), to: brick(4) }) };
  s.cli.calls = [];
  settledMs = 1000;
  await volumeChores(s.ctx, { ...pv(), metadata: { name: V, annotations: ann } });
  assert.deepEqual(s.cli.calls, []);
  settledMs = Infinity;
  await volumeChores(s.ctx, { ...pv(), metadata: { name: V, annotations: ann } });
  assert.deepEqual(s.cli.calls, ['replace 10.0.0.3 10.0.0.4', 'heal full']);
});

test('released under Delete: the chore node stops and deletes it; then each brick node removes its own brick directory', async () => {
  const lead = setup('n1');
  lead.cli.vol = { name: V, status: 'Started', bricks: [] };
  let settledMs = POOL_SETTLE_MS - 1;
  lead.ctx.poolSettledMs = () => settledMs;
  await volumeChores(lead.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }, 'Released'));
  assert.deepEqual(lead.cli.calls, [], 'not while a member may be importing the volume');
  settledMs = POOL_SETTLE_MS;
  await volumeChores(lead.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }, 'Released'));
  assert.deepEqual(lead.cli.calls, ['stop', 'delete']);
  assert.deepEqual(lead.annotations.at(-1), { [ANN_VOLUME_STATE]: 'Deleted' });
  const other = setup('n3');
  mkdirSync(join(root, 'n3', V, 'brick'), { recursive: true });
  await volumeChores(other.ctx, pv({ [ANN_VOLUME_STATE]: 'Deleted' }, 'Released'));
  assert.ok(!existsSync(join(root, 'n3', V)));
  assert.deepEqual(other.annotations.at(-1), { [ANN_BRICK_REMOVED_PREFIX + 'n3']: 'true' });
});

test('released while the chore node\'s glusterd lacks the volume a member holds: not told Deleted; held by none: Deleted', async () => {
  const lead = setup('n1');
  lead.cli.remote = { '10.0.0.2': [], '10.0.0.3': [V] };
  await volumeChores(lead.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }, 'Released'));
  assert.deepEqual(lead.cli.calls, []);
  assert.ok(!lead.annotations.some((a) => ANN_VOLUME_STATE in a), 'not Deleted while 10.0.0.3 holds it');
  assert.match(String(lead.annotations.at(-1)?.['storage.berth.dev/engine-error']), /unknown to this node's glusterd but 10\.0\.0\.3 holds it/);
  lead.cli.remote = { '10.0.0.2': [], '10.0.0.3': [] };
  await volumeChores(lead.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }, 'Released'));
  assert.deepEqual(lead.annotations.at(-1), { [ANN_VOLUME_STATE]: 'Deleted' });
});

test('released: not deleted while a connected member is not "Peer in Cluster" here (the transaction would skip it)', async () => {
  const lead = setup('n1');
  lead.cli.vol = { name: V, status: 'Started', bricks: [] };
  lead.cli.remote = { '10.0.0.2': [V], '10.0.0.3': [V] };
  lead.cli.peerState = { '10.0.0.2': 'Peer in Cluster', '10.0.0.3': 'Accepted peer request' };
  await volumeChores(lead.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }, 'Released'));
  assert.deepEqual(lead.cli.calls, []);
  assert.match(String(lead.annotations.at(-1)?.[ANN_ENGINE_ERROR]), /10\.0\.0\.3 is "Accepted peer request"/);
  lead.cli.peerState['10.0.0.3'] = 'Peer in Cluster';
  await volumeChores(lead.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }, 'Released'));
  assert.deepEqual(lead.cli.calls, ['stop', 'delete']);
});

test('deleted: the chore node removes its brick (which lets the PV go) only once no connected member lists the volume', async () => {
  const lead = setup('n1');
  mkdirSync(join(root, 'n1', V, 'brick'), { recursive: true });
  lead.cli.remote = { '10.0.0.2': [], '10.0.0.4': [V] };
  await volumeChores(lead.ctx, pv({ [ANN_VOLUME_STATE]: 'Deleted' }, 'Released'));
  assert.ok(existsSync(join(root, 'n1', V)), 'kept while 10.0.0.4 lists the volume');
  assert.match(String(lead.annotations.at(-1)?.[ANN_ENGINE_ERROR]), /10\.0\.0\.4 still list it/);
  // A brick node that is not the chore node does not wait: the PV waits on the chore node.
  const other = setup('n2');
  other.cli.remote = lead.cli.remote;
  mkdirSync(join(root, 'n2', V, 'brick'), { recursive: true });
  await volumeChores(other.ctx, pv({ [ANN_VOLUME_STATE]: 'Deleted' }, 'Released'));
  assert.ok(!existsSync(join(root, 'n2', V)));
  lead.cli.remote = { '10.0.0.2': [], '10.0.0.4': [] };
  const err = lead.annotations.at(-1)![ANN_ENGINE_ERROR]!;
  await volumeChores(lead.ctx, pv({ [ANN_VOLUME_STATE]: 'Deleted', [ANN_ENGINE_ERROR]: err }, 'Released'));
  assert.ok(!existsSync(join(root, 'n1', V)));
  assert.deepEqual(lead.annotations.slice(-2), [{ [ANN_ENGINE_ERROR]: null }, { [ANN_BRICK_REMOVED_PREFIX + 'n1']: 'true' }]);
});

test('a brick path outside the node brick directory is refused, not removed', async () => {
  const s = setup('n1');
  const evil = [{ node: 'n1', address: '10.0.0.1', path: '/etc/brick' }, brick(2), brick(3)];
  await volumeChores(s.ctx, { ...pv({ [ANN_VOLUME_STATE]: 'Deleted' }, 'Released'), metadata: { name: V, annotations: { [ANN_BRICKS]: JSON.stringify(evil), [ANN_VOLUME_STATE]: 'Deleted' } } });
  assert.match(String(s.annotations.at(-1)!['storage.berth.dev/engine-error']), /refusing brick \/etc\/brick/);
});

test('a replica moved: the new node makes its brick directory; the chore node swaps the brick once, heals, and clears the request', async () => {
  const moved = [brick(1), brick(2), brick(4)];
  const ann = { [ANN_VOLUME_STATE]: 'Ready', [ANN_BRICKS]: JSON.stringify(moved), 'storage.berth.dev/replace': JSON.stringify({ from: brick(3), to: brick(4) }) };
  const fresh = setup('n4');
  await volumeChores(fresh.ctx, { ...pv(), metadata: { name: V, annotations: ann } });
  assert.ok(existsSync(join(root, 'n4', V)));
  const lead = setup('n1');
  lead.cli.vol = { name: V, status: 'Started', bricks: bricks.map((b) => `${b.address}:${b.path}`) };
  await volumeChores(lead.ctx, { ...pv(), metadata: { name: V, annotations: ann } });
  assert.deepEqual(lead.cli.calls, ['replace 10.0.0.3 10.0.0.4', 'heal full']);
  assert.deepEqual(lead.annotations.at(-1), { 'storage.berth.dev/replace': null });
  lead.cli.calls = [];
  await volumeChores(lead.ctx, { ...pv(), metadata: { name: V, annotations: ann } });
  assert.ok(!lead.cli.calls.some((c) => c.startsWith('replace')), 'not swapped twice');
});

test('a replica swapped whose full heal is refused: the request stays and the heal is asked again, the swap not repeated', async () => {
  const ann = { [ANN_VOLUME_STATE]: 'Ready', [ANN_BRICKS]: JSON.stringify([brick(1), brick(2), brick(4)]), 'storage.berth.dev/replace': JSON.stringify({ from: brick(3), to: brick(4) }) };
  const lead = setup('n1');
  lead.cli.vol = { name: V, status: 'Started', bricks: bricks.map((b) => `${b.address}:${b.path}`) };
  let refuse = true;
  lead.cli.heal = async (_v: string, how: 'index' | 'full') => { lead.cli.calls.push(`heal ${how}`); if (refuse) throw new Error('Self-heal daemon is not running'); };
  await volumeChores(lead.ctx, { ...pv(), metadata: { name: V, annotations: ann } });
  assert.deepEqual(lead.cli.calls, ['replace 10.0.0.3 10.0.0.4', 'heal full']);
  assert.ok(!lead.annotations.some((a) => 'storage.berth.dev/replace' in a), 'the swap is still asked for');
  assert.match(String(lead.annotations.at(-1)?.['storage.berth.dev/engine-error']), /full heal did not start \(retrying\): Self-heal daemon is not running/);
  refuse = false;
  lead.cli.calls = [];
  await volumeChores(lead.ctx, { ...pv(), metadata: { name: V, annotations: { ...ann, 'storage.berth.dev/engine-error': 'x' } } });
  assert.deepEqual(lead.cli.calls, ['heal full'], 'healed, not swapped again');
  assert.ok(lead.annotations.some((a) => a['storage.berth.dev/replace'] === null), 'the request cleared');
});

test('a replica moved while the chore node\'s glusterd lacks the volume: nothing is swapped and the request stays', async () => {
  const ann = { [ANN_VOLUME_STATE]: 'Ready', [ANN_BRICKS]: JSON.stringify([brick(1), brick(2), brick(4)]), 'storage.berth.dev/replace': JSON.stringify({ from: brick(3), to: brick(4) }) };
  const lead = setup('n1');
  await volumeChores(lead.ctx, { ...pv(), metadata: { name: V, annotations: ann } });
  assert.deepEqual(lead.cli.calls, []);
  assert.ok(!lead.annotations.some((a) => 'storage.berth.dev/replace' in a), 'the swap is still asked for');
  assert.match(String(lead.annotations.at(-1)?.['storage.berth.dev/engine-error']), /unknown to this node's glusterd/);
});

test('each brick node says when its brick filesystem is full, once, and takes it back when space returns', async () => {
  const s = setup('n3'); // not the chore node: only a brick's own node sees its filesystem
  let space = { free: 512 * 1024, total: 64 * 1048576 };
  s.ctx.brickSpace = async (path) => (path === brick(3).path ? space : undefined);
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }));
  assert.deepEqual(s.annotations, [{ [`${ANN_BRICK_FULL_PREFIX}n3`]: JSON.stringify(space) }]);
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready', [`${ANN_BRICK_FULL_PREFIX}n3`]: JSON.stringify(space) }));
  assert.equal(s.annotations.length, 1, 'still full: not written again');
  space = { free: 32 * 1048576, total: 64 * 1048576 };
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready', [`${ANN_BRICK_FULL_PREFIX}n3`]: '{}' }));
  assert.deepEqual(s.annotations.at(-1), { [`${ANN_BRICK_FULL_PREFIX}n3`]: null });
  s.annotations.length = 0;
  await volumeChores(s.ctx, pv({ [ANN_VOLUME_STATE]: 'Ready' }));
  assert.deepEqual(s.annotations, [], 'space enough, nothing told: nothing written');
  await volumeChores(s.ctx, pv());
  assert.deepEqual(s.annotations, [], 'a volume not Ready yet is not measured');
});

test('brickSpace measures a real filesystem', async () => {
  const space = await brickSpace(root);
  assert.ok(space && space.total > 0 && space.free >= 0 && space.free <= space.total, JSON.stringify(space));
  assert.equal(await brickSpace(join(root, 'missing')), undefined);
});
