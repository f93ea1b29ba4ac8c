import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../util/log.ts';
import { parsePool, type GlusterCli, type PoolPeer } from './gluster-cli.ts';
import { befriendStuckPeers, Glusterd } from './glusterd.ts';
import { AFTER_RESET_MS, handshakeDone, HALF_JOINED_EVERY_MS, HALF_JOINED_MS, HALF_JOINED_NEXT_MS, PEER_IN_CLUSTER, PROBES_PAUSED_MS, probesPaused, REJECTED_GRACE_MS, REPAIR_EVERY_MS, rejoinThrough, repairRejection, type RepairState } from './peer-repair.ts';

const log = createLogger({ level: 'error' });
const IN = PEER_IN_CLUSTER;
const REJ = 'Peer Rejected';
const peer = (n: number, state = IN, connected = true): PoolPeer => ({ address: `10.0.0.${n}`, connected, state });
const me = '10.0.0.4';
/** The probe's handshake is not waited for where a test does not look at it. */
const noWait = { ms: 0, pollMs: 0 };

/** A pool of 1–3 in cluster and 4, which they reject (and which rejects them). */
const views = (): Map<string, PoolPeer[]> => new Map([
  ['10.0.0.1', [peer(2), peer(3), peer(4, REJ)]],
  ['10.0.0.2', [peer(1), peer(3), peer(4, REJ)]],
  ['10.0.0.3', [peer(1), peer(2), peer(4, REJ)]],
  [me, [peer(1, REJ), peer(2, REJ), peer(3, REJ)]],
]);

