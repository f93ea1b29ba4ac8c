import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { REPLICATED_PROVISIONER } from '../../apis/volumes/replicated.ts';
import { ANN_BRICKS, ANN_VOLUME_STATE } from '../../apis/volumes/replicated-volume.ts';
import { createLogger } from '../../util/log.ts';
import type { GlusterCli, PoolPeer } from './gluster-cli.ts';
import { dropOrphanVolumes, ORPHAN_GRACE_MS, type OrphanState } from './orphan-volumes.ts';
import { HALF_JOINED_MS, PEER_IN_CLUSTER, repairHalfJoined, repairRejection, type RepairState } from './peer-repair.ts';
import { quorumCount, quorumHoldsRestart, quorumNeed, restartTakesQuorum } from './server-quorum.ts';
import { IMPORT_GRACE_MS, importMissingVolumes, type ImportState } from './volume-import.ts';
import { POOL_SETTLE_MS } from './volume-chores.ts';

const log = createLogger({ level: 'error' });
const a = (n: number) => `10.0.0.${n}`;
const peer = (n: number, connected = true, state = PEER_IN_CLUSTER): PoolPeer => ({ address: a(n), connected, state });
/** Member `me`'s pool list in a pool of 1..size where the members in `down` are disconnected. */
const viewOf = (me: number, size: number, down: number[] = []) =>
  Array.from({ length: size }, (_, i) => i + 1).filter((n) => n !== me).map((n) => peer(n, !down.includes(n)));
/** A CLI answering `pool list` for this member (node 1) and, by address, for the others. */
function fakeCli(views: Map<string, PoolPeer[]>): GlusterCli {
  return {
    peers: async (remote?: string) => {
      const v = views.get(remote ?? a(1));
      if (!v) throw new Error(`gluster --remote-host=${remote} pool list: Connection failed`);
      return v;
    },
  } as unknown as GlusterCli;
}
const pool = (size: number, down: number[] = []) => new Map(Array.from({ length: size }, (_, i) => i + 1).filter((n) => !down.includes(n)).map((n) => [a(n), viewOf(n, size, down)]));

test("glusterd's rule: more than half of the counted members live, or the ratio's share rounded up", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => quorumNeed(n)), [1, 2, 2, 3, 3, 4]);
  assert.equal(quorumNeed(4, 51), 3);
  assert.equal(quorumNeed(4, 50), 2);
  assert.equal(quorumNeed(3, 100), 3);
  // A peer in no friend state counts for nothing; a disconnected member of the pool counts, not live.
  assert.deepEqual(quorumCount([peer(2), peer(3, false), peer(4, true, 'Accepted peer request')]), { members: 3, live: 2 });
});

test('a restart that would leave members with quorum short of it is held, naming them; one that leaves enough is not', () => {
  // 4 members, one down: the other two would count 2 of 4 while this glusterd restarts.
  const held = restartTakesQuorum(a(1), viewOf(1, 4, [4]), pool(4, [4]));
  assert.match(held!, /10\.0\.0\.2 would count 2 of 4 live \(needs 3\); 10\.0\.0\.3 would count 2 of 4 live \(needs 3\)/);
  // All 4 up: 3 of 4 stay. 5 with one down: 3 of 5.
  assert.equal(restartTakesQuorum(a(1), viewOf(1, 4), pool(4)), undefined);
  assert.equal(restartTakesQuorum(a(1), viewOf(1, 5, [5]), pool(5, [5])), undefined);
  // Two members: the other always loses it.
  assert.match(restartTakesQuorum(a(1), viewOf(1, 2), pool(2))!, /10\.0\.0\.2 would count 1 of 2/);
  // Three with one down: the one left would count 1 of 3.
  assert.match(restartTakesQuorum(a(1), viewOf(1, 3, [3]), pool(3, [3]))!, /10\.0\.0\.2 would count 1 of 3/);
  // No peer answering: this glusterd's own view stands in for theirs.
  assert.match(restartTakesQuorum(a(1), viewOf(1, 4, [4]))!, /10\.0\.0\.2 would count 2 of 4/);
});

