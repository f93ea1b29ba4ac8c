/**
 * End to end: pod priority and preemption through real kubectl against a real `berth server` (TLS,
 * admin kubeconfig) with one `berth sim` node of 4 cpu. The built-in PriorityClasses are listed
 * with kubectl's columns and cannot be deleted; a chart-style manifest applies its classes; four
 * low-priority pods fill the node; a pod of equal priority but preemptionPolicy Never stays Pending
 * with upstream's message; a high-priority pod is nominated to the node first (watched), one low pod
 * is preempted (DisruptionTarget, Preempted event) and the preemptor is bound there — while the
 * Never pod, queued earlier at the same priority, does not take the room kept for it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertFails, assertOk, parseJson, parseTable } from '../support/kubectl-assert.ts';
import { spawnKubectl, type KubectlProcess } from '../support/kubectl-watch.ts';
import { waitFor } from '../support/wait.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const NODE = 'prio-0000';

const classes = `
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: { name: batch-low }
value: 10
description: fills idle capacity
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: { name: serving-high }
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: { name: serving-polite }
value: 1000
preemptionPolicy: Never
`;

const pod = (name: string, className: string, labels: Record<string, string> = {}) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
  spec: { priorityClassName: className, containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'], resources: { requests: { cpu: '1' } } }] },
});

describe('priority and preemption', { concurrency: false }, () => {
  let s: BerthServer;
  let sim: ChildProcess | undefined;
  const watches: KubectlProcess[] = [];
  const k = (args: string[], input?: string) => s.kubectl(args, { input, timeoutMs: 30_000 });
  const getPod = async (name: string) => parseJson<any>(assertOk(await k(['get', 'pod', name, '-o', 'json']), `pod ${name}`), name);
  const logs = () => s.logs().slice(-3000);

  before(async () => {
    s = await startBerth({ command: 'server' });
  });
  after(async () => {
    for (const w of watches) await w.stop();
    sim?.kill('SIGKILL');
    await s?.cleanup();
  });

  test('kubectl get priorityclasses: the built-ins with kubectl columns; they cannot be deleted; user classes apply', async () => {
    const table = parseTable(assertOk(await k(['get', 'priorityclasses']), 'get priorityclasses'));
    assert.deepEqual(table.header, ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE', 'PREEMPTIONPOLICY']);
    const rows = table.rows.map((r) => [r[0], r[1], r[2], r[4]]);
    assert.deepEqual(rows, [
      ['system-cluster-critical', '2000000000', 'false', 'PreemptLowerPriority'],
      ['system-node-critical', '2000001000', 'false', 'PreemptLowerPriority'],
    ]);
    assertFails(await k(['delete', 'priorityclass', 'system-node-critical']), 'delete a built-in',
      /priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted/);
    assertOk(await k(['apply', '-f', '-'], classes), 'apply classes');
    assertFails(await k(['create', 'priorityclass', 'too-high', '--value=1000000001']), 'a user value above 1e9',
      /maximum allowed value of a user defined priority is 1000000000/);
    const described = assertOk(await k(['describe', 'priorityclass', 'batch-low']), 'describe');
    for (const line of [/^Value:\s+10$/m, /^GlobalDefault:\s+false$/m, /^PreemptionPolicy:\s+PreemptLowerPriority$/m, /^Description:\s+fills idle capacity$/m]) assert.match(described, line);
    // kubectl's typed command sends protobuf: a zero value is kept, the pointer policy too.
    assertOk(await k(['create', 'priorityclass', 'zero', '--value=0', '--description=nothing special', '--preemption-policy=Never']), 'create priorityclass');
    const zero = parseJson<any>(assertOk(await k(['get', 'pc', 'zero', '-o', 'json']), 'pc zero'), 'pc zero');
    assert.deepEqual([zero.value, zero.preemptionPolicy, zero.description, zero.globalDefault], [0, 'Never', 'nothing special', undefined]);
    assertFails(await k(['apply', '-f', '-'], pod('lost', 'no-such-class')), 'an unknown class',
      /pods "lost" is forbidden: no PriorityClass with name no-such-class was found/);
    assert.equal(parseTable(assertOk(await k(['get', 'pc']), 'get pc')).rows.length, 6);
  });

  test('a high-priority pod preempts a low one on a full node: nominated first, then bound; a Never pod waits', async () => {
    sim = spawn(process.execPath, [path.join(REPO, 'bin', 'berth'), 'sim', '--nodes', '1', '--prefix', 'prio', '--kubeconfig', s.kubeconfig], { stdio: 'ignore' });
    await waitFor('the sim node Ready', async () => {
      const n = parseJson<any>(assertOk(await k(['get', 'node', NODE, '-o', 'json']), 'node'), 'node');
      return n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
    }, 30_000, logs);

    for (let i = 0; i < 4; i++) assertOk(await k(['apply', '-f', '-'], pod(`low-${i}`, 'batch-low', { tier: 'batch' })), `low-${i}`);
    await waitFor('4 low pods Running', async () => {
      const items = parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'tier=batch', '-o', 'json']), 'pods'), 'pods').items;
      return items.filter((p: any) => p.status?.phase === 'Running' && p.spec.nodeName === NODE).length === 4;
    }, 30_000, logs);
    assert.equal((await getPod('low-0')).spec.priority, 10);

    // Equal to the preemptor's priority, but it may not preempt: Pending with upstream's message.
    assertOk(await k(['apply', '-f', '-'], pod('polite', 'serving-polite')), 'polite');
    const politeMsg = await waitFor('polite unschedulable', async () =>
      (await getPod('polite')).status?.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False')?.message, 20_000, logs);
    assert.equal(politeMsg, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.');

    const watch = await spawnKubectl(['get', 'pods', '--field-selector', 'metadata.name=vip', '-w', '-o', 'jsonpath={.status.nominatedNodeName}|{.spec.nodeName}{"\\n"}'],
      { kubeconfig: s.kubeconfig, cacheDir: s.cacheDir });
    watches.push(watch);
    await new Promise((r) => setTimeout(r, 500));
    assertOk(await k(['apply', '-f', '-'], pod('vip', 'serving-high')), 'vip');
    await watch.waitForLine(new RegExp(`^${NODE}\\|${NODE}$`), 30_000).catch((err) => { throw new Error(`${err.message}\n${logs()}`); });
    const seen = watch.stdout().split('\n').filter(Boolean);
    const nominated = seen.indexOf(`${NODE}|`);
    const bound = seen.indexOf(`${NODE}|${NODE}`);
    assert.ok(nominated >= 0 && nominated < bound, `nominated before bound: ${JSON.stringify(seen)}`);
    const vip = await getPod('vip');
    assert.deepEqual([vip.spec.priority, vip.spec.preemptionPolicy, vip.status.nominatedNodeName], [1000, 'PreemptLowerPriority', NODE]);

    // One victim, with the Preempted event naming the preemptor; the other three still run.
    const events = parseJson<any>(assertOk(await k(['get', 'events', '--field-selector', 'reason=Preempted', '-o', 'json']), 'events'), 'events').items;
    assert.equal(events.length, 1, JSON.stringify(events));
    assert.equal(events[0].message, `Preempted by pod ${vip.metadata.uid} on node ${NODE}`);
    assert.match(events[0].involvedObject.name, /^low-\d$/);
    const remaining = parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'tier=batch', '-o', 'json']), 'pods'), 'pods').items;
    assert.deepEqual(remaining.map((p: any) => p.metadata.name).sort(), ['low-0', 'low-1', 'low-2', 'low-3'].filter((n) => n !== events[0].involvedObject.name));
    // The victim's DisruptionTarget was written before its delete: the scheduler's log shows the
    // choice; the condition itself left with the pod (the sim deletes at once), so the event stands for it.
    assert.match(s.logs(), /preempting/);

    // The Never pod, queued first at the same priority, did not take the room kept for vip.
    const polite = await getPod('polite');
    assert.equal(polite.spec.nodeName, undefined);
    const failed = parseJson<any>(assertOk(await k(['get', 'events', '--field-selector', 'involvedObject.name=vip,reason=FailedScheduling', '-o', 'json']), 'events'), 'events').items;
    assert.equal(failed[0]?.message, '0/1 nodes are available: 1 Insufficient cpu.');
    const wide = parseTable(assertOk(await k(['get', 'pod', 'vip', '-o', 'wide']), 'get -o wide'));
    assert.equal(wide.rows[0][wide.header.indexOf('NOMINATED NODE')], NODE);
  });
});