test('the member every peer rejects, rejected by one that is in the pool with others, rejoins through it', () => {
  const v = views();
  assert.equal(rejoinThrough(me, v.get(me)!, v), '10.0.0.1');
  // The others see one rejected peer and do nothing: it is that peer's to repair.
  for (const other of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.equal(rejoinThrough(other, v.get(other)!, v), undefined, other);
  // A peer that did not answer is passed over.
  assert.equal(rejoinThrough(me, v.get(me)!, new Map([['10.0.0.1', undefined], ['10.0.0.2', v.get('10.0.0.2')]])), '10.0.0.2');
});

test('two members rejecting each other, or halves of a pool, are left alone: nothing says which side is right', () => {
  const pair = new Map([['10.0.0.1', [peer(2, REJ)]], ['10.0.0.2', [peer(1, REJ)]]]);
  assert.equal(rejoinThrough('10.0.0.1', pair.get('10.0.0.1')!, pair), undefined);
  assert.equal(rejoinThrough('10.0.0.2', pair.get('10.0.0.2')!, pair), undefined);
  const halves = new Map([
    ['10.0.0.1', [peer(2), peer(3, REJ), peer(4, REJ)]], ['10.0.0.2', [peer(1), peer(3, REJ), peer(4, REJ)]],
    ['10.0.0.3', [peer(4), peer(1, REJ), peer(2, REJ)]], ['10.0.0.4', [peer(3), peer(1, REJ), peer(2, REJ)]],
  ]);
  for (const [addr, mine] of halves) assert.equal(rejoinThrough(addr, mine, halves), undefined, addr);
  // Rejected by a peer that is itself alone: no rejoin through it.
  assert.equal(rejoinThrough(me, [peer(1, REJ)], new Map([['10.0.0.1', [peer(4, REJ), peer(2, IN, false)]]])), undefined);
  // A disconnected peer's state is stale: not counted.
  assert.equal(rejoinThrough(me, [peer(1, REJ, false)], views()), undefined);
});

test('pool list: a rejected peer\'s state as glusterd 10 reports it', () => {
  const xml = readFileSync(new URL('./fixtures/pool-list.xml', import.meta.url), 'utf8').replace('<stateStr>Peer in Cluster</stateStr>', '<stateStr>Peer Rejected</stateStr>');
  const peers = parsePool(xml);
  assert.equal(peers.filter((p) => p.state === REJ).length, 1);
  assert.equal(peers.filter((p) => p.state === IN).length, 2);
});

/** A daemon that records what is asked of it. */
const fakeDaemon = (calls: string[]) => ({
  resetStore: async () => void calls.push('reset'),
  restart: async () => void calls.push('restart'),
  rejoinHalfJoined: async (a: readonly string[]) => void calls.push(`rejoin ${a.join(' ')}`),
});

/** A CLI over `views` (this node is `me`); probes recorded. */
function fakeCli(v: Map<string, PoolPeer[]>, probes: string[]): GlusterCli {
  const fail = () => { throw new Error('not in this test'); };
  return {
    peers: async (remote?: string) => v.get(remote ?? me) ?? fail(),
    probe: async (a: string) => void probes.push(a),
    info: fail, create: fail, set: fail, start: fail, stop: fail, delete: fail, status: fail, heal: fail, replaceBrick: fail, list: fail,
  } as GlusterCli;
}

test('repair waits out the grace, then resets the store, probes the good member and restarts; at most once per interval', async () => {
  const v = views();
  const probes: string[] = [];
  const calls: string[] = [];
  const daemon = fakeDaemon(calls);
  const cli = fakeCli(v, probes);
  const state: RepairState = {};
  assert.deepEqual(await repairRejection(cli, daemon, log, me, state, 1000, noWait), { problems: ['10.0.0.1: Peer Rejected', '10.0.0.2: Peer Rejected', '10.0.0.3: Peer Rejected'] });
  assert.deepEqual(calls, [], 'not at once: a handshake under way may settle it');
  const r = await repairRejection(cli, daemon, log, me, state, 1000 + REJECTED_GRACE_MS, noWait);
  assert.equal(r.rejoinedThrough, '10.0.0.1');
  assert.deepEqual(calls, ['reset', 'restart']);
  assert.deepEqual(probes, ['10.0.0.1']);
  assert.ok(probesPaused(state, 1000 + REJECTED_GRACE_MS + 1), 'the pool comes back through 10.0.0.1: no other probe meanwhile');
  assert.ok(!probesPaused(state, 1000 + REJECTED_GRACE_MS + PROBES_PAUSED_MS));
  assert.ok(!probesPaused({}, 0), 'never reset: probes as usual');
  // Still rejected (the repair did not take): not again before the interval.
  await repairRejection(cli, daemon, log, me, state, 1000 + 2 * REJECTED_GRACE_MS + 1, noWait);
  assert.deepEqual(calls, ['reset', 'restart']);
  await repairRejection(cli, daemon, log, me, state, 1000 + REJECTED_GRACE_MS + REPAIR_EVERY_MS, noWait);
  await repairRejection(cli, daemon, log, me, state, 1000 + 2 * REJECTED_GRACE_MS + REPAIR_EVERY_MS, noWait);
  assert.deepEqual(calls, ['reset', 'restart', 'reset', 'restart']);
  // Back in the pool: nothing to do, and the grace starts afresh on a later rejection.
  v.set(me, [peer(1), peer(2), peer(3)]);
  assert.deepEqual(await repairRejection(cli, daemon, log, me, state, 10_000_000, noWait), { problems: [] });
  assert.equal(state.rejectedSince, undefined);
});

test('after the reset and probe, the restart waits until the probed member and this one list each other in the pool', async () => {
  const v = views();
  const calls: string[] = [];
  let polls = 0;
  const cli = fakeCli(v, []);
  const peers = cli.peers;
  // The probed member's reverse probe ends on the third look: only then may this glusterd restart.
  cli.peers = async (remote?: string) => {
    if (calls.includes('reset') && remote === '10.0.0.1' && ++polls === 3) {
      v.set(me, [peer(1), peer(2, REJ), peer(3, REJ)]);
      v.set('10.0.0.1', [peer(2), peer(3), peer(4)]);
    }
    return peers(remote);
  };
  const state: RepairState = {};
  await repairRejection(cli, fakeDaemon(calls), log, me, state, 0, { ms: 5000, pollMs: 1 });
  await repairRejection(cli, fakeDaemon(calls), log, me, state, REJECTED_GRACE_MS, { ms: 5000, pollMs: 1 });
  assert.deepEqual(calls, ['reset', 'restart']);
  // Its own view is read before the member's: the change made at the third look is seen at the fourth.
  assert.equal(polls, 4, 'restarted once both sides list each other, not before');
  // Never done: restarted all the same after the wait.
  assert.equal(await handshakeDone(fakeCli(views(), []), me, '10.0.0.1', { ms: 20, pollMs: 5 }), false);
  assert.equal(await handshakeDone(cli, me, '10.0.0.1', { ms: 0, pollMs: 0 }), true);
});

test('a member in the pool that sees a peer half-joined for a while restarts its glusterd for it, at most once per interval; one outside the pool does not', async () => {
  const v = views();
  const calls: string[] = [];
  const cli = fakeCli(v, []);
  const state: RepairState = {};
  // In the pool but for one peer, stuck half-way (seen on the lab for minutes after a reset).
  v.set(me, [peer(1), peer(2), peer(3, 'Sent and Received peer request')]);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, 0, noWait);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, HALF_JOINED_MS - 1, noWait);
  assert.deepEqual(calls, [], 'not before it has been so for a while: a probe passes through these states');
  await repairRejection(cli, fakeDaemon(calls), log, me, state, HALF_JOINED_MS, noWait);
  assert.deepEqual(calls, ['rejoin 10.0.0.3']);
  // Still so: not again before the interval.
  for (const t of [2 * HALF_JOINED_MS, HALF_JOINED_EVERY_MS - 1]) await repairRejection(cli, fakeDaemon(calls), log, me, state, t, noWait);
  assert.deepEqual(calls, ['rejoin 10.0.0.3']);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, HALF_JOINED_MS + HALF_JOINED_EVERY_MS, noWait);
  assert.deepEqual(calls, ['rejoin 10.0.0.3', 'rejoin 10.0.0.3']);
  // Disconnected for a moment (the peer's own restart): the wait goes on, nothing is done meanwhile.
  const stuck = peer(3, 'Sent and Received peer request');
  v.set(me, [peer(1), peer(2), { ...stuck, connected: false }]);
  const t = 3 * HALF_JOINED_EVERY_MS;
  await repairRejection(cli, fakeDaemon(calls), log, me, state, t, noWait);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, t + HALF_JOINED_MS, noWait);
  assert.equal(calls.length, 2, 'not while it is disconnected');
  v.set(me, [peer(1), peer(2), stuck]);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, t + HALF_JOINED_MS + 1, noWait);
  assert.deepEqual(calls.at(-1), 'rejoin 10.0.0.3', 'connected again: the wait already served');
  // Whole again: the wait starts afresh.
  v.set(me, [peer(1), peer(2), peer(3)]);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, 10 * HALF_JOINED_EVERY_MS, noWait);
  assert.equal(state.halfJoinedSince, undefined);
  // A member that sees no one in the pool (a reset one mid-rejoin) leaves its half-joined peers be.
  const alone: string[] = [];
  v.set(me, [peer(1, 'Accepted peer request'), peer(2, 'Peer Rejected'), peer(3, 'Peer Rejected', false)]);
  for (const t of [0, HALF_JOINED_MS, 2 * HALF_JOINED_EVERY_MS]) await repairRejection(cli, fakeDaemon(alone), log, me, {}, t, noWait);
  assert.ok(!alone.some((c) => c.startsWith('rejoin')), JSON.stringify(alone));
});

