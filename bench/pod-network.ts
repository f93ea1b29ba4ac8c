/**
 * pod-network: what the pod network across nodes costs and how fast it follows the cluster.
 *
 * 1. The floor: two network namespaces joined by a plain veth pair (made and removed here).
 * 2. For each backend (host-gw, vxlan): `berth lab up --nodes 2 --backend B`, a server process pod
 *    on node-1 and client pods on node-1 (same node: bridge only) and node-2 (across nodes: bridge,
 *    the lab's veth/bridge, and for vxlan the encapsulation).
 *    Measured with one small TCP tester (python3, the same in every case): throughput = one
 *    connection sending 256 KiB writes for BENCH_NET_SECONDS (default 5); latency = 2,000 1-byte
 *    request/response round trips on one TCP_NODELAY connection, p50/p99.
 * 3. Convergence with 100 simulated nodes (Node objects with an InternalIP on the lab's subnet and,
 *    for vxlan, a VTEP MAC; their pod ranges from the server's node IPAM): how long until both real
 *    nodes have the 100 routes; then BENCH_NET_JOINS (default 20) times a node joining (a Node
 *    created → its route, neighbour and FDB entry on both real nodes) and leaving (deleted → gone).
 *    `berth sim` nodes are no use here: their ranges (10.240.0.0/12) lie outside the lab's cluster
 *    CIDR, and ranges outside it are never routed.
 * Needs root; run alone (`flock /tmp/berth-e2e.lock npm run bench -- pod-network`).
 * Targets: cross-node throughput ≥ 50 % of the veth floor (host-gw), join/leave p99 ≤ 2 s.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLab, type TestLab } from '../src/lab/lab.fixture.ts';
import { f, pct, printTable, sleep, sortNum } from './lib/stats.ts';

const TESTER = String.raw`
import socket, sys, time, json
def server(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', port)); s.listen(8)
    while True:
        c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        mode = c.recv(1)
        if mode == b'T':
            n = 0; buf = bytearray(1 << 18)
            while True:
                r = c.recv_into(buf)
                if not r: break
                n += r
            c.sendall(str(n).encode())
        else:
            while True:
                b = c.recv(1)
                if not b: break
                c.sendall(b)
        c.close()
def client(host, port, what, arg):
    c = socket.create_connection((host, port), timeout=30); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if what == 'tput':
        c.sendall(b'T'); chunk = b'x' * (1 << 18); end = time.monotonic() + float(arg); t0 = time.monotonic(); n = 0
        while time.monotonic() < end:
            c.sendall(chunk); n += len(chunk)
        c.shutdown(socket.SHUT_WR); got = int(c.recv(64)); dt = time.monotonic() - t0
        print(json.dumps({'bytes': got, 'seconds': dt, 'gbps': got * 8 / dt / 1e9}))
    else:
        c.sendall(b'L'); rtts = []
        for i in range(int(arg)):
            t0 = time.perf_counter_ns(); c.sendall(b'p'); c.recv(1); rtts.append((time.perf_counter_ns() - t0) / 1000)
        rtts.sort(); print(json.dumps({'p50': rtts[len(rtts) // 2], 'p99': rtts[int(len(rtts) * 0.99)], 'n': len(rtts)}))
if sys.argv[1] == 'server': server(int(sys.argv[2]))
else: client(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
`;

const PORT = 5201;
const RTTS = 2000;
const sh = (cmd: string, ...args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const quiet = (cmd: string, ...args: string[]) => { try { execFileSync(cmd, args, { stdio: 'ignore' }); } catch { /* not there */ } };

interface Figures { gbps: number; p50: number; p99: number }

/** Throughput then latency from one client command line (argv without the mode arguments). */
function measure(client: (mode: string, arg: string) => string, seconds: number): Figures {
  const t = JSON.parse(client('tput', String(seconds)).trim().split('\n').pop()!) as { gbps: number };
  const l = JSON.parse(client('lat', String(RTTS)).trim().split('\n').pop()!) as { p50: number; p99: number };
  return { gbps: t.gbps, p50: l.p50, p99: l.p99 };
}

