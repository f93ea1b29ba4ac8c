/**
 * `sched`: end-to-end scheduling on a real control plane — `berth server` (SQLite, controllers and
 * scheduler on) plus `berth sim --nodes 1000` in its own process:
 *   0. the simulator registers its nodes with a taint no pod tolerates; the bench waits for all Ready
 *      (scheduler_perf also creates its nodes first).
 *   1. 10,000 pods created over HTTP (all pending: each tried once, parked unschedulable), then the
 *      taint is lifted from every node (32 node patches in flight); a watch records when each pod is
 *      bound and Running. The steady binding rate — from the first bind once every node is free to
 *      the 90th-percentile bind, and also scheduler_perf's per-second samples — is the scheduler's
 *      throughput through the real API (binding writes, watch, informers) on the whole fleet; when
 *      fewer than 20 % of the pods are left after the release, the middle 80 % of binds (the method
 *      before 2026-12-07 13:00, always printed too). The simulator's CPU is counted from the release
 *      until every pod is Running. BENCH_SCHED_NODES_FIRST=0: the pods first, then the simulator.
 *   2. a Deployment of 1,000 replicas: apply → 1,000 available (the simulated nodes mark pods Ready).
 *   3. more pending pods up to BENCH_SCHED_TOTAL (default 30,000 in all), bound on the same nodes.
 * Memory: the server's RSS with the 11,000 pods, and at 1,000 nodes and 30,000 pods (issue 5's figure).
 * CPU: the server's and the simulator's utime+stime while the first pods are bound, per 1,000 pods —
 * steadier than the rate on a machine shared with other work, which stretches wall time, not CPU.
 *
 * Threads: the server's CPU in phase 1 split by thread from /proc/PID/task — the main thread (the
 * API server's event loop), the scheduler's thread when it has one (`berth-sched`, with
 * BENCH_SCHED_SCHEDULER_THREAD=true → `--scheduler-thread true`), and the rest (V8's collectors,
 * the libuv pool). BENCH_SCHED_ROOT=<another tree> runs that tree's bin/berth (server and sim) as
 * the peer, with this file's measurements.
 *
 * Peer: not run here (no kube-scheduler on this machine); the anchors are the published figures —
 * kube-scheduler ≈ 100–300 pods/s (scheduler_perf, 5,000 nodes), Nomad 1,500–3,750 containers/s
 * (C1M / C2M). Target: ≥ 3,750 pods/s in one process.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { startBerth, REPO_ROOT, sleep, type BerthChild } from './lib/server.ts';
import { keepAliveAgent, request, closedLoop, streamGet } from './lib/load.ts';
import { CLOCK_TICKS_PER_S, cpuTicksOf, memOf } from './lib/proc.ts';
import { f, printTable } from './lib/stats.ts';

const NODES = Number(process.env.BENCH_SCHED_NODES ?? 1000);
const PODS = Number(process.env.BENCH_SCHED_PODS ?? 10_000);
const REPLICAS = Number(process.env.BENCH_SCHED_REPLICAS ?? 1000);
const TOTAL = Number(process.env.BENCH_SCHED_TOTAL ?? 30_000);
const TARGET_PODS_PER_S = 3750;
/** The tree whose bin/berth runs (server and simulator): this one, or a peer's checkout. */
const ROOT = process.env.BENCH_SCHED_ROOT ? path.resolve(process.env.BENCH_SCHED_ROOT) : REPO_ROOT;
const SCHEDULER_THREAD = process.env.BENCH_SCHED_SCHEDULER_THREAD;
/** Nodes registered (tainted) and Ready before the pods, the taint lifted to start (default); 0: pods first, then the simulator. */
const NODES_FIRST = process.env.BENCH_SCHED_NODES_FIRST !== '0';
/**
 * The hollow nodes' Lease renewal period (s): 2, a Berth agent's (500 renewals/s from 1,000 nodes,
 * paid by the server and the simulator while pods are bound); 10 is the kubelet's (kubemark's, bench scale's).
 */