test('a restart that moved a half-joined peer on to another state is followed by the next one sooner; the same state waits the interval', async () => {
  const v = views();
  const calls: string[] = [];
  const cli = fakeCli(v, []);
  const state: RepairState = {};
  // As on the lab: "Accepted peer request" restarted, then both sides crossed into "Sent and Received peer request".
  v.set(me, [peer(1), peer(2), peer(3, 'Accepted peer request')]);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, 0, noWait);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, HALF_JOINED_MS, noWait);
  assert.deepEqual(calls, ['rejoin 10.0.0.3']);
  v.set(me, [peer(1), peer(2), peer(3, 'Sent and Received peer request')]);
  const t = HALF_JOINED_MS + 1000;
  await repairRejection(cli, fakeDaemon(calls), log, me, state, t, noWait);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, t + HALF_JOINED_MS, noWait);
  assert.equal(calls.length, 1, `not before ${HALF_JOINED_NEXT_MS} ms after the last restart`);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, HALF_JOINED_MS + HALF_JOINED_NEXT_MS, noWait);
  assert.deepEqual(calls, ['rejoin 10.0.0.3', 'rejoin 10.0.0.3'], 'another state: the next restart within a minute, not two');
  // The same state again after that restart: the whole interval.
  const u = HALF_JOINED_MS + HALF_JOINED_NEXT_MS;
  await repairRejection(cli, fakeDaemon(calls), log, me, state, u + 1000, noWait);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, u + HALF_JOINED_EVERY_MS - 1, noWait);
  assert.equal(calls.length, 2);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, u + HALF_JOINED_EVERY_MS, noWait);
  assert.equal(calls.length, 3);
});

test('a reset member that knows only the peer it rejoined through, stuck half-way with it, repairs that too (it learns the others from that peer)', async () => {
  const v = views();
  const calls: string[] = [];
  const cli = fakeCli(v, []);
  const state: RepairState = {};
  await repairRejection(cli, fakeDaemon(calls), log, me, state, 0, noWait);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, REJECTED_GRACE_MS, noWait);
  assert.deepEqual(calls, ['reset', 'restart']);
  v.set(me, [peer(1, 'Sent and Received peer request')]);
  const t = REJECTED_GRACE_MS + 2000;
  await repairRejection(cli, fakeDaemon(calls), log, me, state, t, noWait);
  await repairRejection(cli, fakeDaemon(calls), log, me, state, t + HALF_JOINED_MS, noWait);
  assert.deepEqual(calls, ['reset', 'restart', 'rejoin 10.0.0.1']);
  // Long after the reset, the same view is left alone (no one in the pool: not this member's to settle).
  const later: string[] = [];
  const old: RepairState = { lastRepair: 0 };
  for (const at of [AFTER_RESET_MS, AFTER_RESET_MS + HALF_JOINED_MS]) await repairRejection(cli, fakeDaemon(later), log, me, old, at, noWait);
  assert.deepEqual(later, []);
});

