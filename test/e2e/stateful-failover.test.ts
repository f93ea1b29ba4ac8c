/**
 * End to end, issue 16's acceptance: a lost stateful member replaced by an exact copy — same name,
 * DNS and data — on `berth lab` (4 real agents in network namespaces, a real server, kubectl over
 * TLS), with an unmodified 3-member etcd (Debian's /usr/bin/etcd) as a StatefulSet of process pods.
 * Kubernetes' own behaviour for the same failure is no automatic recovery (the pod stays
 * Terminating until a human force-deletes it; an RWO volume waits ~6 min to force-detach).
 *
 *   baseline        the 3 members form one cluster on distinct nodes; a writer (a key every 10 ms
 *                   through a NodePort from the machine) has every acknowledged key readable
 *   kill ×N         `berth lab kill` of the node of etcd-1, then etcd-2, etcd-0, … (N: FAILOVER_KILLS,
 *                   2 by default in CI; 5 by hand; the failover benchmark does 10 of etcd-1's): the
 *                   member healthy elsewhere as the same member (same ID, same volume, no member
 *                   add/remove) within 30 s; the writer never waits > 15 s; every acknowledged key
 *                   there at the end; each next loss once the node is back and its volumes whole
 *                   (replica 3 keeps a quorum through one loss at a time)
 *   partition       the old etcd-1 process is dead (its own log) before the new one launches; after
 *                   heal no second etcd-1 and nothing else on that node restarted
 *   agent crash     kill -9 of the agent only: fenced and moved; the agent started again later
 *                   leaves exactly one etcd-1
 *   single writer   SQLite (synchronous=FULL) as a 1-replica StatefulSet: its node killed, it runs
 *                   elsewhere within 30 s with every row it acknowledged
 *   local-path      a member on a killed node stays put with a reason; with the opt-in annotation
 *                   it moves with an empty volume
 *   update, scale   rolling update and scale of a replicated StatefulSet keep each member's data
 *
 * Each member runs under fixtures/member-wrapper.py, which logs its process's own launch, a 50 ms
 * heartbeat and exit to a file under the suite's temp dir on the host — the evidence of "never two
 * copies" comes from the processes, not from Berth. Serial (machine lock: bridges, namespaces,
 * cgroups); needs root. Cluster DNS forwards to a dnsmasq on loopback (the lab fixture's).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ANN_REPLACE_WITH_EMPTY_VOLUME, REPLICATED_CLASS } from '../../src/apis/volumes/replicated.ts';
import { startLab, type TestLab } from '../../src/lab/lab.fixture.ts';
import { startAgentProcess } from '../../src/lab/lab-start.ts';
import { writeState } from '../../src/lab/lab-state.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import {
  ClusterView, etcdObjects, hostPidsOfLife, incarnations, kvObjects, loseMemberNode, readLifeLog, sleep, sqliteObjects,
  type MemberPod, type Recovery,
} from './stateful-failover.fixture.ts';
import { EtcdWriter, curlIn, etcdStatus } from './etcd-client.fixture.ts';

/** The class the etcd members use; `local-path` only to try the harness without the storage engine. */
const STORAGE_CLASS = process.env.FAILOVER_STORAGE_CLASS ?? REPLICATED_CLASS;
const KILLS = Number(process.env.FAILOVER_KILLS) || 2;
const WITHIN_S = 30;
/**
 * The longest the writer may go without an acknowledged write across a loss (2 of 3 stay writable).
 * Not 1–2 s: a member whose volume had a brick on the dead node stalls its fsyncs for the engine's
 * ping-timeout (5 s) first, and a third of new connections meet the dead endpoint until it leaves the
 * Service (~8 s grace); measured 5–14 s.
 */
const MAX_GAP_S = 15;
/**
 * The lab server's timers (`berth server` flags), where the suite only waits on them. Default
 * tolerations 10 s (the server's default is 30; kube-apiserver's 300): the local-path case waits
 * until past the member's eviction, and that comes 20 s sooner; the members that move are moved by
 * the fencing controller (~15 s), before any eviction. Replica rebuild after 120 s (default 30): no
 * case here asks for a rebuild (test/e2e/replicated-volumes.test.ts does) — each loss is restored
 * first — but a loss near 30 s (the local-path and single-writer cases) started one now and then, a
 * full heal the next case waited for, and the node it restarted could come back rejected by the pool.
 */
