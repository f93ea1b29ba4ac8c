import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { REPLICATED_PROVISIONER } from '../../apis/volumes/replicated.ts';
import { ANN_VOLUME_STATE } from '../../apis/volumes/replicated-volume.ts';
import { createLogger } from '../../util/log.ts';
import type { GlusterCli, PoolPeer, VolumeInfo } from './gluster-cli.ts';
import {
  dropOrphanVolumes, fateFromPVs, ORPHAN_GRACE_MS, ORPHAN_RESTART_EVERY_MS, orphanStep, overdueOrphans, rememberDeleted, type OrphanState, type VolumeFate,
} from './orphan-volumes.ts';
import { POOL_SETTLE_MS } from './volume-chores.ts';

const A = 'pvc-0a1b2c3d-0000-4000-8000-00000000000a';
const B = 'pvc-0a1b2c3d-0000-4000-8000-00000000000b';
const pv = (name: string, state?: string): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume',
  metadata: { name, annotations: state ? { [ANN_VOLUME_STATE]: state } : {} },
  spec: { csi: { driver: REPLICATED_PROVISIONER, volumeHandle: name } },
});
const inPool = (address: string): PoolPeer => ({ address, connected: true, state: 'Peer in Cluster' });
const peers = [inPool('10.0.0.2'), inPool('10.0.0.3')];
const settled = POOL_SETTLE_MS;

test('fate: a PV marked Deleted is deleted, any other PV live, no PV unknown (the API is asked)', () => {
  assert.equal(fateFromPVs([pv(A, 'Deleted')], A), 'deleted');
  assert.equal(fateFromPVs([pv(A, 'Ready')], A), 'live');
  assert.equal(fateFromPVs([pv(A)], A), 'live', 'a PV whose volume is not made yet');
  assert.equal(fateFromPVs([pv(B, 'Deleted')], A), undefined);
});

test('only volumes deleted for the whole grace are overdue; a live or unlisted one is forgotten; other names never', () => {
  const since = new Map<string, number>();
  const fate = new Map<string, VolumeFate>([[A, 'deleted'], [B, 'live'], ['hand-made', 'deleted']]);
  assert.deepEqual(overdueOrphans([A, B, 'hand-made'], fate, since, 1000), []);
  assert.deepEqual(overdueOrphans([A, B, 'hand-made'], fate, since, 1000 + ORPHAN_GRACE_MS - 1), []);
  assert.deepEqual(overdueOrphans([A, B, 'hand-made'], fate, since, 1000 + ORPHAN_GRACE_MS), [A]);
  // Its PV seen live again (the informer had lagged): the grace starts over.
  overdueOrphans([A], new Map([[A, 'live']]), since, 2000 + ORPHAN_GRACE_MS);
  assert.deepEqual(overdueOrphans([A], fate, since, 3000 + ORPHAN_GRACE_MS), []);
  assert.equal(since.get(A), 3000 + ORPHAN_GRACE_MS);
});

test('never while the pool is not whole here: a peer disconnected or half-joined, a rejoin just now, a peer silent', () => {
  const state: OrphanState = { since: new Map(), unclaimed: new Map() };
  const none = new Map([['10.0.0.2', []], ['10.0.0.3', []]]);
  assert.equal(orphanStep([], peers, none, settled, state, 0), undefined);
  assert.match((orphanStep([A], [inPool('10.0.0.2'), { address: '10.0.0.3', connected: false, state: 'Peer in Cluster' }], none, settled, state, 0) as any).why, /10\.0\.0\.3 \(disconnected\)/);
  assert.match((orphanStep([A], [inPool('10.0.0.2'), { address: '10.0.0.3', connected: true, state: 'Accepted peer request' }], none, settled, state, 0) as any).why, /Accepted peer request/);
  assert.equal(orphanStep([A], peers, none, settled - 1, state, 0)?.kind, 'wait');
  assert.match((orphanStep([A], peers, new Map([['10.0.0.2', []]]), settled, state, 0) as any).why, /no volume list from 10\.0\.0\.3/);
  assert.deepEqual(orphanStep([A], peers, none, settled, state, 0), { kind: 'drop', volumes: [A] });
});