test('members already short of quorum lose nothing more, and a member that does not count this one UP does not hold it', () => {
  // 4 members, two down: the others are at 2 of 4 already (their bricks stopped): a restart may be the repair.
  assert.equal(restartTakesQuorum(a(1), viewOf(1, 4, [3, 4]), pool(4, [3, 4])), undefined);
  // This glusterd rejected by the pool (peer-repair.ts): nobody counts it.
  const rejected = [2, 3, 4].map((n) => peer(n, true, 'Peer Rejected'));
  assert.equal(restartTakesQuorum(a(1), rejected, new Map()), undefined);
  // A peer whose own list holds this one half-joined does not count it UP: only the other one is named.
  const views = pool(4, [4]);
  views.set(a(2), [peer(1, true, 'Peer is connected and Accepted'), peer(3), peer(4, false)]);
  assert.match(restartTakesQuorum(a(1), viewOf(1, 4, [4]), views)!, /^[^;]*10\.0\.0\.3 would count 2 of 4[^;]*$/);
  // Their own lists win over this one's view: 10.0.0.2 sees 10.0.0.4 connected, this glusterd does not.
  const asym = pool(4, [4]);
  asym.set(a(2), viewOf(2, 4));
  asym.set(a(3), viewOf(3, 4));
  assert.equal(restartTakesQuorum(a(1), viewOf(1, 4, [4]), asym), undefined);
});

test('quorumHoldsRestart asks the pool lists of the peers this glusterd sees up; one that does not answer is judged by its view', async () => {
  const views = pool(4, [4]);
  const asked: string[] = [];
  const cli = fakeCli(views);
  const peers = cli.peers;
  cli.peers = async (remote?: string) => { if (remote) asked.push(remote); return peers(remote); };
  assert.match((await quorumHoldsRestart(cli, a(1)))!, /would count 2 of 4/);
  assert.deepEqual(asked, [a(2), a(3)], 'the disconnected member is not asked');
  views.delete(a(2));
  assert.match((await quorumHoldsRestart(cli, a(1)))!, /10\.0\.0\.2 would count 2 of 4/);
  assert.equal(await quorumHoldsRestart(fakeCli(pool(4)), a(1)), undefined);
});

const pv = (v: string, state: string): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume',
  metadata: { name: v, annotations: { [ANN_BRICKS]: JSON.stringify([1, 2, 3].map((n) => ({ node: `n${n}`, address: a(n), path: `/b/${v}` }))), [ANN_VOLUME_STATE]: state } },
  spec: { persistentVolumeReclaimPolicy: 'Delete', csi: { driver: REPLICATED_PROVISIONER, volumeHandle: v } }, status: { phase: 'Bound' },
});

test('a volume import waits while the restart would cost quorum, and restarts once it would not', async () => {
  const restarts: string[] = [];
  let views = pool(4, [4]);
  const cli = {
    list: async (remote?: string) => (remote ? ['a'] : []),
    peers: async (remote?: string) => fakeCli(views).peers(remote),
  } as unknown as GlusterCli;
  const daemon = { restart: async (why: string) => void restarts.push(why), restartHeldBy: () => quorumHoldsRestart(cli, a(1)) };
  const state: ImportState = { missingSince: new Map() };
  await importMissingVolumes(cli, daemon, log, [pv('a', 'Ready')], state, 0);
  const r = await importMissingVolumes(cli, daemon, log, [pv('a', 'Ready')], state, IMPORT_GRACE_MS);
  assert.match(r.waiting!, /^held by 10\.0\.0\.2; a glusterd restart here would stop the bricks .* 2 of 4/);
  assert.deepEqual(restarts, []);
  views = pool(4);
  assert.equal((await importMissingVolumes(cli, daemon, log, [pv('a', 'Ready')], state, IMPORT_GRACE_MS + 3000)).restartedFor?.holder, '10.0.0.2');
  assert.equal(restarts.length, 1);
});

