/**
 * `scale`: Kubernetes' scalability envelope on one machine — `berth server` (SQLite, controllers and
 * scheduler on) with `berth sim --nodes 5000` in its own process (kubemark's hollow nodes; upstream's
 * equivalent is the ClusterLoader2 density/load test at 5,000 nodes):
 *   1. 5,000 nodes register; the server keeps them Ready (sim renews every 10 s, server grace 40 s,
 *      Kubernetes' own pairing — the 2 s / 8 s of real agents is 2,500 writes/s at this size).
 *   2. Deployments of various sizes (1,000 / 500 / 100 / 50 / 10 replicas) up to BENCH_SCALE_PODS
 *      (default 150,000) available, within BENCH_SCALE_FILL_S (default 1,800 s): how far it got.
 *   3. Steady churn for BENCH_SCALE_CHURN_S (default 120 s): 100 pod creates/s and 100 deletes/s
 *      (bare pods, scheduled onto the hollow nodes), open loop; latency of each mutating call, and of
 *      cluster-scope lists (all pods, all nodes) taken back to back meanwhile — against Kubernetes'
 *      SLOs (p99 ≤ 1 s for single-object mutations, ≤ 30 s for cluster-scope lists).
 *   4. Server peak RSS (VmHWM); then a cold restart (SIGTERM, start on the same data dir): spawn →
 *      /readyz `ok`, with every pod in the store and the sim still running.
 * Everything over TLS with the kubeconfig the server writes. The machine's load average is printed
 * beside the figures (others' work shares the 2 cores).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, REPO_ROOT, sleep } from './lib/server.ts';
import { keepAliveAgent, kubeconfigCredentials, openLoop, request, closedLoop, type TlsCredentials } from './lib/load.ts';
import { CLOCK_TICKS_PER_S, cpuTicksOf, memOf } from './lib/proc.ts';
import { f, pct, printTable, sortNum } from './lib/stats.ts';

const NODES = Number(process.env.BENCH_SCALE_NODES ?? 5000);
const PODS = Number(process.env.BENCH_SCALE_PODS ?? 150_000);
const FILL_S = Number(process.env.BENCH_SCALE_FILL_S ?? 1800);
const CHURN_S = Number(process.env.BENCH_SCALE_CHURN_S ?? 120);
const CHURN_RATE = 100;
const LEASE_S = 10;
const GRACE_S = 40;
const SIZES = [1000, 500, 100, 50, 10];
const BERTH = path.join(REPO_ROOT, 'bin', 'berth');

const children = new Set<ChildProcess>();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

interface Proc { child: ChildProcess; exited: Promise<void>; log(): string }

function launch(args: string[], nodeArgs: string[] = []): Proc {
  const child = spawn(process.execPath, [...nodeArgs, BERTH, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let log = '';
  const append = (d: Buffer) => { log = (log + d.toString()).slice(-16_000); };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((r) => child.once('exit', () => { children.delete(child); r(); }));
  return { child, exited, log: () => log };
}

async function terminate(p: Proc, killAfterMs = 20_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), killAfterMs);
  await p.exited;
  clearTimeout(t);
}

/** Starts `berth server` on `dataDir` and times spawn → /readyz `ok` (polled every 50 ms, 1 s timeout each). */
async function startServer(dataDir: string, port: number, timeoutMs: number): Promise<{ proc: Proc; readyMs: number; tls: TlsCredentials }> {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const t0 = performance.now();
  const proc = launch(['server', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--node-monitor-grace-period', String(GRACE_S)], nodeArgs);
  const kubeconfig = path.join(dataDir, 'kubeconfig');
  let agent: ReturnType<typeof keepAliveAgent> | undefined;
  try {
    for (;;) {
      if (proc.child.exitCode !== null) throw new Error(`berth server exited:\n${proc.log()}`);
      if (performance.now() - t0 > timeoutMs) throw new Error(`berth server not ready in ${timeoutMs} ms:\n${proc.log()}`);
      if (existsSync(kubeconfig) && existsSync(path.join(dataDir, 'pki', 'ca.crt'))) {
        agent ??= keepAliveAgent(1, kubeconfigCredentials(kubeconfig));
        try {
          const res = await request(agent, 'GET', `https://127.0.0.1:${port}/readyz`, undefined, {}, 1000);
          if (res.body.toString().trim() === 'ok') break;
        } catch { /* not yet */ }
      }
      await sleep(50);
    }
  } catch (err) {
    await terminate(proc, 2000);
    throw err;
  } finally {
    agent?.destroy();
  }
  return { proc, readyMs: performance.now() - t0, tls: kubeconfigCredentials(kubeconfig) };
}

/** Open TCP sockets of a process (its fds that are sockets). */
function socketsOf(pid: number): number {
  let n = 0;
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try { if (readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:')) n++; } catch { /* closed meanwhile */ }
  }
  return n;
}

function podJson(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'churn' } },
    spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  });
}

function deploymentJson(name: string, replicas: number): string {
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      replicas, selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } },
    },
  });
}

