/**
 * End to end: `berth lab` — three hosts as network namespaces on a private bridge, each a real
 * `berth join` agent, a real `berth server`, real kubectl over TLS. Up (timed) to three Ready nodes,
 * a process pod pinned to each with logs and exec, each pod in its own host's cgroup and network,
 * a runc pod on node-2; kill node-2 (its processes and runc containers gone, NotReady), restart it
 * (Ready, runs a pod again); partition and heal node-3 (processes keep running); after a crash of
 * the server and agents (SIGKILL; pods keep running), down leaves no namespace, link, table,
 * cgroup, mount or process, and a second down has nothing to do. All along, an nftables counter on the machine's
 * default-route interface counts packets from the lab's addresses and pod CIDRs: it stays at 0.
 * Serial (machine lock: bridges, namespaces, cgroups); needs root.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBusyboxLayout } from '../../src/agent/runtime/runc/runc.fixture.ts';
import { pidsInCgroup, runLab, startLab, type TestLab } from '../../src/lab/lab.fixture.ts';
import type { LabState, NodeState, ProcessRecord } from '../../src/lab/lab-state.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';

const BERTH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'berth');
const LEAK_TABLE = `berth-lab-leak-${process.pid}`;
/** What the suite's own DNS upstream (dnsmasq on loopback) answers: no machine resolver is asked. */
const UPSTREAM_ANSWER = '192.0.2.77';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every mount point of every cgroup hierarchy. */
function cgroupRoots(): string[] {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' ')).filter((f) => f[2] === 'cgroup' || f[2] === 'cgroup2').map((f) => f[1]);
}

/** Pids in the network namespace bound at `nsPath`. */
function pidsInNetns(nsPath: string): number[] {
  let ino: number;
  try { ino = statSync(nsPath).ino; } catch { return []; }
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try { if (readlinkSync(`/proc/${p}/ns/net`) === `net:[${ino}]`) out.push(Number(p)); } catch { /* gone */ }
  }
  return out;
}

/** `runc list -q` of a host's agent (its runc root under the data dir). */
function runcContainers(nodeDataDir: string): string {
  const root = path.join(nodeDataDir, 'runtime', 'runc', 'runc-root');
  return existsSync(root) ? sh('runc', '--root', root, 'list', '-q').trim() : '';
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); } catch { return false; }
  try { return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; }
}

/** Packets the leak counter saw, per rule comment. */
function leakCounts(): Record<string, number> {
  const out: Record<string, number> = {};
  const rules = JSON.parse(sh('nft', '-j', 'list', 'table', 'inet', LEAK_TABLE)).nftables.filter((x: any) => x.rule);
  for (const { rule } of rules) {
    const counter = rule.expr.find((e: any) => e.counter)?.counter;
    out[rule.comment] = counter?.packets ?? NaN;
  }
  return out;
}