test('a half-joined peer\'s repair waits while it would cost quorum (logged once), then goes ahead', async () => {
  const calls: string[] = [];
  let held: string | undefined = 'a glusterd restart here would stop the bricks of members left short of server quorum: x';
  const daemon = {
    resetStore: async () => void calls.push('reset'), restart: async () => void calls.push('restart'),
    rejoinHalfJoined: async (p: readonly string[]) => void calls.push(`rejoin ${p.join(' ')}`),
    restartHeldBy: async () => held,
  };
  const mine = [peer(2), peer(3, true, 'Peer is connected and Accepted'), peer(4, false)];
  const state: RepairState = {};
  assert.equal(await repairHalfJoined(mine, daemon, state, 0), false);
  assert.equal(await repairHalfJoined(mine, daemon, state, HALF_JOINED_MS), false);
  assert.equal(state.quorumHeld, held);
  assert.deepEqual(calls, []);
  // Through the pass: the wait is logged once, not every pass.
  const warned: string[] = [];
  const wlog = { ...log, warn: (msg: string) => void warned.push(msg) } as any;
  const cli = fakeCli(new Map([[a(1), mine]]));
  const passes: RepairState = {};
  for (const t of [0, HALF_JOINED_MS, HALF_JOINED_MS + 3000, HALF_JOINED_MS + 6000]) await repairRejection(cli, daemon, wlog, a(1), passes, t, { ms: 0, pollMs: 0 });
  assert.equal(warned.filter((w) => /half-joined waits/.test(w)).length, 1);
  assert.deepEqual(calls, []);
  held = undefined;
  assert.equal(await repairHalfJoined(mine, daemon, state, HALF_JOINED_MS + 9000), true);
  assert.deepEqual(calls, [`rejoin ${a(3)}`]);
  assert.equal(state.quorumHeld, undefined);
});

test('a deleted volume held here alone waits to be dropped while the restart would cost quorum; a pool-wide delete is no restart and never waits', async () => {
  const V = 'pvc-00000000-0000-0000-0000-000000000001';
  const dropped: string[][] = [];
  let held: string | undefined = 'quorum';
  const daemon = { restart: async () => { throw new Error('no restart expected'); }, dropVolumes: async (v: readonly string[]) => void dropped.push([...v]), restartHeldBy: async () => held };
  const lists: Record<string, string[]> = { [a(2)]: [], [a(3)]: [] };
  const cli = {
    list: async (remote?: string) => (remote ? lists[remote] : [V]),
    peers: async () => [peer(2), peer(3)],
    info: async () => ({ name: V, status: 'Started', bricks: [] }),
    stop: async () => {}, delete: async () => {},
  } as unknown as GlusterCli;
  const ctx = { cli, daemon, log, pvs: () => [pv(V, 'Deleted')], deleted: new Set<string>(), settledMs: () => POOL_SETTLE_MS };
  const state: OrphanState = { since: new Map(), unclaimed: new Map() };
  await dropOrphanVolumes(ctx, state, 0);
  assert.deepEqual(await dropOrphanVolumes(ctx, state, ORPHAN_GRACE_MS), { kind: 'wait', why: 'quorum' });
  assert.deepEqual(dropped, []);
  held = undefined;
  assert.deepEqual(await dropOrphanVolumes(ctx, state, ORPHAN_GRACE_MS + 1), { kind: 'drop', volumes: [V] });
  // Held by every member: a transaction, whatever the quorum check would say.
  held = 'quorum';
  lists[a(2)] = [V];
  lists[a(3)] = [V];
  const s2: OrphanState = { since: new Map(), unclaimed: new Map() };
  await dropOrphanVolumes(ctx, s2, 0);
  assert.deepEqual(await dropOrphanVolumes(ctx, s2, ORPHAN_GRACE_MS), { kind: 'delete', volume: V });
});