const LEASE_INTERVAL = Number(process.env.BENCH_SCHED_LEASE_INTERVAL ?? 2);
/** The simulator's requests in flight (its --concurrency): Lease renewals and pod status writes share them. */
const SIM_CONCURRENCY = Number(process.env.BENCH_SCHED_SIM_CONCURRENCY ?? 100);
/**
 * Node patches in flight while the taint is lifted (the release). The binding can only run ahead of
 * the release by filling the nodes already free; the release took 6.7–14.6 s on this machine while
 * binding (node patch latency p50 0.2–0.7 s, p99 1.4–11 s) whether 32 or 128 were in flight, so the
 * steady window starts once the last node is free when enough pods are left then (WINDOW below).
 */
const RELEASE_CONCURRENCY = Number(process.env.BENCH_SCHED_RELEASE_CONCURRENCY ?? 32);
/**
 * Where the steady window (rate and CPU a bound pod) starts: 'release' (default) — at the first bind
 * after the taint is off every node, so only binds on the whole fleet count, as scheduler_perf's
 * SchedulingThroughput is measured with all nodes present; 'p10' — at the 10th-percentile bind, the
 * method until 2026-12-07 13:00 (its window overlapped the release). Both end at the 90th percentile.
 */
const WINDOW = process.env.BENCH_SCHED_WINDOW === 'p10' ? 'p10' : 'release';
/** How long the idle CPU rates are measured before the release (ms). */
const IDLE_MS = 5000;
const HOLD_TAINT = { key: 'bench.berth.dev/hold', value: 'true', effect: 'NoSchedule' };

/** CPU ticks of a process by thread: the main thread (the event loop), the scheduler's thread, the rest. */
function threadTicks(pid: number): { main: number; sched: number; others: number } {
  const out = { main: 0, sched: 0, others: 0 };
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(rest[11]) + Number(rest[12]);
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (t === String(pid)) out.main += ticks;
      else if (comm === 'berth-sched') out.sched += ticks;
      else out.others += ticks;
    } catch { /* the thread ended */ }
  }
  return out;
}

const load1 = () => f(loadavg()[0]!, 1);
/** This process's CPU (user + system), µs. */
const cpuUs = () => { const u = process.cpuUsage(); return u.user + u.system; };

function podJson(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { bench: 'sched' } },
    spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  });
}

/** What the bench reads of a pod in a watch event. */
interface PodFacts { name: string; bound: boolean; running: boolean }

/**
 * A watch event's pod facts, found in the line's text instead of a JSON.parse of the whole ~3–4 KB pod:
 * the bench shares the two cores with the server and the simulator, and parsing every event was ~8 %
 * of a core while binding (thread sampler, 2026-12-07 19:05). The line is the API server's compact
 * JSON, the pod's metadata starting with its name (after the resourceVersion the server splices in); any other line (spaces, the
 * name elsewhere or escaped) is parsed. `"nodeName":"` and `"phase":"` occur in these pods only as
 * spec.nodeName and status.phase.
 */
export function podFacts(line: string): PodFacts {
  let at = line.indexOf('"metadata":{');
  if (at >= 0) at += 12;
  // The API server splices the resourceVersion in first (object-codec's encodedWithResourceVersion).
  if (at >= 0 && line.startsWith('"resourceVersion":"', at)) at = line.indexOf('",', at + 19) + 2;
  const end = at >= 2 && line.startsWith('"name":"', at) ? line.indexOf('"', at + 8) : -1;
  const name = end < 0 ? '' : line.slice(at + 8, end);
  if (!name || name.includes('\\')) {
    const obj = JSON.parse(line).object;
    return { name: obj?.metadata?.name ?? '', bound: !!obj?.spec?.nodeName, running: obj?.status?.phase === 'Running' };
  }
  return { name, bound: line.includes('"nodeName":"') && !line.includes('"nodeName":""'), running: line.includes('"phase":"Running"') };
}

