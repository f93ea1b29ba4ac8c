import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LAB_ASSIGNS_POD_CIDRS, SERVER_TIMER_FLAGS, findNode, freeSubnetOctet, joinArgs, labId, planLab, serverArgs } from './lab-plan.ts';
import { serverCommand } from '../cli/server-command.ts';
import { readState, withLabLock, writeState, type LabState } from './lab-state.ts';
import { mountsUnder } from './host-teardown.ts';
import { cgroupMounts } from './lab-cgroups.ts';
import { isAlive, processStartTicks } from './lab-processes.ts';

test('a lab id is stable per data dir, differs between dirs, and every interface name fits in 15 characters', () => {
  assert.equal(labId('/tmp/a'), labId('/tmp/a/'));
  assert.equal(labId('/tmp/a'), labId('/tmp/x/../a'));
  assert.notEqual(labId('/tmp/a'), labId('/tmp/b'));
  const plan = planLab('/tmp/a', 200, 0);
  for (const n of plan.nodes) {
    assert.ok(n.hostVeth.length <= 15, n.hostVeth);
    assert.ok(n.podBridge.length <= 15, n.podBridge);
  }
  assert.ok(plan.bridge.length <= 15);
  // Two labs' pod namespaces never share a prefix, nor does any lab share Berth's default one.
  const other = planLab('/tmp/b', 1, 1);
  assert.notEqual(plan.nodes[0].podNetnsPrefix, other.nodes[0].podNetnsPrefix);
  assert.ok(!plan.nodes[0].podNetnsPrefix.startsWith('berth-'));
  assert.ok(!plan.nodes[0].netns.startsWith('berth-'));
});

test('addresses: the server is .1 of the lab /24, node i is .(10+i); pod CIDRs are node IPAM’s', () => {
  const plan = planLab('/tmp/lab', 3, 7);
  assert.equal(plan.subnet, '198.18.7.0/24');
  assert.equal(plan.serverUrl, 'https://198.18.7.1:6443');
  assert.deepEqual(plan.nodes.map((n) => [n.name, n.address]), [['node-1', '198.18.7.11'], ['node-2', '198.18.7.12'], ['node-3', '198.18.7.13']]);
  assert.equal(LAB_ASSIGNS_POD_CIDRS, plan.nodes[0].podCidr !== undefined);
  assert.equal(plan.nodes[1].dataDir, '/tmp/lab/node-2');
  assert.equal(plan.nodes[1].cgroup, `berth-lab/${plan.id}/node-2`);
  assert.throws(() => planLab('/tmp/lab', 0, 0), /--nodes must be a whole number from 1 to 200/);
  assert.throws(() => planLab('/tmp/lab', 201, 0), /--nodes/);
});

test('a lab takes the first 198.18.<k>.0/24 holding no address of the machine', () => {
  assert.equal(freeSubnetOctet(['127.0.0.1', '192.0.2.10']), 0);
  assert.equal(freeSubnetOctet(['198.18.0.1', '198.18.1.7', '198.19.2.1']), 2);
  assert.throws(() => freeSubnetOctet(Array.from({ length: 256 }, (_, k) => `198.18.${k}.1`)), /no subnet left/);
});

test("each host's join is the documented command line, in its own bridge, cgroup and data dir", () => {
  const plan = planLab('/tmp/lab', 2, 0);
  const args = joinArgs(plan, plan.nodes[1], { tokenFile: '/tmp/lab/server/join-token', backend: 'vxlan', dnsUpstream: '127.0.0.53' });
  const flag = (f: string) => args[args.indexOf(f) + 1];
  assert.equal(args[0], 'join');
  assert.equal(flag('--server'), 'https://198.18.0.1:6443');
  assert.equal(flag('--token-file'), '/tmp/lab/server/join-token');
  assert.equal(flag('--node-name'), 'node-2');
  assert.equal(flag('--data-dir'), '/tmp/lab/node-2');
  assert.equal(flag('--listen'), '198.18.0.12:10250');
  assert.equal(flag('--backend'), 'vxlan');
  assert.equal(flag('--dns-upstream'), '127.0.0.53');
  assert.equal(flag('--bridge'), plan.nodes[1].podBridge);
  assert.equal(flag('--cgroup-root'), `${plan.nodes[1].cgroup}/pods`);
  assert.ok(!args.includes('--storage'));
  assert.ok(joinArgs(plan, plan.nodes[0], { tokenFile: 't', storage: true }).includes('--storage'));
  assert.ok(!joinArgs(plan, plan.nodes[0], { tokenFile: 't' }).includes('--backend'), 'no backend given: the agent picks its default');
  assert.equal(args.includes('--pod-cidr'), LAB_ASSIGNS_POD_CIDRS, 'the server’s node IPAM gives pod CIDRs unless the lab does');
  const server = serverArgs(plan, { nodeMonitorGracePeriod: 8 });
  assert.equal(server[server.indexOf('--cluster-cidr') + 1], '10.244.0.0/16');
  assert.deepEqual(server.slice(0, 5), ['server', '--data-dir', '/tmp/lab/server', '--listen', '198.18.0.1:6443']);
  assert.equal(server[server.indexOf('--node-monitor-grace-period') + 1], '8');
  assert.ok(!server.includes('--replica-rebuild-delay'), 'a timer not given: the server keeps its default');
});

