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
 *      /readyz `ok`, with every pod in the store and the sim still running; 45 s later (the controllers'
 *      and the scheduler thread's informers list after Ready) its RSS, peak and V8 heaps by thread.
 * BENCH_SCALE_WATCH_CACHE=both (the default) runs 3 and 4 twice on the same pods: the server as filled
 * (`--watch-cache=false`), then restarted with the cache on (restart timed) and churned again, then
 * restarted with it off (timed); `on` or `off` runs one mode throughout.
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
import { formatSample, sampleFleet, summarizeFleet, type FleetSample } from './scale-fleet.ts';
import { berthNodeFlags } from './lib/node-flags.ts';
import { churnCalls, readListBody, serverLatency, serverLoopDelay, type ServerLatency } from './scale-churn-probes.ts';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const NODES = Number(process.env.BENCH_SCALE_NODES ?? 5000);
const PODS = Number(process.env.BENCH_SCALE_PODS ?? 150_000);
const FILL_S = Number(process.env.BENCH_SCALE_FILL_S ?? 1800);
const CHURN_S = Number(process.env.BENCH_SCALE_CHURN_S ?? 120);
const CACHE_MODE = process.env.BENCH_SCALE_WATCH_CACHE ?? 'both';
/**
 * `VAR=value …`: an A/B on one fill — phase 3 runs as the server was started, then after a restart
 * with these variables in the server's environment (the watch cache as BENCH_SCALE_WATCH_CACHE says,
 * on or off, not both).
 */
const AB_ENV: Record<string, string> = Object.fromEntries((process.env.BENCH_SCALE_AB_ENV ?? '').split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const CHURN_RATE = 100;
/** `berth sim --concurrency`: requests in flight per write lane (node writes, pod writes). */
const SIM_CONCURRENCY = Number(process.env.BENCH_SCALE_SIM_CONCURRENCY ?? 100);
/** How long after a restart's Ready its memory is read again (the controllers and the scheduler list after Ready). */
const RESTART_SETTLE_S = 45;
const LEASE_S = 10;
/** How often the fill samples the fleet's Leases and Nodes (two lists of 5,000 each). */
const FLEET_SAMPLE_S = 30;
const GRACE_S = 40;
const SIZES = [1000, 500, 100, 50, 10];
const BERTH = path.join(REPO_ROOT, 'bin', 'berth');

const children = new Set<ChildProcess>();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

interface Proc { child: ChildProcess; exited: Promise<void>; log(): string }

function launch(args: string[], nodeArgs: string[] = [], env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [...nodeArgs, BERTH, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
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
/** How a server of phase 3 runs: the watch cache, and extra environment (BENCH_SCALE_AB_ENV). */
interface Mode { cache: boolean; env: Record<string, string>; label: string }

async function startServer(dataDir: string, port: number, timeoutMs: number, mode: Mode): Promise<{ proc: Proc; readyMs: number; tls: TlsCredentials }> {
  const watchCache = mode.cache;
  const nodeArgs = [...berthNodeFlags(), ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const t0 = performance.now();
  const proc = launch(['server', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--node-monitor-grace-period', String(GRACE_S), `--watch-cache=${watchCache}`], nodeArgs, mode.env);
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

/** The last `sim report:` line `berth sim` printed (see src/sim/sim-report.ts). */
function lastSimReport(log: string): string | undefined {
  const all = log.match(/^sim report: .*$/gm);
  return all?.[all.length - 1];
}

/**
 * The server's V8 heap in use (MB, from its /metrics), the main thread's and the scheduler thread's
 * (NaN from a server without that gauge): what the objects take, garbage included until collected.
 */
async function heapUsedMb(agent: ReturnType<typeof keepAliveAgent>, url: string): Promise<{ main: number; sched: number }> {
  const metrics = (await request(agent, 'GET', `${url}/metrics`, undefined, {}, 60_000)).body.toString();
  const mb = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? NaN) / 1e6;
  return { main: mb(/^nodejs_heap_size_used_bytes (\S+)/m), sched: mb(/^berth_scheduler_thread_heap_used_bytes (\S+)/m) };
}

interface ChurnResult {
  cache: boolean;
  mode: Mode;
  churn: Awaited<ReturnType<typeof openLoop>>;
  /** The same calls as the server timed them (its request histogram over the churn). */
  serverChurn: ServerLatency;
  /** Event-loop delay over the churn (ms): the server's main thread, and this bench process's own (the open loop's clock). */
  serverLoop: { p50: number; p99: number; max: number };
  benchLoop: { p99: number; max: number };
  /** Bytes of the last list of all pods. */
  podListBytes: number;
  podList: number[];
  nodeList: number[];
  listErrors: number;
  readyz: number[];
  serverCpuS: number;
  simCpuS: number;
  sockets: number;
  readyNodes: number;
  mem: ReturnType<typeof memOf>;
  load: string;
  ok: boolean;
  /** Store lists answered from the watch cache / by the store / consistent reads handed to the store. */
  sources: string;
  restart?: { into: Mode; readyS: number; rssMb: number; settled: { rssMb: number; hwmMb: number; heap: { main: number; sched: number } } };
}

/**
 * 3. Churn: 100 creates/s + 100 deletes/s of bare pods (500 live, names from `base`), cluster-scope
 * lists back to back and /readyz every second meanwhile.
 */
async function churnPhase(url: string, server: { proc: Proc; tls: TlsCredentials }, agent: ReturnType<typeof keepAliveAgent>, sim: Proc, base: number, mode: Mode): Promise<ChurnResult> {
  const cache = mode.cache;
  const LIVE = 500;
  const warm = await closedLoop({ concurrency: 16, durationMs: 120_000, maxOps: LIVE, op: (i) => request(agent, 'POST', `${url}/api/v1/namespaces/churn/pods`, podJson(`c-${base + i}`)) });
  if (warm.ok !== LIVE) throw new Error(`churn warm-up: ${warm.ok}/${LIVE}: ${warm.firstError}`);
  // This scrape restarts the server's event-loop histogram and is the base of its request histogram.
  const metrics0 = (await request(agent, 'GET', `${url}/metrics`, undefined, {}, 30_000)).body.toString();
  const benchDelay = monitorEventLoopDelay({ resolution: 10 });
  benchDelay.enable();
  const serverCpu0 = cpuTicksOf(server.proc.child.pid!);
  const simCpu0 = cpuTicksOf(sim.child.pid!);
  const listAgent = keepAliveAgent(2, server.tls);
  const lists: Record<string, number[]> = { pods: [], nodes: [] };
  let listErrors = 0;
  let podListBytes = 0;
  let churning = true;
  const lister = (async () => {
    while (churning) {
      for (const what of ['pods', 'nodes'] as const) {
        const t = performance.now();
        try {
          // Read to the end, not kept: a whole body (~600 MB at 150,000 pods) concatenated here would
          // hold this process's loop, and with it the open loop's clock (scale-churn-probes.ts).
          const bytes = await readListBody(listAgent, `${url}/api/v1/${what}`, 120_000);
          lists[what]!.push(performance.now() - t);
          if (what === 'pods') podListBytes = bytes;
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
      ? request(agent, 'POST', `${url}/api/v1/namespaces/churn/pods`, podJson(`c-${base + LIVE + i / 2}`))
      : request(agent, 'DELETE', `${url}/api/v1/namespaces/churn/pods/c-${base + (i - 1) / 2}`),
  });
  churning = false;
  benchDelay.disable();
  const metrics1 = (await request(agent, 'GET', `${url}/metrics`, undefined, {}, 30_000)).body.toString();
  const serverChurn = serverLatency(metrics0, metrics1, churnCalls);
  const serverLoop = serverLoopDelay(metrics1);
  const benchLoop = { p99: benchDelay.percentile(99) / 1e6, max: benchDelay.max / 1e6 };
  await Promise.all([lister, prober]);
  listAgent.destroy();
  const serverCpuS = (cpuTicksOf(server.proc.child.pid!) - serverCpu0) / CLOCK_TICKS_PER_S;
  const simCpuS = (cpuTicksOf(sim.child.pid!) - simCpu0) / CLOCK_TICKS_PER_S;
  const sockets = socketsOf(server.proc.child.pid!);
  const nodes = (JSON.parse((await request(agent, 'GET', `${url}/api/v1/nodes`, undefined, {}, 120_000)).body.toString()) as { items: any[] }).items;
  const readyNodes = nodes.filter((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length;
  const mem = memOf(server.proc.child.pid!);
  // Where the lists were answered (the server's own counters since it started).
  const metrics = (await request(agent, 'GET', `${url}/metrics`, undefined, {}, 30_000)).body.toString();
  const counter = (re: RegExp) => Number(re.exec(metrics)?.[1] ?? 0);
  const sources = `${counter(/^apiserver_cache_list_total\{source="cache"\} (\d+)/m)} / ${counter(/^apiserver_cache_list_total\{source="store"\} (\d+)/m)} / ${counter(/^apiserver_watch_cache_consistent_read_total\{fallback="true"\} (\d+)/m)}`;
  // The live churn pods go, so the next mode starts from the same population.
  const left = (JSON.parse((await request(agent, 'GET', `${url}/api/v1/namespaces/churn/pods`, undefined, {}, 120_000)).body.toString()) as { items: any[] }).items;
  await closedLoop({ concurrency: 16, durationMs: 120_000, maxOps: left.length, op: (i) => request(agent, 'DELETE', `${url}/api/v1/namespaces/churn/pods/${left[i]!.metadata.name}`) });
  const podList = sortNum(lists.pods!), nodeList = sortNum(lists.nodes!), rz = sortNum(readyz);
  console.log(`phase 3 (${mode.label}): churn p99 ${f(churn.p99, 0)} ms (${churn.ok} ok, ${churn.errors} errors, ${churn.unfinished} unfinished), `
    + `server-side ${f(100 * serverChurn.within1s, 2)} % within 1 s (p99 ≤ ${serverChurn.p99Le} s); event-loop delay p99 / max: server ${f(serverLoop.p99, 0)} / ${f(serverLoop.max, 0)} ms, bench ${f(benchLoop.p99, 0)} / ${f(benchLoop.max, 0)} ms; `
    + `list pods p99 ${f(pct(podList, 99), 0)} ms (${podList.length}), nodes p99 ${f(pct(nodeList, 99), 0)} ms; RSS ${f(mem.rssMb, 0)} MB (peak ${f(mem.hwmMb, 0)}); load ${load()}`);
  const ok = churn.p99 <= 1000 && churn.errors === 0 && churn.unfinished === 0
    && podList.length > 0 && pct(podList, 99) <= 30_000 && pct(nodeList, 99) <= 30_000 && listErrors === 0;
  return { cache, mode, churn, serverChurn, serverLoop, benchLoop, podListBytes, podList, nodeList, listErrors, readyz: rz, serverCpuS, simCpuS, sockets, readyNodes, mem, load: load(), ok, sources };
}

export async function run(): Promise<boolean> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-scale-'));
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  // Phase 3's servers, in order: the cache off then on (BENCH_SCALE_WATCH_CACHE=both), or one mode, or an A/B of environments.
  const cacheModes = CACHE_MODE === 'both' ? [false, true] : [CACHE_MODE !== 'off'];
  const abEnv = Object.keys(AB_ENV).length > 0;
  const modes: Mode[] = abEnv
    ? [{ cache: cacheModes[0]!, env: {}, label: `watch cache ${cacheModes[0] ? 'on' : 'off'}` }, { cache: cacheModes[0]!, env: AB_ENV, label: `watch cache ${cacheModes[0] ? 'on' : 'off'}, ${process.env.BENCH_SCALE_AB_ENV}` }]
    : cacheModes.map((cache) => ({ cache, env: {}, label: `watch cache ${cache ? 'on' : 'off'}` }));
  let server = await startServer(dataDir, port, 60_000, modes[0]!);
  let agent = keepAliveAgent(64, server.tls);
  let sim: Proc | undefined;
  const notes: string[] = [];
  try {
    for (const ns of ['scale', 'churn']) await request(agent, 'POST', `${url}/api/v1/namespaces`, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }));

    // 1. The fleet.
    const tNodes = performance.now();
    sim = launch(['sim', '--nodes', String(NODES), '--kubeconfig', path.join(dataDir, 'kubeconfig'), '--concurrency', String(SIM_CONCURRENCY), '--lease-interval', String(LEASE_S), '--report-interval', String(FLEET_SAMPLE_S)]);
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
    let lastSample = -Infinity;
    let simWaitingMax = 0;
    // The fleet as the server sees it (Lease ages, NotReady nodes, status writes behind the binding).
    const fleet: FleetSample[] = [];
    for (;;) {
      const res = await request(agent, 'GET', `${url}/apis/apps/v1/namespaces/scale/deployments`, undefined, {}, 120_000);
      available = (JSON.parse(res.body.toString()) as { items: any[] }).items.reduce((a, d) => a + (d.status?.availableReplicas ?? 0), 0);
      const elapsed = (performance.now() - tFill) / 1000;
      if (available >= PODS || elapsed > FILL_S) break;
      if (elapsed - lastSample >= FLEET_SAMPLE_S) {
        lastSample = elapsed;
        try { fleet.push(await sampleFleet(agent, url, GRACE_S, elapsed, available)); } catch (err) { console.log(`  fleet sample failed: ${(err as Error).message}`); }
      }
      if (elapsed - lastPrint >= 60) {
        lastPrint = elapsed;
        const s = fleet[fleet.length - 1];
        console.log(`  ${available}/${PODS} available after ${f(elapsed, 0)} s; server RSS ${f(memOf(server.proc.child.pid!).rssMb, 0)} MB, load ${load()}${s ? `; ${formatSample(s)}` : ''}`);
        const report = lastSimReport(sim.log());
        if (report) console.log(`    ${report}`);
      }
      simWaitingMax = Math.max(simWaitingMax, Number(/pods waiting (\d+)/.exec(lastSimReport(sim.log()) ?? '')?.[1] ?? 0));
      await sleep(2000);
    }
    const fleetSummary = summarizeFleet(fleet);
    // The simulator's own account of its Leases over the fill (its report since start).
    const simReport = lastSimReport(sim.log()) ?? '';
    const simLeases = /since start p99 (\d+) ms, max (\d+) ms; longest gap ([\d.]+) s/.exec(simReport);
    const simSummary = simLeases ? `late p99 ${simLeases[1]} ms, max ${simLeases[2]} ms; longest gap ${simLeases[3]} s; pods waiting for status ≤ ${simWaitingMax}` : 'no sim report';
    const fillS = (performance.now() - tFill) / 1000;
    const memFill = memOf(server.proc.child.pid!);
    const heapFill = await heapUsedMb(agent, url);
    const ready1 = await readyNodes();
    console.log(`phase 2: ${available}/${PODS} pods available in ${f(fillS)} s (${deployments.length} Deployments); ${ready1}/${NODES} nodes Ready; RSS ${f(memFill.rssMb, 0)} MB (V8 heap used ${f(heapFill.main, 0)} MB, scheduler thread ${f(heapFill.sched, 0)} MB), load ${load()}`);
    if (available < PODS) notes.push(`creation did NOT complete: ${available}/${PODS} available when the ${FILL_S} s fill budget ran out`);

    // 3 and 4, once per mode: churn with lists, then a cold restart into the next mode.
    const LIVE = 500;
    const results: ChurnResult[] = [];
    for (let m = 0; m < modes.length; m++) {
      const r = await churnPhase(url, server, agent, sim, m * (LIVE + CHURN_RATE * CHURN_S + 1000), modes[m]!);
      // 4. Cold restart on the same store (the sim keeps running, as a cluster's nodes would), into the
      // next mode — after the last, into the first again, so every mode's restart is timed once.
      const next = modes[(m + 1) % modes.length]!;
      agent.destroy();
      await terminate(server.proc);
      server = await startServer(dataDir, port, 900_000, next);
      agent = keepAliveAgent(64, server.tls);
      const readyRss = memOf(server.proc.child.pid!).rssMb;
      // The controllers and the scheduler thread list after Ready (leader election first): their cold
      // start shows in the process's peak and heaps a while later.
      await sleep(RESTART_SETTLE_S * 1000);
      const settledMem = memOf(server.proc.child.pid!);
      const settled = { rssMb: settledMem.rssMb, hwmMb: settledMem.hwmMb, heap: await heapUsedMb(agent, url) };
      r.restart = { into: next, readyS: server.readyMs / 1000, rssMb: readyRss, settled };
      console.log(`phase 4: cold restart (${next.label}): Ready in ${f(r.restart.readyS)} s, RSS ${f(readyRss, 0)} MB; `
        + `${RESTART_SETTLE_S} s later RSS ${f(settled.rssMb, 0)} MB (peak ${f(settled.hwmMb, 0)}), V8 heap in use ${f(settled.heap.main, 0)} + scheduler thread ${f(settled.heap.sched, 0)} MB, load ${load()}`);
      results.push(r);
    }

    const col = (r: ChurnResult) => `Berth, ${r.mode.label}`;
    const per = (fn: (r: ChurnResult) => string) => results.map(fn);
    const restartOf = (mode: Mode) => results.find((r) => r.restart!.into === mode)!.restart!;
    printTable(`scale — berth server + berth sim (${NODES} nodes, lease ${LEASE_S} s / grace ${GRACE_S} s, ${SIM_CONCURRENCY} writes in flight a lane), SQLite; load avg 1/5/15 min during churn: ${results.map((r) => r.load).join(' | ')}`, ['measure', ...results.map(col), 'Kubernetes SLO / anchor'], [
      [`${NODES} hollow nodes registered`, ...per(() => `${f(registeredS)} s`), 'Kubernetes limit: 5,000 nodes'],
      ['  nodes Ready after registration / after fill / after churn', ...per((r) => `${ready0} / ${ready1} / ${r.readyNodes}`), ''],
      [`pods available (${deployments.length} Deployments of ${SIZES.join('/')})`, ...per(() => `${available} of ${PODS} in ${f(fillS)} s`), 'Kubernetes limit: 150,000 pods'],
      [`  during fill, every ${FLEET_SAMPLE_S} s: Lease age (now − renewTime; on time ≤ ${LEASE_S} s, grace ${GRACE_S} s)`, ...per(() => fleetSummary.leases), ''],
      ['  during fill: nodes not Ready', ...per(() => fleetSummary.notReady), '0'],
      ['  during fill, the sim: Lease renewals completed late (vs their 10 s schedule)', ...per(() => simSummary), `gap < ${GRACE_S} s`],
      ['  during fill: bound but not yet available (status writes behind)', ...per(() => fleetSummary.behind), ''],
      [`churn ${CHURN_RATE} creates/s + ${CHURN_RATE} deletes/s for ${CHURN_S} s: mutating p50 / p99 / max`, ...per((r) => `${f(r.churn.p50, 0)} / ${f(r.churn.p99, 0)} / ${f(r.churn.max, 0)} ms`), 'p99 ≤ 1 s'],
      ['  mutating calls ok / errors / unfinished', ...per((r) => `${r.churn.ok} / ${r.churn.errors} / ${r.churn.unfinished}`), ''],
      ['  the same calls timed by the server (apiserver_request_duration_seconds): within 1 s; p50 / p99 bucket', ...per((r) => `${f(100 * r.serverChurn.within1s, 2)} % of ${r.serverChurn.count}; ≤ ${r.serverChurn.p50Le} / ≤ ${r.serverChurn.p99Le} s`), 'p99 ≤ 1 s'],
      ['  event-loop delay during churn p99 / max: server main thread; this bench process', ...per((r) => `${f(r.serverLoop.p99, 0)} / ${f(r.serverLoop.max, 0)} ms; ${f(r.benchLoop.p99, 0)} / ${f(r.benchLoop.max, 0)} ms`), ''],
      ['cluster-scope list of all pods: p50 / p99 (count)', ...per((r) => `${f(pct(r.podList, 50), 0)} / ${f(pct(r.podList, 99), 0)} ms (${r.podList.length}; ${f(r.podListBytes / 1e6, 0)} MB)`), 'p99 ≤ 30 s'],
      ['cluster-scope list of all nodes: p50 / p99 (count)', ...per((r) => `${f(pct(r.nodeList, 50), 0)} / ${f(pct(r.nodeList, 99), 0)} ms (${r.nodeList.length})`), 'p99 ≤ 30 s'],
      ['  list errors', ...per((r) => String(r.listErrors)), ''],
      ['  store lists from the cache / from the store / consistent-read fallbacks (server total)', ...per((r) => r.cache ? r.sources : 'cache off'), ''],
      ['/readyz during churn: p50 / max', ...per((r) => `${f(pct(r.readyz, 50), 0)} / ${f(r.readyz[r.readyz.length - 1] ?? NaN, 0)} ms`), ''],
      ['server / sim CPU during churn', ...per((r) => `${f(r.serverCpuS)} / ${f(r.simCpuS)} s of ${CHURN_S} s`), ''],
      ['server open sockets after churn', ...per((r) => String(r.sockets)), 'last stop: 590 (sim without pooling)'],
      ['server RSS after fill (V8 heap in use: main thread + scheduler thread)', ...per(() => `${f(memFill.rssMb, 0)} MB (${f(heapFill.main, 0)} + ${f(heapFill.sched, 0)} MB)`), ''],
      ['server RSS after churn (peak of this server process)', ...per((r) => `${f(r.mem.rssMb, 0)} MB (${f(r.mem.hwmMb, 0)} MB)`), 'budget ≤ 4 GB (issue 19)'],
      ['cold restart with every pod in the store: spawn → Ready', ...per((r) => { const x = restartOf(r.mode); return `${f(x.readyS)} s (RSS ${f(x.rssMb, 0)} MB)`; }), ''],
      [`  ${RESTART_SETTLE_S} s after Ready: RSS (peak of the restarted process); V8 heap in use main + scheduler thread`, ...per((r) => { const x = restartOf(r.mode).settled; return `${f(x.rssMb, 0)} MB (${f(x.hwmMb, 0)} MB); ${f(x.heap.main, 0)} + ${f(x.heap.sched, 0)} MB`; }), ''],
    ], [...notes, ...(modes.length > 1 && !abEnv ? ['the cache-off server is the one that was filled (its peak includes the fill); the cache-on one started on the filled store'] : [])]);
    return available >= PODS && results.every((r) => r.ok);
  } finally {
    if (sim) await terminate(sim, 10_000);
    agent.destroy();
    await terminate(server.proc);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