/** Watches pods in `ns` from `rv`; calls `onEvent` per event with what podFacts reads of it. Returns a stop function. */
function watchPods(server: BerthChild, ns: string, rv: string, onEvent: (facts: PodFacts) => void): () => void {
  const req = streamGet(`${server.url}/api/v1/namespaces/${ns}/pods?watch=1&resourceVersion=${rv}&allowWatchBookmarks=false`, server.tls, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line) onEvent(podFacts(line));
      }
    });
  });
  req.on('error', () => {});
  return () => req.destroy();
}

function startSim(kubeconfig: string, extra: string[] = []): { pid: number; stop(): Promise<void>; log(): string } {
  // BENCH_SIM_NODE_ARGS: extra node flags for the simulator, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = (process.env.BENCH_SIM_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const sim = spawn(process.execPath, [...nodeArgs, path.join(ROOT, 'bin', 'berth'), 'sim', '--nodes', String(NODES), '--kubeconfig', kubeconfig, '--concurrency', String(SIM_CONCURRENCY), '--lease-interval', String(LEASE_INTERVAL), ...extra], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  sim.stdout!.on('data', (d) => { log = (log + d).slice(-8000); });
  sim.stderr!.on('data', (d) => { log = (log + d).slice(-8000); });
  const exited = new Promise((r) => sim.once('exit', r));
  return { pid: sim.pid!, log: () => log, async stop() { sim.kill('SIGTERM'); await exited; } };
}

/** Rate over the middle 80 % of sorted event times (events/s): the steady state, without ramp-up and tail. */
function middleRate(times: number[]): number {
  const a = times[Math.floor(times.length * 0.1)]!;
  const b = times[Math.floor(times.length * 0.9)]!;
  return (0.8 * times.length) / ((b - a) / 1000);
}

/** Rate between two indexes of sorted event times (events/s). */
function rateBetween(times: number[], i: number, j: number): number {
  return (j - i) / ((times[j]! - times[i]!) / 1000);
}

/**
 * scheduler_perf's throughput collector: binds counted per whole second from `start` to `end`
 * (a last partial second is dropped), reported as the average and percentiles of those samples.
 */
function perSecond(times: number[], start: number, end: number): { n: number; avg: number; p50: number; p90: number; min: number } {
  const counts: number[] = [];
  for (let t = start; t + 1000 <= end; t += 1000) counts.push(times.filter((x) => x >= t && x < t + 1000).length);
  const sorted = [...counts].sort((a, b) => a - b);
  const pick = (q: number) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]! : NaN;
  return { n: counts.length, avg: counts.reduce((a, b) => a + b, 0) / Math.max(1, counts.length), p50: pick(0.5), p90: pick(0.9), min: sorted[0] ?? NaN };
}