test('each server timer a lab sets is a flag `berth server` takes', () => {
  const plan = planLab('/tmp/lab', 1, 0);
  const timers = { nodeMonitorGracePeriod: 6, defaultNotReadyTolerationSeconds: 11, defaultUnreachableTolerationSeconds: 12, replicaRebuildDelay: 4 };
  const args = serverArgs(plan, timers);
  const known = new Set(serverCommand().options.map((o) => o.long));
  for (const [key, flag] of Object.entries(SERVER_TIMER_FLAGS)) {
    assert.ok(known.has(flag), `berth server has ${flag}`);
    assert.equal(args[args.indexOf(flag) + 1], String(timers[key as keyof typeof timers]), flag);
  }
});

test('a node is named node-<i> or just i; another name lists the lab’s nodes', () => {
  const { nodes } = planLab('/tmp/lab', 3, 0);
  assert.equal(findNode(nodes, 'node-2').index, 2);
  assert.equal(findNode(nodes, '3').name, 'node-3');
  assert.throws(() => findNode(nodes, 'node-9'), /the lab has no node "node-9" \(its nodes: node-1, node-2, node-3\)/);
});

test('the state file round-trips and refuses another version', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-lab-state-'));
  try {
    assert.equal(readState(dir), undefined);
    const plan = planLab(dir, 1, 0);
    const state: LabState = { ...plan, version: 1, kubeconfig: path.join(dir, 'kubeconfig'), nodes: plan.nodes.map((n) => ({ ...n, condition: 'running' })), createdAt: 'now' };
    writeState(state);
    assert.deepEqual(readState(dir), JSON.parse(JSON.stringify(state)));
    writeState({ ...state, version: 99 });
    assert.throws(() => readState(dir), /has version 99; this berth reads version 1/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mounts under a directory, deepest first, with escaped names; not a sibling with the same prefix', () => {
  const info = [
    '22 1 0:20 / /sys rw - sysfs sysfs rw',
    '90 1 0:50 / /tmp/lab/node-1/pods/a/volumes/x rw - tmpfs tmpfs rw',
    '91 1 0:51 / /tmp/lab/node-1/runtime/runc/containers/c/rootfs rw - overlay overlay rw',
    '92 1 0:52 / /tmp/lab/node-10/x rw - tmpfs tmpfs rw',
    '93 1 0:53 / /tmp/lab/node-1/with\\040space rw - tmpfs tmpfs rw',
  ].join('\n');
  assert.deepEqual(mountsUnder('/tmp/lab/node-1', info), [
    '/tmp/lab/node-1/runtime/runc/containers/c/rootfs', '/tmp/lab/node-1/pods/a/volumes/x', '/tmp/lab/node-1/with space',
  ]);
});

test('cgroup hierarchies: every v1 controller mount, named ones and the v2 one', () => {
  const mounts = [
    'tmpfs /sys/fs/cgroup tmpfs rw 0 0',
    'cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0',
    'cgroup /sys/fs/cgroup/systemd cgroup rw,name=systemd 0 0',
    'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0',
  ].join('\n');
  assert.deepEqual(cgroupMounts(mounts), ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified']);
});

test('a process record is alive only with its own start time (a recycled pid is not it)', () => {
  const ticks = processStartTicks(process.pid);
  assert.ok(ticks !== undefined && ticks > 0);
  assert.ok(isAlive({ pid: process.pid, startTicks: ticks!, log: '' }));
  assert.ok(!isAlive({ pid: process.pid, startTicks: ticks! + 1, log: '' }));
  assert.equal(processStartTicks(2 ** 22 + 1), undefined);
});

test('lab commands on one lab take turns; a dead holder’s lock is taken over', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'berth-lab-lock-'));
  try {
    const order: string[] = [];
    const slow = withLabLock(dir, async () => { order.push('a start'); await new Promise((r) => setTimeout(r, 300)); order.push('a end'); });
    await new Promise((r) => setTimeout(r, 50));
    const second = withLabLock(dir, async () => { order.push('b'); });
    await Promise.all([slow, second]);
    assert.deepEqual(order, ['a start', 'a end', 'b']);
    writeFileSync(path.join(dir, 'lab.lock'), '999999999\n');
    assert.equal(await withLabLock(dir, async () => 'taken over', 2_000), 'taken over');
    assert.ok(!existsSync(path.join(dir, 'lab.lock')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