/** The floor: a veth pair between two namespaces of this bench's own. */
async function vethFloor(tester: string, seconds: number): Promise<Figures> {
  const [a, b] = [`pnb-a-${process.pid}`, `pnb-b-${process.pid}`];
  let server: ChildProcess | undefined;
  try {
    sh('ip', 'netns', 'add', a);
    sh('ip', 'netns', 'add', b);
    sh('ip', '-n', a, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', b);
    sh('ip', '-n', a, 'addr', 'add', '198.19.254.1/30', 'dev', 'eth0');
    sh('ip', '-n', b, 'addr', 'add', '198.19.254.2/30', 'dev', 'eth0');
    for (const ns of [a, b]) { sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up'); sh('ip', '-n', ns, 'link', 'set', 'lo', 'up'); }
    server = spawn('nsenter', [`--net=/run/netns/${b}`, 'python3', tester, 'server', String(PORT)], { stdio: 'ignore' });
    await sleep(500);
    return measure((mode, arg) => sh('nsenter', `--net=/run/netns/${a}`, 'python3', tester, 'client', '198.19.254.2', String(PORT), mode, arg), seconds);
  } finally {
    server?.kill('SIGKILL');
    // One at a time: deleting namespaces together stalls the kernel.
    quiet('ip', 'netns', 'del', a);
    quiet('ip', 'netns', 'del', b);
  }
}

function pod(name: string, node: string, command: string[]): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'pod-network' } },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'host', command }] },
  });
}

async function kOk(lab: TestLab, args: string[], input?: string): Promise<string> {
  const r = await lab.kubectl(args, input, 120_000);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Our routes (protocol 66) in a host's namespace. */
const routesOf = (netns: string) => sh('ip', '-n', netns, 'route', 'show', 'proto', '66');

function randomMac(i: number): string {
  return ['0a', 'be', '00', (i >> 8).toString(16).padStart(2, '0'), (i & 255).toString(16).padStart(2, '0'), '01'].join(':');
}

interface BackendResult { same: Figures; cross: Figures; bulkMs: number; join: number[]; leave: number[] }

async function backendRun(backend: 'host-gw' | 'vxlan', tester: string, seconds: number, joins: number): Promise<BackendResult> {
  const lab = await startLab({ nodes: 2, backend });
  try {
    const st = lab.state();
    await kOk(lab, ['apply', '-f', '-'], pod('srv', 'node-1', ['python3', tester, 'server', String(PORT)]));
    await kOk(lab, ['apply', '-f', '-'], pod('cli-same', 'node-1', ['sleep', '3600']));
    await kOk(lab, ['apply', '-f', '-'], pod('cli-cross', 'node-2', ['sleep', '3600']));
    await kOk(lab, ['wait', '--for=condition=Ready', 'pod', '-l', 'bench=pod-network', '--timeout=90s']);
    const srvIP = (await kOk(lab, ['get', 'pod', 'srv', '-o', 'jsonpath={.status.podIP}'])).trim();
    const client = (podName: string) => (mode: string, arg: string) => execFileSync('kubectl', ['--kubeconfig', lab.kubeconfig, 'exec', podName, '--', 'python3', tester, 'client', srvIP, String(PORT), mode, arg], { encoding: 'utf8' });
    await sleep(300);
    const same = measure(client('cli-same'), seconds);
    const cross = measure(client('cli-cross'), seconds);

    // 100 simulated nodes on the lab's subnet (.100–.199: on-link, nobody answers; nothing is sent to them).
    const prefix = st.serverAddress.split('.').slice(0, 3).join('.');
    const netnses = st.nodes.map((n) => n.netns);
    const simNode = (i: number) => ({
      apiVersion: 'v1', kind: 'Node',
      metadata: { name: `sim-${i}`, annotations: { 'berth.dev/public-ip': `${prefix}.${100 + (i % 100)}`, ...(backend === 'vxlan' ? { 'berth.dev/vxlan-mac': randomMac(i) } : {}) } },
      spec: {}, status: { addresses: [{ type: 'InternalIP', address: `${prefix}.${100 + (i % 100)}` }] },
    });
    const t0 = performance.now();
    await kOk(lab, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: Array.from({ length: 100 }, (_, i) => simNode(i)) }));
    const count = (netns: string) => routesOf(netns).trim().split('\n').filter(Boolean).length;
    for (;;) {
      if (netnses.every((ns) => count(ns) >= 101)) break;
      if (performance.now() - t0 > 120_000) throw new Error(`100 routes not there after 120 s: ${netnses.map(count)}`);
      await sleep(20);
    }
    const bulkMs = performance.now() - t0;
    const join: number[] = [];
    const leave: number[] = [];
    for (let j = 0; j < joins; j++) {
      const i = 1000 + j;
      const a = performance.now();
      await kOk(lab, ['apply', '-f', '-'], JSON.stringify(simNode(i)));
      // Its range comes from node IPAM; then the route must reach both real nodes.
      let cidr = '';
      for (;;) {
        if (!cidr) cidr = (await kOk(lab, ['get', 'node', `sim-${i}`, '-o', 'jsonpath={.spec.podCIDR}'])).trim();
        if (cidr && netnses.every((ns) => routesOf(ns).includes(`${cidr} `))) break;
        if (performance.now() - a > 30_000) throw new Error(`sim-${i}: no route after 30 s`);
        await sleep(5);
      }
      join.push(performance.now() - a);
      const b = performance.now();
      await kOk(lab, ['delete', 'node', `sim-${i}`, '--wait=false']);
      while (netnses.some((ns) => routesOf(ns).includes(`${cidr} `))) {
        if (performance.now() - b > 30_000) throw new Error(`sim-${i}: route still there after 30 s`);
        await sleep(5);
      }
      leave.push(performance.now() - b);
    }
    return { same, cross, bulkMs, join, leave };
  } finally {
    await lab.down();
  }
}