const load = () => os.loadavg().map((x) => x.toFixed(1)).join(' / ');

export async function run(): Promise<boolean> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-scale-'));
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  let server = await startServer(dataDir, port, 60_000);
  let agent = keepAliveAgent(64, server.tls);
  let sim: Proc | undefined;
  const notes: string[] = [];
  try {
    for (const ns of ['scale', 'churn']) await request(agent, 'POST', `${url}/api/v1/namespaces`, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));

    // 1. The fleet.
    const tNodes = performance.now();
    sim = launch(['sim', '--nodes', String(NODES), '--kubeconfig', path.join(dataDir, 'kubeconfig'), '--concurrency', '100', '--lease-interval', String(LEASE_S)]);
    while (!/Berth sim ready/.test(sim.log())) {
      if (sim.child.exitCode !== null) throw new Error(`berth sim exited:\n${sim.log()}`);
      if (performance.now() - tNodes > 900_000) throw new Error(`sim not registered in 900 s:\n${sim.log()}`);
      await sleep(500);
    }
    const registeredS = (performance.now() - tNodes) / 1000;
    const readyNodes = async (): Promise<number> => {
      const items = (JSON.parse((await request(agent, 'GET', `${url}/api/v1/nodes`, undefined, {}, 120_000)).body.toString()) as { items: any[] }).items;
      return items.filter((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
    };
    const ready0 = await readyNodes();
    console.log(`phase 1: ${NODES} nodes registered in ${f(registeredS)} s, ${ready0} Ready; server ${socketsOf(server.proc.child.pid!)} sockets, load ${load()}`);

    // 2. Deployments of various sizes up to PODS.
    const tFill = performance.now();
    const deployments: string[] = [];
    let requested = 0;
    for (let i = 0; requested < PODS; i++) {
      const size = Math.min(SIZES[i % SIZES.length]!, PODS - requested);
      const name = `d-${String(i).padStart(4, '0')}-${size}`;
      await request(agent, 'POST', `${url}/apis/apps/v1/namespaces/scale/deployments`, deploymentJson(name, size));
      deployments.push(name);
      requested += size;
    }
    let available = 0;
    let lastPrint = 0;
    for (;;) {
      const res = await request(agent, 'GET', `${url}/apis/apps/v1/namespaces/scale/deployments`, undefined, {}, 120_000);
      available = (JSON.parse(res.body.toString()) as { items: any[] }).items.reduce((a, d) => a + (d.status?.availableReplicas ?? 0), 0);
      const elapsed = (performance.now() - tFill) / 1000;
      if (available >= PODS || elapsed > FILL_S) break;
      if (elapsed - lastPrint >= 60) {
        lastPrint = elapsed;
        console.log(`  ${available}/${PODS} available after ${f(elapsed, 0)} s; server RSS ${f(memOf(server.proc.child.pid!).rssMb, 0)} MB, load ${load()}`);
      }
      await sleep(2000);
    }
    const fillS = (performance.now() - tFill) / 1000;
    const memFill = memOf(server.proc.child.pid!);
    const ready1 = await readyNodes();
    console.log(`phase 2: ${available}/${PODS} pods available in ${f(fillS)} s (${deployments.length} Deployments); ${ready1}/${NODES} nodes Ready; RSS ${f(memFill.rssMb, 0)} MB, load ${load()}`);
    if (available < PODS) notes.push(`creation did NOT complete: ${available}/${PODS} available when the ${FILL_S} s fill budget ran out`);

    // 3. Churn: 100 creates/s + 100 deletes/s of bare pods (500 live), lists back to back meanwhile.
    const LIVE = 500;
    const warm = await closedLoop({ concurrency: 16, durationMs: 120_000, maxOps: LIVE, op: (i) => request(agent, 'POST', `${url}/api/v1/namespaces/churn/pods`, podJson(`c-${i}`)) });
    if (warm.ok !== LIVE) throw new Error(`churn warm-up: ${warm.ok}/${LIVE}: ${warm.firstError}`);
    const serverCpu0 = cpuTicksOf(server.proc.child.pid!);
    const simCpu0 = cpuTicksOf(sim.child.pid!);
    const listAgent = keepAliveAgent(2, server.tls);
    const lists: Record<string, number[]> = { pods: [], nodes: [] };
    let listErrors = 0;
    let churning = true;
    const lister = (async () => {
      while (churning) {
        for (const what of ['pods', 'nodes'] as const) {
          const t = performance.now();
          try {
            await request(listAgent, 'GET', `${url}/api/v1/${what}`, undefined, {}, 120_000);
            lists[what]!.push(performance.now() - t);
          } catch { listErrors++; }
          if (!churning) break;
        }
      }
    })();
    const readyz: number[] = [];
    const prober = (async () => {
      while (churning) {
        const t = performance.now();
        try { await request(listAgent, 'GET', `${url}/readyz`, undefined, {}, 30_000); readyz.push(performance.now() - t); } catch { readyz.push(30_000); }
        await sleep(1000);
      }
    })();
    const churn = await openLoop({
      rate: 2 * CHURN_RATE, durationMs: CHURN_S * 1000, drainMs: 30_000,
      op: (i) => i % 2 === 0
        ? request(agent, 'POST', `${url}/api/v1/namespaces/churn/pods`, podJson(`c-${LIVE + i / 2}`))
        : request(agent, 'DELETE', `${url}/api/v1/namespaces/churn/pods/c-${(i - 1) / 2}`),
    });
    churning = false;
    await Promise.all([lister, prober]);
    listAgent.destroy();
    const serverCpuS = (cpuTicksOf(server.proc.child.pid!) - serverCpu0) / CLOCK_TICKS_PER_S;
    const simCpuS = (cpuTicksOf(sim.child.pid!) - simCpu0) / CLOCK_TICKS_PER_S;
    const sockets = socketsOf(server.proc.child.pid!);
    const ready2 = await readyNodes();
    const memPeak = memOf(server.proc.child.pid!);
    const loadChurn = load();
    const podList = sortNum(lists.pods!), nodeList = sortNum(lists.nodes!), rz = sortNum(readyz);
    console.log(`phase 3: churn p99 ${f(churn.p99, 0)} ms (${churn.ok} ok, ${churn.errors} errors, ${churn.unfinished} unfinished); `
      + `list pods p99 ${f(pct(podList, 99), 0)} ms (${podList.length}), nodes p99 ${f(pct(nodeList, 99), 0)} ms; load ${loadChurn}`);

    // 4. Cold restart on the same store (the sim keeps running, as a cluster's nodes would).
    agent.destroy();
    await terminate(server.proc);
    server = await startServer(dataDir, port, 900_000);
    agent = keepAliveAgent(64, server.tls);
    const memRestart = memOf(server.proc.child.pid!);
    console.log(`phase 4: cold restart Ready in ${f(server.readyMs / 1000)} s, RSS ${f(memRestart.rssMb, 0)} MB`);

    const mutOk = churn.p99 <= 1000 && churn.errors === 0 && churn.unfinished === 0;
    const listOk = podList.length > 0 && pct(podList, 99) <= 30_000 && pct(nodeList, 99) <= 30_000 && listErrors === 0;
    printTable(`scale — berth server + berth sim (${NODES} nodes, lease ${LEASE_S} s / grace ${GRACE_S} s), SQLite; load avg 1/5/15 min during churn: ${loadChurn}`, ['measure', 'Berth', 'Kubernetes SLO / anchor'], [
      [`${NODES} hollow nodes registered`, `${f(registeredS)} s`, 'Kubernetes limit: 5,000 nodes'],
      ['  nodes Ready after registration / after fill / after churn', `${ready0} / ${ready1} / ${ready2}`, ''],
      [`pods available (${deployments.length} Deployments of ${SIZES.join('/')})`, `${available} of ${PODS} in ${f(fillS)} s`, 'Kubernetes limit: 150,000 pods'],
      [`churn ${CHURN_RATE} creates/s + ${CHURN_RATE} deletes/s for ${CHURN_S} s: mutating p50 / p99 / max`, `${f(churn.p50, 0)} / ${f(churn.p99, 0)} / ${f(churn.max, 0)} ms`, 'p99 ≤ 1 s'],
      ['  mutating calls ok / errors / unfinished', `${churn.ok} / ${churn.errors} / ${churn.unfinished}`, ''],
      ['cluster-scope list of all pods: p50 / p99 (count)', `${f(pct(podList, 50), 0)} / ${f(pct(podList, 99), 0)} ms (${podList.length})`, 'p99 ≤ 30 s'],
      ['cluster-scope list of all nodes: p50 / p99 (count)', `${f(pct(nodeList, 50), 0)} / ${f(pct(nodeList, 99), 0)} ms (${nodeList.length})`, 'p99 ≤ 30 s'],
      ['  list errors', String(listErrors), ''],
      ['/readyz during churn: p50 / max', `${f(pct(rz, 50), 0)} / ${f(rz[rz.length - 1] ?? NaN, 0)} ms`, ''],
      ['server / sim CPU during churn', `${f(serverCpuS)} / ${f(simCpuS)} s of ${CHURN_S} s`, ''],
      ['server open sockets after churn', String(sockets), 'last stop: 590 (sim without pooling)'],
      ['server RSS after fill / now (peak)', `${f(memFill.rssMb, 0)} / ${f(memPeak.rssMb, 0)} MB (${f(memPeak.hwmMb, 0)} MB)`, 'budget ≤ 4 GB (issue 19)'],
      ['cold restart with every pod in the store: spawn → Ready', `${f(server.readyMs / 1000)} s (RSS ${f(memRestart.rssMb, 0)} MB)`, ''],
    ], notes);
    return available >= PODS && mutOk && listOk;
  } finally {
    if (sim) await terminate(sim, 10_000);
    agent.destroy();
    await terminate(server.proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