test('befriendStuckPeers marks in the pool only the named peers stored in a dead-end half-joined state', async () => {
  const workdir = mkdtempSync(join(tmpdir(), 'berth-glusterd-peers-'));
  try {
    const peers = join(workdir, 'peers');
    mkdirSync(peers);
    writeFileSync(join(peers, 'aaa'), 'uuid=aaa\nstate=5\nhostname1=10.0.0.3\n');
    writeFileSync(join(peers, 'bbb'), 'uuid=bbb\nstate=5\nhostname1=10.0.0.2\n');
    writeFileSync(join(peers, 'ccc'), 'uuid=ccc\nstate=4\nhostname1=10.0.0.1\n');
    // "Peer is connected and Accepted", as the CI run's member kept the spare node through two restarts.
    writeFileSync(join(peers, 'ddd'), 'uuid=ddd\nstate=10\nhostname1=10.0.0.4\n');
    writeFileSync(join(peers, 'eee'), 'uuid=eee\nstate=10\nhostname1=10.0.0.5\n');
    assert.deepEqual((await befriendStuckPeers(workdir, ['10.0.0.3', '10.0.0.1', '10.0.0.4'])).sort(), ['aaa', 'ddd']);
    assert.equal(readFileSync(join(peers, 'aaa'), 'utf8'), 'uuid=aaa\nstate=3\nhostname1=10.0.0.3\n');
    assert.equal(readFileSync(join(peers, 'ddd'), 'utf8'), 'uuid=ddd\nstate=3\nhostname1=10.0.0.4\n');
    assert.match(readFileSync(join(peers, 'bbb'), 'utf8'), /^state=5$/m, 'a peer not named stays as it is');
    assert.match(readFileSync(join(peers, 'eee'), 'utf8'), /^state=10$/m, 'a peer not named stays as it is');
    assert.match(readFileSync(join(peers, 'ccc'), 'utf8'), /^state=4$/m, 'another half-joined state: a reconnect settles it');
    assert.deepEqual(await befriendStuckPeers(join(workdir, 'none'), ['10.0.0.3']), []);
  } finally {
    rmSync(workdir, { recursive: true, force: true });
  }
});

test('a member of a healthy pool with one rejected peer never resets its own store', async () => {
  const calls: string[] = [];
  const daemon = fakeDaemon(calls);
  const v = views();
  v.set(me, v.get('10.0.0.1')!); // this node is 10.0.0.1's twin: in the pool
  const state: RepairState = {};
  for (const t of [0, REJECTED_GRACE_MS, 10 * REPAIR_EVERY_MS]) await repairRejection(fakeCli(v, []), daemon, log, me, state, t, noWait);
  assert.deepEqual(calls, []);
});

test('resetStore keeps glusterd.info and sets the rest of the store aside', async () => {
  const root = mkdtempSync(join(tmpdir(), 'berth-glusterd-reset-'));
  try {
    const state = join(root, 'state');
    mkdirSync(join(state, 'vols', 'pvc-a'), { recursive: true });
    mkdirSync(join(state, 'peers'));
    writeFileSync(join(state, 'glusterd.info'), 'UUID=6c1f7864-1b7a-4948-9684-a555a92e7414\noperating-version=100000\n');
    writeFileSync(join(state, 'vols', 'pvc-a', 'info'), 'version=3\n');
    writeFileSync(join(state, 'peers', 'cd908b0a'), 'state=6\n');
    const g = new Glusterd(root, '127.0.0.1', log);
    // No glusterd is started here: `ensure` is replaced, the store is what is tested.
    let started = 0;
    (g as unknown as { ensure: () => Promise<boolean> }).ensure = async () => { started++; return true; };
    await g.resetStore('test');
    assert.deepEqual(readdirSync(state), ['glusterd.info']);
    assert.match(readFileSync(join(state, 'glusterd.info'), 'utf8'), /^UUID=6c1f7864/);
    assert.ok(existsSync(join(root, 'state-rejected', 'vols', 'pvc-a', 'info')), 'the old store kept aside');
    assert.equal(started, 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