export async function run(): Promise<boolean> {
  if (process.getuid?.() !== 0) throw new Error('pod-network needs root (namespaces, berth lab)');
  const seconds = Number(process.env.BENCH_NET_SECONDS) || 5;
  const joins = Number(process.env.BENCH_NET_JOINS) || 20;
  const work = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-pod-network-'));
  const tester = path.join(work, 'tcp-tester.py');
  writeFileSync(tester, TESTER);
  try {
    const floor = await vethFloor(tester, seconds);
    const results: Record<string, BackendResult> = {};
    for (const b of ['host-gw', 'vxlan'] as const) results[b] = await backendRun(b, tester, seconds, joins);
    const row = (name: string, x: Figures) => [name, f(x.gbps, 2), `${Math.round((x.gbps / floor.gbps) * 100)} %`, f(x.p50, 0), f(x.p99, 0)];
    printTable(`pod-to-pod TCP, one connection (${seconds} s throughput, ${RTTS} round trips)`, ['path', 'Gbit/s', 'of floor', 'RTT p50 µs', 'RTT p99 µs'], [
      row('veth pair between two namespaces (floor)', floor),
      row('host-gw, same node (bridge)', results['host-gw']!.same),
      row('host-gw, across nodes', results['host-gw']!.cross),
      row('vxlan, same node (bridge)', results.vxlan!.same),
      row('vxlan, across nodes', results.vxlan!.cross),
    ]);
    const conv = (b: string) => {
      const r = results[b]!;
      const j = sortNum(r.join);
      const l = sortNum(r.leave);
      return [b, f(r.bulkMs, 0), f(pct(j, 50), 0), f(pct(j, 99), 0), f(pct(l, 50), 0), f(pct(l, 99), 0)];
    };
    printTable(`route/FDB convergence with 100 simulated nodes (${joins} joins and leaves)`, ['backend', '100 sim nodes → routes on both, ms', 'join p50 ms', 'join p99 ms', 'leave p50 ms', 'leave p99 ms'], [conv('host-gw'), conv('vxlan')]);
    const pass = results['host-gw']!.cross.gbps >= 0.5 * floor.gbps
      && Object.values(results).every((r) => pct(sortNum(r.join), 99) <= 2000 && pct(sortNum(r.leave), 99) <= 2000);
    return pass;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
