/**
 * End to end: fencing and the automatic, fenced replacement of a lost stateful member (issue 16,
 * parts 2–4) on a `berth lab` of 4 real agents (process pods, default timings: Lease every 2 s,
 * grace 8 s, fenceAfter 5 s, the fencing controller's margin 2 s).
 *
 *   kill a node         its StatefulSet member runs on another node within 30 s; NodeLost,
 *                       MemberFenced, MemberMoved in order on the StatefulSet; describe shows it
 *   local-path member   stays on its killed node with the reason (condition + event); once the
 *                       StatefulSet opts in, it starts elsewhere with an empty volume
 *   kill -9 the agent   only: the member's container dies within fenceAfter + 1 s (its pids gone,
 *                       seen from the host), the member is moved; the agent restarted: one member
 *   partition, heal     the old copy's last heartbeat (logged by the processes themselves to a host
 *                       file) precedes the new copy's first; after the heal no second copy starts
 *   throughout          members on healthy nodes never fence (no restart)
 *
 * Serial (machine lock: bridges, namespaces, cgroups); needs root. Nothing leaves the machine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pidsInCgroup, startLab, type TestLab } from '../../src/lab/lab.fixture.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const FENCE_AFTER_S = 5;

describe('fencing: lost stateful members are fenced and moved', { concurrency: false }, () => {
  let lab: TestLab;
  const beatsDir = mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-fence-'));
  const beatsFile = path.join(beatsDir, 'beats');
  /** Nodes that were killed, partitioned or lost their agent: members there may restart. */
  const victims = new Set<string>();
  const k = async (args: string[], input?: string) => lab.kubectl(args, input);
  const waitFor = waiter({
    context: async () => {
      const objects = await k(['get', 'nodes,statefulsets,pods,pvc', '-o', 'wide']).then((r) => r.stdout + r.stderr, (err) => String(err));
      const logs = lab.state().nodes.map((n) => `--- ${n.name}\n${lab.logTail(n.name, 10)}`).join('\n');
      return `${objects}\n${logs}\n--- server\n${lab.logTail('server', 20)}`;
    },
    everyMs: 200,
  });
  const pod = async (name: string) => {
    const r = await k(['get', 'pod', name, '-o', 'json']);
    return r.code === 0 ? parseJson<any>(r.stdout, name) : undefined;
  };
  const runningOn = async (name: string, not?: string) => {
    const p = await pod(name);
    return p && !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && p.spec.nodeName !== not && (p.status.containerStatuses ?? []).every((c: any) => c.state?.running) ? p : undefined;
  };
  const readyOf = async (node: string) => (await k(['get', 'node', node, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'])).stdout.trim();
  const eventReasons = async (kind: string, name: string) => {
    const r = assertOk(await k(['get', 'events', '--field-selector', `involvedObject.kind=${kind},involvedObject.name=${name}`, '-o', 'json']), 'events');
    return (parseJson<any>(r, 'events').items as any[]).sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion)).map((e) => e.reason as string);
  };
  const nodeOf = (name: string) => lab.state().nodes.find((n) => n.name === name)!;
  const podCgroup = (nodeName: string, uid: string) => `${nodeOf(nodeName).cgroup}/pods/pod-${uid}`;
  /** The beat lines: `<node> <pod> <unix ns>` written every 200 ms by each member process itself. */
  const beats = () => (existsSync(beatsFile) ? readFileSync(beatsFile, 'utf8').trim().split('\n').filter(Boolean).map((l) => { const [node, name, ns] = l.split(' '); return { node, name, at: Number(ns) / 1e6 }; }) : []);
  const statefulSet = (name: string, replicas: number, extra: { claim?: boolean; annotations?: Record<string, string> } = {}) => JSON.stringify({
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name, annotations: extra.annotations ?? {} },
    spec: {
      serviceName: name, replicas, podManagementPolicy: 'Parallel', selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 1,
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: name } } }],
          containers: [{
            name: 'c', image: 'host',
            command: ['sh', '-c', `while :; do echo "$NODE $POD $(date +%s%N)" >> ${beatsFile}; sleep 0.2; done`],
            env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            ...(extra.claim ? { volumeMounts: [{ name: 'data', mountPath: '/data' }] } : {}),
          }],
        },
      },
      ...(extra.claim ? { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', resources: { requests: { storage: '16Mi' } } } }] } : {}),
    },
  });

  before(async () => {
    lab = await startLab({ nodes: 4 });
    // Members on every node the whole time: none may fence while its node is healthy.
    assertOk(await k(['apply', '-f', '-'], statefulSet('calm', 4)), 'calm');
    await waitFor('4 calm members Running', async () => {
      const ps = await Promise.all([0, 1, 2, 3].map((i) => runningOn(`calm-${i}`)));
      return ps.every(Boolean);
    }, 120_000);
  });
  after(async () => {
    await lab?.down();
    rmSync(beatsDir, { recursive: true, force: true });
  });

  test('kill the node of a member: it runs elsewhere within 30 s; NodeLost, MemberFenced, MemberMoved in order; describe tells it', async () => {
    assertOk(await k(['apply', '-f', '-'], statefulSet('moved', 1)), 'moved');
    const before0 = await waitFor('moved-0 Running', () => runningOn('moved-0'), 90_000);
    const victim = before0.spec.nodeName as string;
    victims.add(victim);
    const t0 = Date.now();
    await lab.run(['kill', victim]);
    const after0 = await waitFor('moved-0 Running on another node', () => runningOn('moved-0', victim), 60_000);
    const took = (Date.now() - t0) / 1000;
    process.stdout.write(`# kill ${victim}: moved-0 Running on ${after0.spec.nodeName} ${took.toFixed(1)} s after the kill\n`);
    assert.notEqual(after0.metadata.uid, before0.metadata.uid);
    assert.ok(took <= 30, `moved after ${took.toFixed(1)} s`);
    const story = await waitFor('MemberMoved on the StatefulSet', async () => { const r = await eventReasons('StatefulSet', 'moved'); return r.includes('MemberMoved') && r; }, 20_000);
    const fencing = story.filter((r) => ['NodeLost', 'MemberFenced', 'MemberMoved'].includes(r));
    assert.deepEqual(fencing, ['NodeLost', 'MemberFenced', 'MemberMoved']);
    const movedFrom = JSON.parse((await pod('moved-0')).metadata.annotations['berth.dev/moved-from']);
    assert.equal(movedFrom.from, victim);
    assert.match(movedFrom.fences, /self-fence deadline/);
    const describe = assertOk(await k(['describe', 'statefulset', 'moved']), 'describe');
    assert.match(describe, /MemberFenced .*self-fence deadline/s);
    assert.match(describe, new RegExp(`MemberMoved .*moved from lost node ${victim} to ${after0.spec.nodeName}`, 's'));
    assert.match(assertOk(await k(['describe', 'pod', 'moved-0']), 'describe pod'), /berth\.dev\/moved-from/);
    await lab.run(['restart', victim]);
  });

  test('a local-path member on a killed node stays put with the reason; opted in, it moves with an empty volume', async () => {
    assertOk(await k(['apply', '-f', '-'], statefulSet('pinned', 1, { claim: true })), 'pinned');
    const p0 = await waitFor('pinned-0 Running', () => runningOn('pinned-0'), 90_000);
    const victim = p0.spec.nodeName as string;
    victims.add(victim);
    const pvBefore = (await k(['get', 'pvc', 'data-pinned-0', '-o', 'jsonpath={.spec.volumeName}'])).stdout.trim();
    await lab.run(['kill', victim]);
    const cond = await waitFor('the MemberNotMoved condition', async () => (await pod('pinned-0'))?.status?.conditions?.find((c: any) => c.type === 'MemberNotMoved'), 45_000);
    assert.equal(cond.reason, 'LocalVolumeOnLostNode');
    assert.match(cond.message, new RegExp(`data-pinned-0 \\(${pvBefore}\\) is on node ${victim}, which is lost`));
    const still = await pod('pinned-0');
    assert.equal(still.metadata.uid, p0.metadata.uid, 'a local-path member was moved');
    assert.match(assertOk(await k(['describe', 'pod', 'pinned-0']), 'describe'), /MemberNotMoved.*True/s);
    const t0 = Date.now();
    assertOk(await k(['annotate', 'statefulset', 'pinned', 'berth.dev/replace-with-empty-volume=true']), 'opt in');
    const moved = await waitFor('pinned-0 Running elsewhere', () => runningOn('pinned-0', victim), 60_000);
    process.stdout.write(`# local-path member opted in: Running on ${moved.spec.nodeName} with an empty volume ${((Date.now() - t0) / 1000).toFixed(1)} s after the annotation\n`);
    const pvAfter = (await k(['get', 'pvc', 'data-pinned-0', '-o', 'jsonpath={.spec.volumeName}'])).stdout.trim();
    assert.notEqual(pvAfter, pvBefore, 'a new, empty volume');
    const reasons = await eventReasons('StatefulSet', 'pinned');
    assert.deepEqual(reasons.filter((r) => ['NodeLost', 'MemberNotMoved', 'MemberFenced', 'MemberReplacedEmpty', 'MemberMoved'].includes(r)), ['NodeLost', 'MemberNotMoved', 'MemberFenced', 'MemberReplacedEmpty', 'MemberMoved']);
    await lab.run(['restart', victim]);
  });

  test('kill -9 only the agent: the container dies within fenceAfter + 1 s (from the host), the member moves; the agent back: one member', async () => {
    assertOk(await k(['apply', '-f', '-'], statefulSet('orphan', 1)), 'orphan');
    const p0 = await waitFor('orphan-0 Running', () => runningOn('orphan-0'), 90_000);
    const victim = p0.spec.nodeName as string;
    victims.add(victim);
    const cg = podCgroup(victim, p0.metadata.uid);
    const pids = pidsInCgroup(cg);
    assert.ok(pids.length > 0, `orphan-0's processes in ${cg}`);
    const agentPid = nodeOf(victim).agent!.pid;
    const t0 = Date.now();
    process.kill(agentPid, 'SIGKILL');
    const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
    await waitFor('the container processes gone', async () => pids.every((p) => !alive(p)), 20_000, 50);
    const died = (Date.now() - t0) / 1000;
    process.stdout.write(`# kill -9 ${victim}'s agent: orphan-0's ${pids.length} processes gone ${died.toFixed(2)} s later (fenceAfter ${FENCE_AFTER_S} s)\n`);
    assert.ok(died <= FENCE_AFTER_S + 1, `container died ${died.toFixed(2)} s after the agent`);
    const moved = await waitFor('orphan-0 Running on another node', () => runningOn('orphan-0', victim), 60_000);
    process.stdout.write(`# orphan-0 Running on ${moved.spec.nodeName} ${((Date.now() - t0) / 1000).toFixed(1)} s after the agent's kill\n`);
    await lab.run(['restart', victim]);
    await sleep(6000);
    const since = Date.now() - 3000;
    const writers = new Set(beats().filter((b) => b.name === 'orphan-0' && b.at >= since).map((b) => b.node));
    assert.deepEqual([...writers], [moved.spec.nodeName], 'exactly one orphan-0 copy beats');
    assert.equal(pidsInCgroup(cg).length, 0);
    const all = parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'app=orphan', '-o', 'json']), 'pods'), 'pods').items;
    assert.equal(all.length, 1);
  });

  test('partition then heal: the old copy is dead (its own last beat) before the new one starts; after the heal no second copy', async () => {
    assertOk(await k(['apply', '-f', '-'], statefulSet('island', 1)), 'island');
    const p0 = await waitFor('island-0 Running', () => runningOn('island-0'), 90_000);
    const victim = p0.spec.nodeName as string;
    victims.add(victim);
    const t0 = Date.now();
    await lab.run(['partition', victim]);
    // The cable is out by the time the command returns (it starts in ~1-3 s): times are from here.
    const pulled = Date.now();
    process.stdout.write(`# partition ${victim}: berth lab partition took ${((pulled - t0) / 1000).toFixed(1)} s\n`);
    const moved = await waitFor('island-0 Running on another node', () => runningOn('island-0', victim), 60_000);
    const took = (Date.now() - t0) / 1000;
    await sleep(1000);
    const mine = beats().filter((b) => b.name === 'island-0');
    const oldLast = Math.max(...mine.filter((b) => b.node === victim).map((b) => b.at));
    const newFirst = Math.min(...mine.filter((b) => b.node === moved.spec.nodeName).map((b) => b.at));
    process.stdout.write(`# partition ${victim}: island-0's old copy last beat ${((oldLast - pulled) / 1000).toFixed(2)} s after the partition command returned, the new copy's first ${((newFirst - pulled) / 1000).toFixed(2)} s (gap ${((newFirst - oldLast) / 1000).toFixed(2)} s); Running on ${moved.spec.nodeName} ${took.toFixed(1)} s after the command started\n`);
    assert.ok(Number.isFinite(oldLast) && Number.isFinite(newFirst));
    assert.ok(oldLast < newFirst, 'two copies of island-0 ran at once');
    assert.ok(took <= 30, `moved after ${took.toFixed(1)} s`);
    await lab.run(['heal', victim]);
    await waitFor(`${victim} Ready`, async () => (await readyOf(victim)) === 'True', 30_000);
    await sleep(8000);
    const healedAt = Date.now() - 8000;
    const after = beats().filter((b) => b.name === 'island-0' && b.at >= healedAt);
    assert.ok(after.length > 0 && after.every((b) => b.node === moved.spec.nodeName), `beats after the heal from ${[...new Set(after.map((b) => b.node))].join(', ')}`);
    assert.equal(pidsInCgroup(podCgroup(victim, p0.metadata.uid)).length, 0, 'the old copy runs again on the healed node');
  });

  test('members on healthy nodes never fenced: no restart', async () => {
    const calm = parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'app=calm', '-o', 'json']), 'calm'), 'calm').items as any[];
    const healthy = calm.filter((p) => !victims.has(p.spec.nodeName));
    assert.ok(healthy.length > 0, `some calm member on a node never failed (victims: ${[...victims].join(', ')})`);
    for (const p of healthy) assert.equal(p.status.containerStatuses[0].restartCount, 0, `${p.metadata.name} on ${p.spec.nodeName} restarted`);
  });
});