const TOLERATION_S = 10;
const GRACE_S = 8;
const REBUILD_DELAY_S = 120;

describe('stateful failover on berth lab (issue 16)', { concurrency: false }, () => {
  let lab: TestLab;
  let view: ClusterView;
  let work: string;
  let logDir: string;

  async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 60_000, everyMs = 200): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      try { const v = await fn(); if (v) return v; last = v; } catch (err) { last = err; }
      await sleep(everyMs);
    }
    const objects = await lab.kubectl(['get', 'nodes,pods,pvc,pv', '-A', '-o', 'wide']).then((r) => r.stdout + r.stderr, (err) => String(err));
    const logs = lab.state().nodes.map((n) => `--- ${n.name}\n${lab.logTail(n.name, 15)}`).join('\n');
    throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})\n${objects}\n${logs}\n--- server\n${lab.logTail('server', 20)}`);
  }
  const apply = async (objs: object[]) => assertOk(await lab.kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs })), 'apply');
  const nodePortOf = async (ns: string, svc: string) => Number(assertOk(await lab.kubectl(['get', 'svc', svc, '-n', ns, '-o', 'jsonpath={.spec.ports[0].nodePort}']), 'nodePort').trim());

  /** Waits for 3 Ready members on 3 distinct nodes that agree on one cluster of 3; returns them with their etcd member IDs. */
  async function formedCluster(ns: string, timeoutMs = 120_000): Promise<{ pods: MemberPod[]; ids: Map<string, string>; clusterId: string }> {
    return waitFor(`3 etcd members Ready in ${ns}, one cluster`, async () => {
      const pods = (await view.members(ns)).filter((p) => !p.deleting);
      if (pods.length !== 3 || !pods.every((p) => p.ready && p.ip) || new Set(pods.map((p) => p.node)).size !== 3) return false;
      const ids = new Map<string, string>();
      let clusterId = '';
      for (const p of pods) {
        const s = await etcdStatus(view.netnsOf(p.node), p.ip);
        if (!s?.healthy || s.members.length !== 3) return false;
        if (clusterId && s.clusterId !== clusterId) throw new Error(`${p.name} is in cluster ${s.clusterId}, not ${clusterId}`);
        clusterId = s.clusterId;
        ids.set(p.name, s.memberId);
      }
      return { pods, ids, clusterId };
    }, timeoutMs, 500);
  }

  before(async () => {
    work = mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-failover-'));
    logDir = path.join(work, 'life');
    mkdirSync(logDir, { recursive: true });
    lab = await startLab({
      nodes: 4, storage: STORAGE_CLASS === 'replicated',
      defaultNotReadyTolerationSeconds: TOLERATION_S, defaultUnreachableTolerationSeconds: TOLERATION_S, replicaRebuildDelay: REBUILD_DELAY_S,
    });
    view = new ClusterView(lab);
  });
  after(async () => {
    await writer?.stop();
    await lab?.down();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  let writer: EtcdWriter | undefined;
  const DB = 'db';
  const lifeOf = (member: string, ns = DB) => incarnations(readLifeLog(path.join(logDir, ns, `${member}.log`)));
  const claimVolume = async (ns: string, claim: string) => parseJson<any>(assertOk(await lab.kubectl(['get', 'pvc', claim, '-n', ns, '-o', 'json']), 'pvc'), 'pvc');
  /** Every key the writer had acknowledged by now is readable. */
  async function noAckedKeyLost(): Promise<string> {
    const acked = writer!.acked.slice();
    const present = await writer!.keysPresent();
    const missing = acked.filter((a) => !present.has(a.key)).map((a) => a.key);
    assert.deepEqual(missing.slice(0, 20), [], `${missing.length} of ${acked.length} acknowledged keys missing`);
    return `${acked.length} acknowledged keys all present (${writer!.failures} writes failed or timed out, never counted)`;
  }
  /** A killed node back (its agent started again with its data) and Ready. */
  async function restore(node: string): Promise<void> {
    const cond = lab.state().nodes.find((n) => n.name === node)?.condition;
    if (cond === 'killed') await lab.run(['restart', node]);
    else if (cond === 'partitioned') await lab.run(['heal', node]);
    await waitFor(`${node} Ready`, async () => (await view.nodeReady(node)) === 'True', 60_000);
    await storageSettled();
  }
  /**
   * Every replicated volume whole again (bricks online, nothing left to heal; twice, 1 s apart):
   * the next loss may then take any one node and keep 2 of 3 replicas. CI saw what follows from
   * not waiting: a partition 3 s after the previous node's bricks restarted left etcd-0's volume
   * with 1 of 3 bricks (its fsync failed: EIO), and the cluster with 1 of 3 members for 23 s.
   */
  async function storageSettled(): Promise<void> {
    if (STORAGE_CLASS !== REPLICATED_CLASS) return;
    const t0 = Date.now();
    let settledOnce = false;
    // What it waited on, by kind, from when to when (s): where a settle's time goes.
    const waited: { kind: string; from: number; to: number }[] = [];
    const kindOf = (why: string) => (/glusterd sees|does not answer/.test(why) ? 'pool' : /moving/.test(why) ? 'replica move' : /online/.test(why) ? 'bricks online' : /to heal/.test(why) ? 'heal' : 'other');
    await waitFor('the replicated volumes whole again', async () => {
      const why = await view.storageUnsettled();
      const at = (Date.now() - t0) / 1000;
      if (why) {
        const kind = kindOf(why);
        if (waited.at(-1)?.kind === kind) waited.at(-1)!.to = at; else waited.push({ kind, from: at, to: at });
        settledOnce = false;
        throw new Error(why);
      }
      if (settledOnce) return true;
      settledOnce = true;
      return false;
    }, 120_000, 1000);
    const on = waited.map((w) => `${w.kind} ${w.from.toFixed(0)}–${w.to.toFixed(0)} s`).join(', ');
    process.stdout.write(`# storage whole again ${((Date.now() - t0) / 1000).toFixed(1)} s after the node was Ready${on ? ` (waited on: ${on})` : ''}\n`);
  }
  const line = (r: Recovery) => `${r.old.node} → ${r.now.node}: NotReady ${r.times.notReady?.toFixed(1)} s, NodeLost ${r.times.nodeLost?.toFixed(1) ?? '-'} s, `
    + `fenced ${r.times.fenced?.toFixed(1) ?? '-'} s, Running ${r.times.running?.toFixed(1)} s, healthy ${r.times.healthy?.toFixed(1)} s (restarts ${r.now.restarts}), writer's longest wait ${(writer!.longestGap(r.lostAt, r.lostAt + r.times.healthy! * 1000) / 1000).toFixed(1)} s`;
  /** The new etcd-1 is the same member: same ID, on the same volume; 3 members, none added or removed. */
  async function assertSameMember(r: Recovery, member: string, volumeBefore: string) {
    const s = await etcdStatus(view.netnsOf(r.now.node), r.now.ip);
    assert.equal(s?.memberId, r.memberId, 'the same etcd member ID');
    assert.deepEqual(s?.members.map((m) => m.name).sort(), ['etcd-0', 'etcd-1', 'etcd-2'], 'no member added or removed');
    assert.equal((await claimVolume(DB, `data-${member}`)).spec.volumeName, volumeBefore, 'the same volume');
    assert.ok(r.times.healthy! <= WITHIN_S, `healthy after ${r.times.healthy} s (> ${WITHIN_S} s)`);
    const gap = writer!.longestGap(r.lostAt, r.lostAt + r.times.healthy! * 1000) / 1000;
    assert.ok(gap <= MAX_GAP_S, `the writer waited ${gap.toFixed(1)} s for an acknowledged write (> ${MAX_GAP_S} s)`);
  }
  /** From the processes' own logs: the copy on `oldNode` wrote its last line before the copy on `newNode` launched, and is gone. */
  function assertOldDiedFirst(member: string, oldNode: string, newNode: string, lostAt: number): string {
    const lives = lifeOf(member);
    const old = lives.filter((l) => l.node === oldNode && l.launchMs < lostAt).at(-1);
    const now = lives.filter((l) => l.node === newNode && l.launchMs > lostAt).at(0);
    assert.ok(old && now, `both copies in the life log: ${JSON.stringify(lives)}`);
    assert.ok(old.lastMs < now.launchMs, `the old ${member} (life ${old.life} on ${oldNode}) logged at ${old.lastMs}, after the new one launched at ${now.launchMs} on ${newNode}`);
    const left = hostPidsOfLife(old.life);
    assert.deepEqual(left, [], `the old ${member}'s processes (life ${old.life}) are gone`);
    return `old ${member} on ${oldNode}: last heartbeat ${((old.lastMs - lostAt) / 1000).toFixed(2)} s after the loss; new one launched on ${newNode} ${((now.launchMs - old.lastMs) / 1000).toFixed(2)} s later`;
  }

  test(`baseline (${STORAGE_CLASS}): 3 members form one cluster on distinct nodes, the writer's acknowledged keys are all there`, async () => {
    assertOk(await lab.kubectl(['create', 'namespace', DB]), 'namespace');
    mkdirSync(path.join(logDir, DB));
    const t0 = Date.now();
    await apply(etcdObjects({ namespace: DB, storageClass: STORAGE_CLASS, logDir: path.join(logDir, DB) }));
    const formed = await formedCluster(DB);
    const formedS = (Date.now() - t0) / 1000;
    writer = new EtcdWriter(() => view.addresses(), await nodePortOf(DB, 'etcd-client'), '/failover/');
    writer.start();
    // The cluster takes writes: 100 acknowledged (185–234 come in 5 s on a quiet lab; at load 10–21 once
    // only 49 had, so the count is awaited, not timed — speed is a benchmark's business).
    const w = writer;
    await waitFor('100 writes acknowledged', async () => w.acked.length >= 100, 30_000);
    process.stdout.write(`# baseline: cluster ${formed.clusterId} of ${[...formed.ids].map(([n, id]) => `${n}=${id}@${formed.pods.find((p) => p.name === n)!.node}`).join(' ')} formed in ${formedS.toFixed(1)} s; ${await noAckedKeyLost()}\n`);
  });

  test(`kill a member's node ${KILLS} times (etcd-1 first, then etcd-2, etcd-0, …): the same member healthy elsewhere within ${WITHIN_S} s each time, writable throughout, no acknowledged key lost`, async () => {
    // One member moves to the one free node; killing the node of each member in turn makes every node a victim.
    const victims: string[] = [];
    const misses: string[] = [];
    for (let i = 0; i < KILLS; i++) {
      const member = ['etcd-1', 'etcd-2', 'etcd-0'][i % 3];
      const volume = (await claimVolume(DB, `data-${member}`)).spec.volumeName;
      const r = await loseMemberNode(view, DB, member, 'kill');
      victims.push(r.old.node);
      process.stdout.write(`# kill ${i + 1}/${KILLS} (${member}): ${line(r)}\n`);
      // Every round runs and reports; the misses fail the test at the end.
      await assertSameMember(r, member, volume).catch((err: Error) => misses.push(`kill ${i + 1} (${member}, ${r.old.node}): ${err.message}`));
      await restore(r.old.node);
      await formedCluster(DB);
    }
    assert.deepEqual(misses, []);
    assert.equal(new Set(victims).size, Math.min(KILLS, 4), `each kill hit another node: ${victims}`);
    process.stdout.write(`# after ${KILLS} kills (${victims.join(', ')}): ${await noAckedKeyLost()}\n`);
  });

  test('partition etcd-1\'s node: the old process is dead before the new one launches (their own logs); after heal, one etcd-1 and nothing else restarted', async () => {
    const before = (await view.members(DB)).find((p) => p.name === 'etcd-1')!;
    // Something stateless on the same node, tolerating the node's loss: it must live through it all.
    assertOk(await lab.kubectl(['run', 'canary', '-n', DB, '--image=host', '--restart=Never', `--overrides=${JSON.stringify({ spec: {
      nodeName: before.node, terminationGracePeriodSeconds: 1, tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }, { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }],
    } })}`, '--', 'sleep', '3600']), 'canary');
    const canary = await waitFor('the canary Running', async () => {
      const p = parseJson<any>(assertOk(await lab.kubectl(['get', 'pod', 'canary', '-n', DB, '-o', 'json']), 'canary'), 'canary');
      return p.status?.phase === 'Running' && p;
    });
    const othersBefore = ['etcd-0', 'etcd-2'].map((m) => lifeOf(m).length);
    const volume = (await claimVolume(DB, 'data-etcd-1')).spec.volumeName;
    let r: Recovery;
    let healedAt = 0;
    try {
      r = await loseMemberNode(view, DB, 'etcd-1', 'partition');
      process.stdout.write(`# partition: ${line(r)}\n`);
      await assertSameMember(r, 'etcd-1', volume);
      const proof = assertOldDiedFirst('etcd-1', r.old.node, r.now.node, r.lostAt);
      process.stdout.write(`# partition: ${proof}\n`);
    } finally {
      // Healed also when an assertion failed: the cases after this one need all four nodes.
      healedAt = Date.now();
      await restore(before.node);
    }
    await sleep(10_000);
    const lives = lifeOf('etcd-1');
    const current = lives.filter((l) => l.lastMs > healedAt);
    assert.equal(current.length, 1, `one etcd-1 process after the heal: ${JSON.stringify(current)}`);
    assert.equal(current[0].node, r.now.node);
    assert.deepEqual(['etcd-0', 'etcd-2'].map((m) => lifeOf(m).length), othersBefore, 'etcd-0 and etcd-2 never restarted');
    const canaryAfter = parseJson<any>(assertOk(await lab.kubectl(['get', 'pod', 'canary', '-n', DB, '-o', 'json']), 'canary'), 'canary');
    assert.equal(canaryAfter.metadata.uid, canary.metadata.uid);
    assert.equal(canaryAfter.status.phase, 'Running');
    assert.equal(canaryAfter.status.containerStatuses?.[0]?.restartCount, 0, 'the canary on the healed node was not restarted');
    assertOk(await lab.kubectl(['delete', 'pod', 'canary', '-n', DB, '--wait=false']), 'delete canary');
    await formedCluster(DB);
    process.stdout.write(`# partition: after heal one etcd-1 (on ${r.now.node}); ${await noAckedKeyLost()}\n`);
  });

  test('agent crash (kill -9 of the agent only, not restarted): etcd-1 fenced and moved; the agent started again leaves exactly one etcd-1', async () => {
    const volume = (await claimVolume(DB, 'data-etcd-1')).spec.volumeName;
    const crashed = (await view.members(DB)).find((p) => p.name === 'etcd-1' && !p.deleting)!.node;
    const r = await loseMemberNode(view, DB, 'etcd-1', 'agent').catch(async (err) => { await agentBack(); throw err; });
    let restartedAt = 0;
    try {
      process.stdout.write(`# agent crash: ${line(r)}\n`);
      await assertSameMember(r, 'etcd-1', volume);
      process.stdout.write(`# agent crash: ${assertOldDiedFirst('etcd-1', r.old.node, r.now.node, r.lostAt)}\n`);
      await sleep(5_000);
    } finally {
      // The agent alone, as a supervisor would restart it: nothing else on the host is touched first.
      restartedAt = Date.now();
      await agentBack();
    }
    await sleep(10_000);
    const current = lifeOf('etcd-1').filter((l) => l.lastMs > restartedAt);
    assert.equal(current.length, 1, `exactly one etcd-1 process after the agent's restart: ${JSON.stringify(current)}`);
    assert.equal(current[0].node, r.now.node);
    const pods = (await view.members(DB)).filter((p) => p.name === 'etcd-1');
    assert.equal(pods.length, 1);
    await formedCluster(DB);
    process.stdout.write(`# agent crash: the agent back on ${r.old.node}, one etcd-1 (on ${r.now.node}); ${await noAckedKeyLost()}\n`);
    await writer!.stop();

    /** The crashed agent started again (also when the case failed half-way: the cases after it need four nodes). */
    async function agentBack(): Promise<void> {
      const state = lab.state();
      const node = state.nodes.find((n) => n.name === crashed)!;
      node.agent = await startAgentProcess(state, node);
      writeState(state);
      await waitFor(`${node.name} Ready again`, async () => (await view.nodeReady(node.name)) === 'True', 60_000);
    }
  });

  test('single writer (SQLite, synchronous=FULL) as a 1-replica StatefulSet: its node killed, it runs elsewhere within 30 s with every acknowledged row', async () => {
    const ns = 'app';
    assertOk(await lab.kubectl(['create', 'namespace', ns]), 'namespace');
    const acks = path.join(logDir, 'app-acks.log');
    await apply(sqliteObjects(ns, STORAGE_CLASS, acks));
    const first = await waitFor('app-0 Ready', async () => (await view.members(ns, 'app')).find((p) => p.ready && !p.deleting), 120_000);
    // Enough acknowledged rows that a lost one would show; the writer's pace depends on the volume's
    // load (36 rows in 3 s on a busy CI machine), so wait for the rows rather than for a time.
    const ackedThere = () => existsSync(acks) ? readFileSync(acks, 'utf8').split('\n').filter((l) => l.endsWith(` app-0@${first.node}`)).length : 0;
    await waitFor('60 rows acknowledged by app-0', async () => ackedThere() >= 60, 60_000, 200);
    const lostAt = Date.now();
    await lab.run(['kill', first.node]);
    try {
      await singleWriterMoved(ns, acks, first, lostAt);
    } finally {
      // Also on a failure: the cases after this one need four nodes and no app on the storage.
      await lab.kubectl(['delete', 'statefulset', 'app', '-n', ns, '--wait=false']);
      await restore(first.node);
    }
  });

  async function singleWriterMoved(ns: string, acks: string, first: MemberPod, lostAt: number): Promise<void> {
    const moved = await waitFor('app-0 Ready on another node', async () => (await view.members(ns, 'app')).find((p) => p.ready && !p.deleting && p.node !== first.node && p.uid !== first.uid), 90_000, 200);
    const movedS = (Date.now() - lostAt) / 1000;
    const acked = readFileSync(acks, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));
    const before = acked.filter(([, who]) => who === `app-0@${first.node}`).map(([id]) => id);
    const rows = new Set(assertOk(await lab.kubectl(['exec', '-n', ns, 'app-0', '--', 'python3', '-c',
      "import sqlite3; print('\\n'.join(str(r[0]) for r in sqlite3.connect('/data/app.db').execute('SELECT id FROM rows')))"]), 'rows').split('\n').filter(Boolean));
    const lost = before.filter((id) => !rows.has(id));
    process.stdout.write(`# single writer: ${first.node} killed, app-0 Ready on ${moved.node} after ${movedS.toFixed(1)} s; ${before.length} rows acknowledged there, ${lost.length} missing, ${rows.size} rows now\n`);
    assert.ok(before.length > 50, `only ${before.length} rows acknowledged before the kill`);
    assert.deepEqual(lost.slice(0, 20), [], `${lost.length} acknowledged rows lost`);
    assert.ok(movedS <= WITHIN_S, `Ready elsewhere after ${movedS.toFixed(1)} s (> ${WITHIN_S} s)`);
  }

  test('local-path: a member on a killed node stays put with a reason; with the opt-in annotation it moves with an empty volume', async () => {
    const ns = 'lp';
    assertOk(await lab.kubectl(['create', 'namespace', ns]), 'namespace');
    await apply(kvObjects(ns, 'kv', 'local-path', 1));
    const first = await waitFor('kv-0 Ready', async () => (await view.members(ns, 'kv')).find((p) => p.ready && !p.deleting), 120_000);
    const born = await curlIn(view.netnsOf(first.node), `http://${first.ip}:8080/born`);
    const claimUid = (await claimVolume(ns, 'data-kv-0')).metadata.uid;
    const lostAt = Date.now();
    await lab.run(['kill', first.node]);
    // Past the point where a member is moved (the fencing controller says so, ~16 s) and the pod's
    // default unreachable toleration (from the taint, at NotReady): a local volume must keep it where its data is.
    await waitFor('the fencing controller\'s word on kv-0', async () => (await view.events(ns)).some((e) => e.reason === 'MemberNotMoved' && Date.parse(e.at) >= lostAt - 1000), 60_000, 500);
    await sleep(Math.max(0, lostAt + (GRACE_S + TOLERATION_S + 7) * 1000 - Date.now()));
    const pods = await view.members(ns, 'kv');
    assert.ok(!pods.some((p) => p.node && p.node !== first.node), `kv-0 did not move: ${JSON.stringify(pods)}`);
    const reasons = (await view.events(ns)).filter((e) => Date.parse(e.at) >= lostAt - 1000 && /Pod\/kv-0|StatefulSet\/kv/.test(e.object));
    const reason = reasons.find((e) => /local/i.test(e.message));
    assert.ok(reason, `an event on kv-0 or kv says why it stays (a local volume): ${JSON.stringify(reasons)}`);
    const pod = parseJson<any>(assertOk(await lab.kubectl(['get', 'pod', 'kv-0', '-n', ns, '-o', 'json']), 'kv-0'), 'kv-0');
    const condition = (pod.status?.conditions ?? []).find((c: any) => c.status === 'True' && /local volume/i.test(c.message ?? ''));
    assert.ok(condition, `kv-0's conditions say why it stays: ${JSON.stringify(pod.status?.conditions)}`);
    process.stdout.write(`# local-path: kv-0 stays on ${first.node}: event ${reason.reason}: ${reason.message}; condition ${condition.type}=${condition.reason}\n`);
    const optedAt = Date.now();
    assertOk(await lab.kubectl(['annotate', 'statefulset', 'kv', '-n', ns, `${ANN_REPLACE_WITH_EMPTY_VOLUME}=true`]), 'annotate');
    const moved = await waitFor('kv-0 Ready on another node', async () => (await view.members(ns, 'kv')).find((p) => p.ready && !p.deleting && p.node !== first.node), 90_000);
    const bornNow = await curlIn(view.netnsOf(moved.node), `http://${moved.ip}:8080/born`);
    assert.notEqual(bornNow, born);
    assert.match(bornNow ?? '', new RegExp(`^kv-0 ${moved.node} `), 'an empty volume: born again on the new node');
    assert.notEqual((await claimVolume(ns, 'data-kv-0')).metadata.uid, claimUid, 'a new claim');
    process.stdout.write(`# local-path: opted in, kv-0 Ready on ${moved.node} with an empty volume ${((Date.now() - optedAt) / 1000).toFixed(1)} s later\n`);
    await restore(first.node);
  });

  test('rolling update and scale of a replicated StatefulSet keep each member\'s data', async () => {
    const ns = 'ru';
    assertOk(await lab.kubectl(['create', 'namespace', ns]), 'namespace');
    await apply(kvObjects(ns, 'kv', STORAGE_CLASS, 2));
    const ready = (n: number, version?: string) => async () => {
      const m = (await view.members(ns, 'kv')).filter((p) => !p.deleting);
      return m.length === n && m.every((p) => p.ready) && (!version || (await Promise.all(m.map(async (p) => (await curlIn(view.netnsOf(p.node), `http://${p.ip}:8080/starts`))?.trim().endsWith(` ${version}`)))).every(Boolean)) && m;
    };
    const v1 = await waitFor('kv-0, kv-1 Ready', ready(2), 120_000);
    const born = new Map(await Promise.all(v1.map(async (p) => [p.name, await curlIn(view.netnsOf(p.node), `http://${p.ip}:8080/born`)] as const)));
    assertOk(await lab.kubectl(['set', 'env', 'statefulset/kv', '-n', ns, 'VERSION=v2']), 'update');
    assertOk(await lab.kubectl(['rollout', 'status', 'statefulset/kv', '-n', ns, '--timeout=180s'], undefined, 200_000), 'rollout');
    const v2 = await waitFor('both members on v2', ready(2, 'v2'), 60_000);
    for (const p of v2) {
      assert.equal(await curlIn(view.netnsOf(p.node), `http://${p.ip}:8080/born`), born.get(p.name), `${p.name} kept its volume across the update`);
      const pvc = await claimVolume(ns, `data-${p.name}`);
      assert.equal(pvc.spec.storageClassName, STORAGE_CLASS);
    }
    assertOk(await lab.kubectl(['scale', 'statefulset/kv', '-n', ns, '--replicas=3']), 'scale up');
    const three = await waitFor('3 members Ready', ready(3), 120_000);
    assert.equal((await claimVolume(ns, 'data-kv-2')).status.phase, 'Bound');
    assertOk(await lab.kubectl(['scale', 'statefulset/kv', '-n', ns, '--replicas=1']), 'scale down');
    await waitFor('kv-0 alone', ready(1), 120_000);
    assert.equal((await claimVolume(ns, 'data-kv-2')).status.phase, 'Bound', 'claims are retained on scale-down (PVC retention policy Retain)');
    process.stdout.write(`# update and scale: v1 → v2 with each member's data kept, 2 → 3 → 1 members (${three.map((p) => `${p.name}@${p.node}`).join(' ')})\n`);
  });
});