describe('berth lab: three hosts on one machine', { concurrency: false }, () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'berth-e2e-lab-'));
  let t: TestLab;
  /** lab.json of a running lab: every process started, every pod range known. */
  let state: Omit<LabState, 'server' | 'nodes'> & { server: ProcessRecord; nodes: (NodeState & { agent: ProcessRecord; podCidr: string })[] };
  let uplink: string;
  let layout: string;
  const k = (args: string[], input?: string) => t.kubectl(args, input);
  const node = (name: string) => state.nodes.find((n) => n.name === name)!;
  const readyOf = async (name: string) => {
    const r = await k(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    return r.code === 0 ? r.stdout.trim() : undefined;
  };
  const reread = () => { state = t.state() as typeof state; };
  const waitFor = waiter({
    context: () => `${state ? state.nodes.map((n) => `--- ${n.name}\n${t.logTail(n.name, 15)}`).join('\n') : ''}\n--- server\n${t.logTail('server', 15)}`,
  });
  const podOn = (name: string, nodeName: string) => JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      nodeName, terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'c', image: 'host', command: ['sh', '-c', 'echo "hello from $NODE"; exec sleep 3600'],
        env: [{ name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
      }],
    },
  });
  async function runningPod(name: string): Promise<any> {
    try {
      return await waitFor(`pod ${name} Running`, async () => {
        const p = parseJson<any>(assertOk(await k(['get', 'pod', name, '-o', 'json']), `get pod ${name}`), name);
        return p.status?.phase === 'Running' && p;
      }, 90_000);
    } catch (err) {
      throw new Error(`${(err as Error).message}\n--- describe\n${(await k(['describe', 'pod', name])).stdout}`);
    }
  }

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'berth lab needs root (network namespaces, bridges, cgroups)');
    // Only read: the interface of the machine's default route, where nothing of the lab may go out.
    const [route] = JSON.parse(sh('ip', '-j', 'route', 'show', 'default')) as { dev: string }[];
    assert.ok(route?.dev, 'the machine has a default route');
    uplink = route.dev;
    layout = await buildBusyboxLayout(path.join(work, 'image'));
    const rules = [
      `table inet ${LEAK_TABLE} {`,
      '  chain out { type filter hook postrouting priority 0; policy accept;',
      `    oifname "${uplink}" ip saddr 198.18.0.0/15 counter comment "lab-hosts"`,
      `    oifname "${uplink}" ip saddr 10.244.0.0/16 counter comment "lab-pods"`,
      '  }',
      '}',
    ].join('\n');
    execFileSync('nft', ['-f', '-'], { input: rules });
  });

  after(async () => {
    await t?.down();
    try { execFileSync('nft', ['delete', 'table', 'inet', LEAK_TABLE], { stdio: 'ignore' }); } catch { /* not made */ }
    rmSync(work, { recursive: true, force: true });
  });

  test('lab up --nodes 3: every Node Ready, kubectl get nodes through D/kubeconfig', async () => {
    t = await startLab({ nodes: 3, upstreamNames: { 'upstream.test': UPSTREAM_ANSWER } });
    console.log(`# lab up --nodes 3: ${(t.upMs / 1000).toFixed(1)} s to 3 Ready nodes`);
    reread();
    // The control: the same match on the lab's own bridge counts the server's packets to the hosts,
    // so a 0 on the uplink means nothing went there, not a rule that never matches.
    execFileSync('nft', ['add', 'rule', 'inet', LEAK_TABLE, 'out', 'oifname', state.bridge, 'ip', 'saddr', '198.18.0.0/15', 'counter', 'comment', '"control-bridge"']);
    const table = assertOk(await k(['get', 'nodes', '-o', 'wide']), 'get nodes');
    for (const n of state.nodes) {
      assert.match(table, new RegExp(`^${n.name}\\s+Ready\\s+.*\\s${n.address.replace(/\./g, '\\.')}\\s`, 'm'), table);
      // Its pod range from the server's node IPAM, inside the lab's cluster CIDR, recorded in lab.json.
      assert.match(n.podCidr, /^10\.244\.\d+\.0\/24$/);
      // A host: its own namespace with its address and no default route.
      assert.equal(sh('ip', '-n', n.netns, '-j', 'route', 'show', 'default').trim(), '[]');
      assert.ok(alive(n.agent.pid));
      assert.equal(readFileSync(path.join(n.dataDir, 'agent.pid'), 'utf8').trim(), String(n.agent.pid));
    }
    assert.equal(readFileSync(path.join(t.dataDir, 'server.pid'), 'utf8').trim(), String(state.server.pid));
    assert.equal(new Set(state.nodes.map((n) => n.podCidr)).size, 3, 'three distinct pod ranges');
    assert.ok(t.upMs < 60_000, `up took ${t.upMs} ms`);
    const again = await runLab(['up', '--nodes', '1', '--data-dir', t.dataDir]);
    assert.equal(again.code, 1);
    assert.match(again.out, /a lab is recorded in .* already \(3 nodes on bl[0-9a-f]{5}\); run berth lab down --data-dir .* first/);
    assert.equal(await readyOf('node-1'), 'True', 'the refused up touched nothing');
  });

  test('a process pod pinned to each node runs there: its IP, cgroup and network are its host’s; logs and exec work', async () => {
    for (const n of state.nodes) assertOk(await k(['apply', '-f', '-'], podOn(`p-${n.name}`, n.name)), `pod on ${n.name}`);
    for (const n of state.nodes) {
      const pod = await runningPod(`p-${n.name}`);
      const [a, b, c] = n.podCidr.split('.');
      assert.ok(pod.status.podIP.startsWith(`${a}.${b}.${c}.`), `${pod.status.podIP} in ${n.podCidr}`);
      assert.equal(pod.status.hostIP, n.address);
      await waitFor(`logs of p-${n.name}`, async () => (await k(['logs', `p-${n.name}`])).stdout.includes(`hello from ${n.name}`));
      const cg = assertOk(await k(['exec', `p-${n.name}`, '--', 'cat', '/proc/self/cgroup']), 'exec');
      assert.match(cg, new RegExp(`/${n.cgroup}/pods/pod-${pod.metadata.uid}/`), 'the pod is in its host’s cgroup');
      const three = await k(['exec', `p-${n.name}`, '--', 'sh', '-c', 'exit 3']);
      assert.equal(three.code, 3, three.stderr);
      // The cluster DNS (the server's, behind the kube-dns ClusterIP) answers from every host's pods,
      // forwarding other names to the lab's --dns-upstream.
      const dns = await waitFor(`DNS from p-${n.name}`, async () => {
        const r = await k(['exec', `p-${n.name}`, '--', 'getent', 'hosts', 'upstream.test']);
        return r.code === 0 && r.stdout;
      }, 30_000);
      assert.match(dns, new RegExp(`^${UPSTREAM_ANSWER.replace(/\./g, '\\.')}\\s+upstream\\.test`));
    }
    // Traffic that would go out if anything could: from a host and from a pod towards outside addresses.
    for (const n of state.nodes) {
      try { execFileSync('nsenter', [`--net=/run/netns/${n.netns}`, 'ping', '-c', '1', '-W', '1', '192.0.2.1'], { stdio: 'ignore' }); } catch { /* no route: the point */ }
      try { execFileSync('nsenter', [`--net=/run/netns/${n.netns}`, 'ping', '-c', '1', '-W', '1', state.serverAddress], { stdio: 'ignore' }); } catch { /* counted either way */ }
      await k(['exec', `p-${n.name}`, '--', 'python3', '-c', 'import socket; s=socket.socket(); s.settimeout(1)\ntry: s.connect(("192.0.2.1", 80))\nexcept Exception as e: print(e)']);
    }
  });

  test('a runc pod runs on node-2, in its runc root', async () => {
    const n2 = node('node-2');
    execFileSync(BERTH, ['image', 'import', '--agent-data-dir', n2.dataDir, '--repository', 'layout.local/busybox', layout]);
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'r-node-2' },
      spec: { nodeName: 'node-2', runtimeClassName: 'runc', terminationGracePeriodSeconds: 1, dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] },
        containers: [{ name: 'c', image: 'layout.local/busybox:v1', imagePullPolicy: 'Never', command: ['sleep', '3600'] }] },
    })), 'runc pod');
    await runningPod('r-node-2');
    assert.notEqual(runcContainers(n2.dataDir), '', 'runc knows the container');
  });

  test('kill node-2: every process and runc container of it gone, NotReady; restart: Ready again and runs a pod', async () => {
    const n2 = node('node-2');
    const podPids = pidsInCgroup(`${n2.cgroup}/pods`);
    assert.ok(podPids.length > 0, 'node-2 runs pod processes before the kill');
    const t0 = Date.now();
    const kill = await t.run(['kill', 'node-2']);
    console.log(`# berth lab kill node-2: ${Math.round(kill.ms)} ms`);
    assert.ok(!alive(n2.agent.pid), 'the agent is gone');
    assert.ok(!existsSync(path.join(n2.dataDir, 'agent.pid')), 'its pid file with it');
    for (const pid of podPids) assert.ok(!alive(pid), `pod process ${pid} is gone`);
    assert.deepEqual(pidsInNetns(`/run/netns/${n2.netns}`).filter(alive), [], 'nothing runs in the host’s namespace');
    assert.deepEqual(pidsInCgroup(n2.cgroup).filter(alive), [], 'nothing runs in the host’s cgroup');
    assert.deepEqual(readdirSync('/run/netns').filter((x) => x.startsWith(n2.podNetnsPrefix)), [], 'its pods’ namespaces are gone');
    assert.equal(runcContainers(n2.dataDir), '', 'runc has no container of it left');
    // The other hosts are untouched.
    for (const other of ['node-1', 'node-3']) assert.ok(alive(node(other).agent.pid));
    await waitFor('node-2 NotReady', async () => (await readyOf('node-2')) === 'Unknown' || (await readyOf('node-2')) === 'False', 90_000);
    console.log(`# kill node-2 → NotReady in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(await readyOf('node-1'), 'True');

    const restart = await t.run(['restart', 'node-2']);
    console.log(`# berth lab restart node-2 (to Ready): ${(restart.ms / 1000).toFixed(1)} s`);
    assert.equal(await readyOf('node-2'), 'True');
    reread();
    assertOk(await k(['apply', '-f', '-'], podOn('p-again', 'node-2')), 'pod on node-2 after restart');
    await runningPod('p-again');
    await waitFor('logs of p-again', async () => (await k(['logs', 'p-again'])).stdout.includes('hello from node-2'));
  });

  test('partition node-3: its processes keep running, it goes NotReady; heal: Ready again', async () => {
    const n3 = node('node-3');
    const podPids = pidsInCgroup(`${n3.cgroup}/pods`);
    await t.run(['partition', 'node-3']);
    await waitFor('node-3 NotReady', async () => (await readyOf('node-3')) !== 'True', 90_000);
    assert.ok(alive(n3.agent.pid), 'the agent keeps running');
    for (const pid of podPids) assert.ok(alive(pid), `pod process ${pid} keeps running`);
    await t.run(['heal', 'node-3']);
    await waitFor('node-3 Ready', async () => (await readyOf('node-3')) === 'True', 90_000);
  });

  test('nothing of the lab left the machine: 0 packets from 198.18.0.0/15 or the pod CIDRs on the uplink', () => {
    const counts = leakCounts();
    assert.ok(counts['control-bridge'] > 0, `the control rule counted the lab's own traffic: ${JSON.stringify(counts)}`);
    assert.deepEqual({ ...counts, 'control-bridge': undefined }, { 'lab-hosts': 0, 'lab-pods': 0, 'control-bridge': undefined });
    console.log(`# packets counted: ${JSON.stringify(counts)}`);
  });

  test('after a crash (server and agents SIGKILLed, pods still running), down leaves no process, namespace, link, table, cgroup or mount; a second down has nothing to do', async () => {
    const podPids = state.nodes.flatMap((n) => pidsInCgroup(`${n.cgroup}/pods`));
    assert.ok(podPids.length >= 3, 'pods run on the hosts');
    const pids = [state.server.pid, ...state.nodes.map((n) => n.agent.pid), ...state.nodes.flatMap((n) => pidsInCgroup(n.cgroup))];
    for (const pid of [state.server.pid, ...state.nodes.map((n) => n.agent.pid)]) process.kill(pid, 'SIGKILL');
    await sleep(500);
    assert.ok(podPids.some(alive), 'pods outlive their agent');
    const down = await t.run(['down']);
    console.log(`# berth lab down after a crash: ${(down.ms / 1000).toFixed(1)} s`);
    for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} is gone`);
    assert.deepEqual(readdirSync('/run/netns').filter((x) => x.startsWith(state.id)), [], 'no host or pod namespace');
    const links = (JSON.parse(sh('ip', '-j', 'link', 'show')) as { ifname: string }[]).map((l) => l.ifname).filter((x) => x.startsWith(state.id));
    assert.deepEqual(links, [], 'no bridge or veth');
    const tables = (JSON.parse(sh('nft', '-j', 'list', 'tables')).nftables as any[]).filter((x) => x.table && x.table.name.includes(state.id));
    assert.deepEqual(tables, [], 'no nftables table');
    for (const root of cgroupRoots()) assert.ok(!existsSync(path.join(root, state.cgroup)), `no cgroup ${root}/${state.cgroup}`);
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(t.dataDir));
    assert.deepEqual(mounts, [], 'no mount under the data dir');
    assert.ok(!existsSync(path.join(t.dataDir, 'lab.json')));
    assert.ok(!existsSync(path.join(t.dataDir, 'server.pid')));
    const again = await t.run(['down']);
    assert.match(again.out, /nothing to do/);
  });
});
