import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createLogger } from '../../util/log.ts';
import { parsePool, type GlusterCli, type PoolPeer } from './gluster-cli.ts';
import { Glusterd } from './glusterd.ts';
import { HALF_JOINED_MS, PEER_IN_CLUSTER, PROBES_PAUSED_MS, probesPaused, REJECTED_GRACE_MS, REPAIR_EVERY_MS, RESTARTS_AFTER_RESET, rejoinThrough, repairRejection, type RepairState } from './peer-repair.ts';

const log = createLogger({ level: 'error' });
const IN = PEER_IN_CLUSTER;
const REJ = 'Peer Rejected';
const peer = (n: number, state = IN, connected = true): PoolPeer => ({ address: `10.0.0.${n}`, connected, state });
const me = '10.0.0.4';

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
  const daemon = { resetStore: async () => void calls.push('reset'), restart: async () => void calls.push('restart') };
  const cli = fakeCli(v, probes);
  const state: RepairState = {};
  assert.deepEqual(await repairRejection(cli, daemon, log, me, state, 1000), { problems: ['10.0.0.1: Peer Rejected', '10.0.0.2: Peer Rejected', '10.0.0.3: Peer Rejected'] });
  assert.deepEqual(calls, [], 'not at once: a handshake under way may settle it');
  const r = await repairRejection(cli, daemon, log, me, state, 1000 + REJECTED_GRACE_MS);
  assert.equal(r.rejoinedThrough, '10.0.0.1');
  assert.deepEqual(calls, ['reset', 'restart']);
  assert.deepEqual(probes, ['10.0.0.1']);
  assert.ok(probesPaused(state, 1000 + REJECTED_GRACE_MS + 1), 'the pool comes back through 10.0.0.1: no other probe meanwhile');
  assert.ok(!probesPaused(state, 1000 + REJECTED_GRACE_MS + PROBES_PAUSED_MS));
  assert.ok(!probesPaused({}, 0), 'never reset: probes as usual');
  // Still rejected (the repair did not take): not again before the interval.
  await repairRejection(cli, daemon, log, me, state, 1000 + 2 * REJECTED_GRACE_MS + 1);
  assert.deepEqual(calls, ['reset', 'restart']);
  await repairRejection(cli, daemon, log, me, state, 1000 + REJECTED_GRACE_MS + REPAIR_EVERY_MS);
  await repairRejection(cli, daemon, log, me, state, 1000 + 2 * REJECTED_GRACE_MS + REPAIR_EVERY_MS);
  assert.deepEqual(calls, ['reset', 'restart', 'reset', 'restart']);
  // Back in the pool: nothing to do, and the grace starts afresh on a later rejection.
  v.set(me, [peer(1), peer(2), peer(3)]);
  assert.deepEqual(await repairRejection(cli, daemon, log, me, state, 10_000_000), { problems: [] });
  assert.equal(state.rejectedSince, undefined);
});

test('after a reset, a peer half-joined for a while gets this glusterd restarted again — a few times at most, and only after a reset', async () => {
  const v = views();
  const calls: string[] = [];
  const daemon = { resetStore: async () => void calls.push('reset'), restart: async () => void calls.push('restart') };
  const cli = fakeCli(v, []);
  const state: RepairState = {};
  await repairRejection(cli, daemon, log, me, state, 0);
  await repairRejection(cli, daemon, log, me, state, REJECTED_GRACE_MS);
  assert.deepEqual(calls, ['reset', 'restart']);
  // Back in the pool but for one peer, stuck half-way (seen on the lab for minutes).
  v.set(me, [peer(1), peer(2), peer(3, 'Sent and Received peer request')]);
  let t = REJECTED_GRACE_MS + 1000;
  await repairRejection(cli, daemon, log, me, state, t);
  await repairRejection(cli, daemon, log, me, state, t + HALF_JOINED_MS - 1);
  assert.deepEqual(calls, ['reset', 'restart'], 'not before it has been so for a while');
  for (let i = 0; i < RESTARTS_AFTER_RESET + 2; i++) {
    t += HALF_JOINED_MS;
    await repairRejection(cli, daemon, log, me, state, t);
    await repairRejection(cli, daemon, log, me, state, t + HALF_JOINED_MS);
  }
  assert.deepEqual(calls, ['reset', 'restart', ...Array(RESTARTS_AFTER_RESET).fill('restart')]);
  // Without a reset before, a half-joined peer (a new member joining) is none of this code's business.
  const fresh: string[] = [];
  const other: RepairState = {};
  for (const at of [0, HALF_JOINED_MS, 2 * HALF_JOINED_MS]) await repairRejection(cli, { resetStore: async () => void fresh.push('reset'), restart: async () => void fresh.push('restart') }, log, me, other, at);
  assert.deepEqual(fresh, []);
});

test('a member of a healthy pool with one rejected peer never resets its own store', async () => {
  const calls: string[] = [];
  const daemon = { resetStore: async () => void calls.push('reset'), restart: async () => void calls.push('restart') };
  const v = views();
  v.set(me, v.get('10.0.0.1')!); // this node is 10.0.0.1's twin: in the pool
  const state: RepairState = {};
  for (const t of [0, REJECTED_GRACE_MS, 10 * REPAIR_EVERY_MS]) await repairRejection(fakeCli(v, []), daemon, log, me, state, t);
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