test('held here alone: dropped from this store; held everywhere: deleted by a transaction; held by some: spread first; a restart a minute at most', () => {
  const state: OrphanState = { since: new Map(), unclaimed: new Map() };
  assert.deepEqual(orphanStep([A], peers, new Map([['10.0.0.2', [B]], ['10.0.0.3', []]]), settled, state, 0), { kind: 'drop', volumes: [A] });
  assert.deepEqual(orphanStep([A], peers, new Map([['10.0.0.2', [A]], ['10.0.0.3', [A]]]), settled, state, 0), { kind: 'delete', volume: A });
  assert.deepEqual(orphanStep([A], peers, new Map([['10.0.0.2', [A]], ['10.0.0.3', []]]), settled, state, 0), { kind: 'spread', volumes: [A], to: ['10.0.0.3'] });
  const restarted: OrphanState = { since: new Map(), unclaimed: new Map(), lastRestart: 0 };
  const alone = new Map([['10.0.0.2', []], ['10.0.0.3', []]]);
  assert.equal(orphanStep([A], peers, alone, settled, restarted, ORPHAN_RESTART_EVERY_MS - 1)?.kind, 'wait');
  assert.equal(orphanStep([A], peers, alone, settled, restarted, ORPHAN_RESTART_EVERY_MS)?.kind, 'drop');
  // A transaction needs no restart: not held back by one.
  assert.equal(orphanStep([A], peers, new Map([['10.0.0.2', [A]], ['10.0.0.3', [A]]]), settled, restarted, 1)?.kind, 'delete');
});

/** This member's glusterd and what its peers list. */
class Fake implements Partial<GlusterCli> {
  calls: string[] = [];
  constructor(public mine: string[], public remote: Record<string, string[]>) {}
  async peers() { return Object.keys(this.remote).map(inPool); }
  async list(remoteHost?: string) { return remoteHost ? this.remote[remoteHost] : this.mine; }
  async info(volume: string): Promise<VolumeInfo | undefined> { return this.mine.includes(volume) ? { name: volume, status: 'Started', bricks: [] } : undefined; }
  async stop(v: string) { this.calls.push(`stop ${v}`); }
  async delete(v: string) { this.calls.push(`delete ${v}`); this.mine = this.mine.filter((x) => x !== v); }
}

test('one pass: a volume whose PV went marked Deleted is dropped after the grace; one whose PV went otherwise is kept and named', async () => {
  const cli = new Fake([A, B], { '10.0.0.2': [], '10.0.0.3': [] });
  const dropped: string[][] = [];
  const daemon = { restart: async () => { throw new Error('no restart expected'); }, dropVolumes: async (v: readonly string[]) => void dropped.push([...v]) };
  const deleted = new Set<string>();
  rememberDeleted(deleted, pv(A, 'Deleted'));
  rememberDeleted(deleted, pv(B, 'Ready'));
  assert.deepEqual([...deleted], [A], 'a PV deleted by hand (or a Retain one) is not its volume deleted');
  const warned: string[] = [];
  const log = { ...createLogger({ level: 'error' }), warn: (msg: string) => void warned.push(msg) } as any;
  const ctx = { cli: cli as unknown as GlusterCli, daemon, log, pvs: () => [], deleted, settledMs: () => settled };
  const state: OrphanState = { since: new Map(), unclaimed: new Map() };
  assert.equal(await dropOrphanVolumes(ctx, state, 0), undefined, 'not before the grace');
  assert.deepEqual(warned, [], 'a volume without a PV yet is not named before the grace either (the informer may lag)');
  assert.deepEqual(await dropOrphanVolumes(ctx, state, ORPHAN_GRACE_MS), { kind: 'drop', volumes: [A] });
  assert.deepEqual(dropped, [[A]]);
  assert.equal(warned.filter((w) => /without a PV/.test(w)).length, 1);
  await dropOrphanVolumes(ctx, state, 2 * ORPHAN_GRACE_MS);
  assert.equal(warned.filter((w) => /without a PV/.test(w)).length, 1, 'named once');
  // A PV the informer has, not Deleted: its volume is live whatever was remembered.
  const s1: OrphanState = { since: new Map(), unclaimed: new Map() };
  const c1 = { ...ctx, cli: new Fake([A], {}) as unknown as GlusterCli, pvs: () => [pv(A, 'Ready')] };
  await dropOrphanVolumes(c1, s1, 0);
  assert.equal(await dropOrphanVolumes(c1, s1, ORPHAN_GRACE_MS), undefined);
  // Held by every member: one transaction.
  const all = new Fake([A], { '10.0.0.2': [A], '10.0.0.3': [A] });
  const s2: OrphanState = { since: new Map(), unclaimed: new Map() };
  const c2 = { ...ctx, cli: all as unknown as GlusterCli, pvs: () => [pv(A, 'Deleted')] };
  await dropOrphanVolumes(c2, s2, 0);
  assert.deepEqual(await dropOrphanVolumes(c2, s2, ORPHAN_GRACE_MS), { kind: 'delete', volume: A });
  assert.deepEqual(all.calls, [`stop ${A}`, `delete ${A}`]);
});