/** The Nodes, and how many of them are Ready. */
async function readyNodes(agent: ReturnType<typeof keepAliveAgent>, url: string): Promise<{ items: any[]; ready: number }> {
  const res = await request(agent, 'GET', `${url}/api/v1/nodes`, undefined, {}, 60_000);
  const items = (JSON.parse(res.body.toString()) as { items: any[] }).items;
  return { items, ready: items.filter((n) => n.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')).length };
}

/** The scheduler's attempt and dropped-event counters from the server's /metrics. */
async function schedulerCounters(agent: ReturnType<typeof keepAliveAgent>, url: string): Promise<{ scheduled: number; unschedulable: number; dropped: number }> {
  const text = (await request(agent, 'GET', `${url}/metrics`)).body.toString();
  const sum = (re: RegExp) => text.split('\n').filter((l) => re.test(l)).reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  return {
    scheduled: sum(/^scheduler_schedule_attempts_total\{[^}]*result="scheduled"/),
    unschedulable: sum(/^scheduler_schedule_attempts_total\{[^}]*result="unschedulable"/),
    dropped: sum(/^scheduler_events_dropped_total/),
  };
}

export async function run(): Promise<boolean> {
  const server = await startBerth({
    store: 'sqlite', readyTimeoutMs: 30_000,
    ...(ROOT !== REPO_ROOT ? { script: path.join(ROOT, 'bin', 'berth') } : {}),
    args: [
      ...(SCHEDULER_THREAD ? ['--scheduler-thread', SCHEDULER_THREAD] : []),
      // Slower renewals need the node lifecycle controller's grace to match (≥ 4 periods, as bench scale).
      ...(LEASE_INTERVAL > 2 ? ['--node-monitor-grace-period', String(4 * LEASE_INTERVAL)] : []),
    ],
  });
  console.log(`server: ${ROOT === REPO_ROOT ? 'this tree' : ROOT}${SCHEDULER_THREAD ? `, --scheduler-thread ${SCHEDULER_THREAD}` : ''}; Lease renewals every ${LEASE_INTERVAL} s; sim --concurrency ${SIM_CONCURRENCY}; release ${RELEASE_CONCURRENCY} node patches in flight`);
  const agent = keepAliveAgent(128, server.tls);
  const { kubeconfig } = server;
  let sim: ReturnType<typeof startSim> | undefined;
  try {
    await request(agent, 'POST', `${server.url}/api/v1/namespaces`, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sched' } }));
    const list = await request(agent, 'GET', `${server.url}/api/v1/namespaces/sched/pods`);
    const rv = (JSON.parse(list.body.toString()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const boundAt = new Map<string, number>();
    const runningAt = new Map<string, number>();
    const stopWatch = watchPods(server, 'sched', rv, ({ name, bound, running }) => {
      if (bound && !boundAt.has(name)) boundAt.set(name, performance.now());
      if (running && !runningAt.has(name)) runningAt.set(name, performance.now());
    });

    // Nodes first, as scheduler_perf does: the simulator registers them tainted (nothing fits), the
    // bench waits for all of them Ready, then creates the pods (all pending, each tried once) and
    // lifts the taint — so binding is measured on the whole fleet, not on nodes still registering
    // (before, pods were tried again and again against the few nodes registered so far: up to
    // 19,890 failed attempts for 10,000 pods). BENCH_SCHED_NODES_FIRST=0: pods first, then the
    // simulator, as before.
    let nodesMs = 0;
    let simRegisterCpuS = 0;
    if (NODES_FIRST) {
      const tNodes = performance.now();
      sim = startSim(kubeconfig, ['--taint', `${HOLD_TAINT.key}=${HOLD_TAINT.value}:${HOLD_TAINT.effect}`]);
      while ((await readyNodes(agent, server.url)).ready < NODES) {
        if (performance.now() - tNodes > 300_000) throw new Error(`nodes not all Ready within 300 s\n${sim.log()}`);
        await sleep(200);
      }
      nodesMs = performance.now() - tNodes;
      simRegisterCpuS = cpuTicksOf(sim.pid) / CLOCK_TICKS_PER_S;
      console.log(`nodes: ${NODES} registered and Ready in ${f(nodesMs / 1000)} s (no pods yet), sim CPU ${f(simRegisterCpuS)} s; load average ${load1()}`);
    }

    // Phase 1: the pods (no node they fit on yet: all pending), so creation speed does not gate the scheduler.
    const tc = performance.now();
    const created = await closedLoop({
      concurrency: 64, durationMs: 300_000, maxOps: PODS,
      op: (i) => request(agent, 'POST', `${server.url}/api/v1/namespaces/sched/pods`, podJson(`p-${String(i).padStart(5, '0')}`)),
    });
    if (created.ok !== PODS) throw new Error(`created ${created.ok}/${PODS} pods: ${created.firstError}`);
    const createRate = PODS / ((performance.now() - tc) / 1000);
    if (NODES_FIRST) {
      // Every pod tried once (and parked unschedulable) before the taint goes: no attempt in the window fails for want of nodes.
      const tw = performance.now();
      while (((await schedulerCounters(agent, server.url)).unschedulable) < PODS && performance.now() - tw < 120_000) await sleep(200);
    }
    // The CPU both processes spend with nothing to bind (Lease renewals, controllers' resyncs), per
    // second: a release that takes longer pays more of it, so the per-pod figures are also given net of it.
    const idle = { t: performance.now(), server: cpuTicksOf(server.pid), sim: sim ? cpuTicksOf(sim.pid) : 0 };
    if (NODES_FIRST) await sleep(IDLE_MS);
    const idleS = (performance.now() - idle.t) / 1000;
    const idleRate = { server: (cpuTicksOf(server.pid) - idle.server) / CLOCK_TICKS_PER_S / idleS, sim: sim ? (cpuTicksOf(sim.pid) - idle.sim) / CLOCK_TICKS_PER_S / idleS : 0 };
    if (NODES_FIRST) console.log(`  idle (nodes Ready, ${PODS} pods parked), ${f(idleS)} s: server ${f(idleRate.server * 100, 0)} % of a core, sim ${f(idleRate.sim * 100, 0)} %`);

    // Release: the taint lifted (or the simulator started); the scheduler binds from here.
    const tRelease = performance.now();
    const serverCpu0 = cpuTicksOf(server.pid);
    const threads0 = threadTicks(server.pid);
    let simCpu0 = 0;
    const load0 = load1();
    let releaseMs = 0;
    let releaseLatency = '';
    let release: Promise<void> = Promise.resolve();
    if (NODES_FIRST) {
      simCpu0 = cpuTicksOf(sim!.pid);
      const { items } = await readyNodes(agent, server.url);
      release = closedLoop({
        concurrency: RELEASE_CONCURRENCY, durationMs: 120_000, maxOps: items.length,
        op: (i) => {
          const node = items[i]!;
          const taints = (node.spec?.taints ?? []).filter((t: any) => t.key !== HOLD_TAINT.key);
          return request(agent, 'PATCH', `${server.url}/api/v1/nodes/${node.metadata.name}`, JSON.stringify({ spec: { taints: taints.length ? taints : null } }), { 'content-type': 'application/merge-patch+json' });
        },
      }).then((r) => {
        if (r.ok !== items.length) throw new Error(`untainted ${r.ok}/${items.length} nodes: ${r.firstError}`);
        releaseMs = performance.now() - tRelease;
        releaseLatency = `node patch latency p50 ${f(r.p50, 0)} ms, p99 ${f(r.p99, 0)} ms`;
      });
    } else {
      sim = startSim(kubeconfig);
    }
    const simPid = sim!.pid;
    const deadline = performance.now() + 300_000;
    // CPU by thread (and the simulator's) every 200 ms: the steady window's share (10th to 90th percentile bind) is read from these.
    const samples: { t: number; ticks: ReturnType<typeof threadTicks>; sim: number; bench: number }[] = [];
    let lastSample = 0;
    while ((boundAt.size < PODS || runningAt.size < PODS) && performance.now() < deadline) {
      await sleep(50);
      if (performance.now() - lastSample >= 200) { lastSample = performance.now(); samples.push({ t: lastSample, ticks: threadTicks(server.pid), sim: cpuTicksOf(simPid), bench: cpuUs() }); }
    }
    await release;
    stopWatch();
    if (boundAt.size < PODS) throw new Error(`only ${boundAt.size}/${PODS} pods bound within 300 s\n${sim!.log()}`);
    const binds = [...boundAt.values()].sort((a, b) => a - b);
    const firstBind = binds[0]!;
    const lastBind = binds[binds.length - 1]!;
    // The window: from the first bind once every node is free (or the 10th percentile, the old method) to the 90th percentile.
    const p10 = Math.floor(PODS * 0.1);
    const p90 = Math.floor(PODS * 0.9);
    const releaseEnd = tRelease + releaseMs;
    const afterRelease = NODES_FIRST ? binds.findIndex((b) => b >= releaseEnd) : p10;
    const boundDuringRelease = afterRelease < 0 ? PODS : afterRelease;
    // Too few binds left after the release for a window (a slow release on a loaded machine): the old window, said so.
    const useRelease = WINDOW === 'release' && NODES_FIRST && afterRelease >= 0 && p90 - Math.max(p10, afterRelease) >= PODS * 0.2;
    const i0 = useRelease ? Math.max(p10, afterRelease) : p10;
    const oldSteady = middleRate(binds);
    const steady = rateBetween(binds, i0, p90);
    const ps = perSecond(binds, binds[i0]!, binds[p90]!);
    if (WINDOW === 'release' && !useRelease) console.log(`  (only ${PODS - boundDuringRelease} pods bound after the release: the window is the 10th–90th percentile, as before 2026-12-07)`);
    console.log(`  window ${useRelease ? 'from the release\'s end' : 'from the 10th percentile'} to the 90th percentile bind: binds ${i0}–${p90}, ${f(steady, 0)} pods/s; `
      + `${boundDuringRelease} bound while the taint was lifted; per-second samples (scheduler_perf's) n=${ps.n} avg ${f(ps.avg, 0)} p50 ${f(ps.p50, 0)} min ${f(ps.min, 0)}; `
      + `10th–90th percentile (the method before 2026-12-07 13:00): ${f(oldSteady, 0)} pods/s`);
    const whole = PODS / ((lastBind - firstBind) / 1000);
    const serverCpuS = (cpuTicksOf(server.pid) - serverCpu0) / CLOCK_TICKS_PER_S;
    const phaseS = (performance.now() - tRelease) / 1000;
    const threads1 = threadTicks(server.pid);
    const byThread = { main: (threads1.main - threads0.main) / CLOCK_TICKS_PER_S, sched: (threads1.sched - threads0.sched) / CLOCK_TICKS_PER_S, others: (threads1.others - threads0.others) / CLOCK_TICKS_PER_S };
    // From the release until every pod is Running: the simulator's work for these pods (and its Lease renewals meanwhile).
    const simCpuS = (cpuTicksOf(simPid) - simCpu0) / CLOCK_TICKS_PER_S;
    const allRunningMs = runningAt.size >= PODS ? Math.max(...runningAt.values()) - tRelease : NaN;
    // The steady window alone: the release (untainting, or node registration) and the ramp stay out of the CPU per bound pod.
    const at = (t: number) => samples.reduce((best, x) => (Math.abs(x.t - t) < Math.abs(best.t - t) ? x : best), samples[0]!);
    const w0 = at(binds[i0]!);
    const w1 = at(binds[p90]!);
    const inWindow = binds.filter((b) => b > w0.t && b <= w1.t).length;
    const win = { main: (w1.ticks.main - w0.ticks.main) / CLOCK_TICKS_PER_S, sched: (w1.ticks.sched - w0.ticks.sched) / CLOCK_TICKS_PER_S, others: (w1.ticks.others - w0.ticks.others) / CLOCK_TICKS_PER_S, sim: (w1.sim - w0.sim) / CLOCK_TICKS_PER_S, bench: (w1.bench - w0.bench) / 1e6 };
    const winPerPod = (x: number) => f(x / Math.max(1, inWindow) * 1e6, 0);
    // For a --cpu-prof of the server (BENCH_SERVER_NODE_ARGS): the window on the profiles' clock (CLOCK_MONOTONIC, µs).
    if (process.env.BENCH_SERVER_NODE_ARGS?.includes('--cpu-prof')) {
      const mono = (t: number) => Math.round(Number(process.hrtime.bigint() / 1000n) - (performance.now() - t) * 1000);
      console.log(`  window on the profile clock: ${mono(w0.t)}–${mono(w1.t)} µs`);
    }
    console.log(`  steady window (${f((w1.t - w0.t) / 1000)} s, ${inWindow} binds): µs of server CPU a bound pod — main thread ${winPerPod(win.main)}, `
      + `scheduler thread ${winPerPod(win.sched)}, others ${winPerPod(win.others)}, all ${winPerPod(win.main + win.sched + win.others)}; main thread busy ${f(win.main / ((w1.t - w0.t) / 1000) * 100, 0)} %; `
      + `sim ${winPerPod(win.sim)}; this bench's own process ${winPerPod(win.bench)} (its watch and the release: the same two cores)`);
    // Printed now too: a later phase that fails (a loaded machine) must not take these figures with it.
    console.log(`phase 1: ${PODS} pods bound, steady ${f(steady, 0)} pods/s, first to last ${f(whole, 0)} pods/s, all Running ${f(allRunningMs / 1000)} s after the release`
      + `${NODES_FIRST ? ` (taint lifted from ${NODES} nodes in ${f(releaseMs / 1000)} s, ${releaseLatency})` : ''}; `
      + `server CPU ${f(serverCpuS)} s (${f(serverCpuS / PODS * 1000, 3)} ms a pod: main thread ${f(byThread.main)} s, scheduler thread ${f(byThread.sched)} s, others ${f(byThread.others)} s), `
      + `sim CPU ${f(simCpuS)} s (${f(simCpuS / PODS * 1e6, 0)} µs a pod); load average ${load0} → ${load1()}`);
    const netServer = serverCpuS - idleRate.server * phaseS;
    const netSim = simCpuS - idleRate.sim * phaseS;
    if (NODES_FIRST) {
      console.log(`  net of the idle rate over the ${f(phaseS)} s: server ${f(netServer)} s (${f(netServer / PODS * 1e6, 0)} µs a pod), sim ${f(netSim)} s (${f(netSim / PODS * 1e6, 0)} µs a pod)`);
    }
    // Where the attempts went: failed ones cost a status write each (each pod once while nothing fits).
    const counters = await schedulerCounters(agent, server.url).catch((err) => console.log(`  /metrics not read: ${err}`));
    if (counters) {
      console.log(`  scheduler: ${counters.scheduled} scheduled, ${counters.unschedulable} unschedulable attempts; `
        + `${counters.dropped} Scheduled events dropped (queue full)`);
    }

    // Phase 2: a Deployment to available (the simulated nodes mark its pods Running and Ready).
    while ((await readyNodes(agent, server.url)).ready < NODES) await sleep(200);
    if (!NODES_FIRST) nodesMs = performance.now() - tRelease;
    const t0 = performance.now();
    await request(agent, 'POST', `${server.url}/apis/apps/v1/namespaces/sched/deployments`, JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'big' },
      spec: { replicas: REPLICAS, selector: { matchLabels: { app: 'big' } }, template: { metadata: { labels: { app: 'big' } }, spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1'] }] } } },
    }));
    let available = 0;
    for (;;) {
      const res = await request(agent, 'GET', `${server.url}/apis/apps/v1/namespaces/sched/deployments/big`);
      available = (JSON.parse(res.body.toString()) as any).status?.availableReplicas ?? 0;
      if (available >= REPLICAS || performance.now() - t0 > 300_000) break;
      await sleep(100);
    }
    const deployMs = performance.now() - t0;
    console.log(`phase 2: ${NODES} nodes Ready in ${f(nodesMs / 1000)} s; Deployment of ${REPLICAS}: ${available} available in ${f(deployMs / 1000)} s`);
    const mem = memOf(server.pid);

    // Phase 3: up to TOTAL pods on the same nodes, for the control plane's memory at that size.
    const more = Math.max(0, TOTAL - PODS - REPLICAS);
    const rv3 = (JSON.parse((await request(agent, 'GET', `${server.url}/api/v1/namespaces/sched/pods?limit=1`)).body.toString()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    const bound3 = new Set<string>();
    const stopWatch3 = watchPods(server, 'sched', rv3, ({ name, bound }) => {
      if (bound && name.startsWith('q-')) bound3.add(name);
    });
    const t3 = performance.now();
    const serverCpu3 = cpuTicksOf(server.pid);
    const simCpu3 = cpuTicksOf(simPid);
    const created3 = await closedLoop({
      concurrency: 64, durationMs: 600_000, maxOps: more,
      op: (i) => request(agent, 'POST', `${server.url}/api/v1/namespaces/sched/pods`, podJson(`q-${String(i).padStart(5, '0')}`)),
    });
    if (created3.ok !== more) throw new Error(`created ${created3.ok}/${more} more pods: ${created3.firstError}`);
    const deadline3 = performance.now() + 600_000;
    while (bound3.size < more && performance.now() < deadline3) await sleep(100);
    stopWatch3();
    const phase3Ms = performance.now() - t3;
    const serverCpu3S = (cpuTicksOf(server.pid) - serverCpu3) / CLOCK_TICKS_PER_S;
    const simCpu3S = (cpuTicksOf(simPid) - simCpu3) / CLOCK_TICKS_PER_S;
    await sleep(2000);
    const mem3 = memOf(server.pid);
    const simMem3 = memOf(simPid);

    printTable(`sched — berth server + berth sim (${NODES} nodes) in two processes, SQLite`, ['measure', 'Berth', 'peer / anchor'], [
      [`${PODS} pending pods bound, steady rate (${useRelease ? 'release end → 90th percentile' : 'middle 80 %'}), pods/s`, f(steady, 0), 'kube-scheduler ≈ 100–300; Nomad 1,500–3,750 (published)'],
      ['  per-second samples in that window: average / median / lowest', `${f(ps.avg, 0)} / ${f(ps.p50, 0)} / ${f(ps.min, 0)} (${ps.n} s)`, 'scheduler_perf: SchedulingThroughput'],
      ['  middle 80 % (the method before 2026-12-07 13:00), pods/s', f(oldSteady, 0), ''],
      [`  first to last bind, pods/s${NODES_FIRST ? '' : ' (nodes still registering at the start)'}`, f(whole, 0), ''],
      [`  server CPU from the release to ${PODS} Running (per 1,000 pods)`, `${f(serverCpuS)} s (${f(serverCpuS / PODS * 1000, 2)} s)`, ''],
      ['  of it main thread / scheduler thread / other threads', `${f(byThread.main)} / ${f(byThread.sched)} / ${f(byThread.others)} s`, ''],
      ['  steady window: µs of server CPU a bound pod, main / scheduler thread / others', `${winPerPod(win.main)} / ${winPerPod(win.sched)} / ${winPerPod(win.others)}`, ''],
      [`  sim CPU, release → ${PODS} pods Running (µs a pod)${NODES_FIRST ? '' : ', registration included'}`, `${f(simCpuS)} s (${f(simCpuS / PODS * 1e6, 0)})`, ''],
      ['  steady window: µs of sim CPU a bound pod', winPerPod(win.sim), ''],
      ...(NODES_FIRST ? [['  net of the idle rate (renewals…): µs of CPU a pod, server / sim', `${f(netServer / PODS * 1e6, 0)} / ${f(netSim / PODS * 1e6, 0)}`, ''] as [string, string, string]] : []),
      ['pod creation over HTTP (64 clients), pods/s', f(createRate, 0), 'API SLO: p99 ≤ 1 s'],
      [`${NODES} nodes registered and Ready${NODES_FIRST ? ' (before the pods)' : ''}`, `${f(nodesMs / 1000)} s`, ''],
      [`Deployment of ${REPLICAS}: apply → available`, `${f(deployMs / 1000)} s (${available} available)`, ''],
      [`server RSS with ${PODS + REPLICAS} pods`, `${f(mem.rssMb, 0)} MB`, ''],
      [`${more} more pods created and bound (${bound3.size} bound)`, `${f(phase3Ms / 1000)} s`, ''],
      [`  server / sim CPU for them (server per 1,000 pods)`, `${f(serverCpu3S)} / ${f(simCpu3S)} s (${f(serverCpu3S / Math.max(1, more) * 1000, 2)} s)`, ''],
      [`server RSS (peak) at ${NODES} nodes and ${PODS + REPLICAS + more} pods`, `${f(mem3.rssMb, 0)} MB (${f(mem3.hwmMb, 0)} MB)`, 'k3s all-in-one idle, no pods (VISION.md): 500–1,600 MB'],
      ['  sim RSS (peak) then', `${f(simMem3.rssMb, 0)} MB (${f(simMem3.hwmMb, 0)} MB)`, ''],
    ], [`target: ≥ ${TARGET_PODS_PER_S} pods/s scheduling (steady rate)`]);
    return steady >= TARGET_PODS_PER_S && available >= REPLICAS;
  } finally {
    await sim?.stop();
    agent.destroy();
    await server.stop();
  }
}
