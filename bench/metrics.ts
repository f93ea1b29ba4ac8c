/**
 * `metrics`: what resource-metrics sampling and connection tracking cost the node agent with 100
 * process pods (`sleep`) on one `berth up` — the whole process's CPU (utime+stime) and RSS over a
 * 60 s window with both off (BERTH_METRICS_INTERVAL_MS=0, BERTH_TRAFFIC_INTERVAL_MS=0) and on
 * (sampling every 10 s, conntrack every 2 s: the defaults), interleaved off, on, off, on, each on a
 * fresh cluster in the same run, with the load average around each window and, from a probe loaded
 * into the process (--import), V8's young-generation size and the garbage collections in the window
 * (an allocation rate above ~1 MB/s keeps V8 from shrinking the young generation: that, not live
 * data, was the RSS difference); plus each part alone,
 * its CPU time in this process over the same 100 pods (the cost of one sample without the noise of a
 * whole control plane): the sampler over their cgroups, and one traffic sample — the host's whole
 * conntrack table read and tracked, and the sockets of all 100 pods' processes looked up as if every
 * one were host-network (the worst case: only host-network pods are looked up). Targets: ≤ 1 % of a
 * core, ≤ 20 MB more.
 * Peer: none runs here (no cAdvisor binary); the anchor — Weave Scope's probe at 17–50 %
 * CPU at 2,700 pods — is printed for scale.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cgroupPids } from '../src/agent/metrics/cgroup-stats.ts';
import { MetricsSampler, type PodRef } from '../src/agent/metrics/sampler.ts';
import { readConntrack } from '../src/agent/traffic/conntrack.ts';
import { SocketOwnerReader } from '../src/agent/traffic/pod-sockets.ts';
import { nextSampleDelay, SAMPLE_MS } from '../src/agent/traffic/traffic-source.ts';
import { TrafficTracker } from '../src/agent/traffic/traffic-tracker.ts';
import { hostCgroupLayout } from '../src/agent/runtime/cgroups/index.ts';
import { createPods, NODE_NAME, PodWatch, startUp, type UpCluster } from './lib/up.ts';
import { request } from './lib/load.ts';
import { CLOCK_TICKS_PER_S, cpuTicksOf, memOf } from './lib/proc.ts';
import { f, median, pct, printTable, sleep, sortNum } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const N = QUICK ? 20 : 100;
const WINDOW_S = QUICK ? 20 : 60;
const SETTLE_S = 20;
const TARGET_CPU_PCT = 1;
const TARGET_MEM_MB = 20;

interface Heap {
  /** Young generation committed (MB), median of the window's readings. */
  newSpaceMb: number;
  /** Old generation committed (MB), median. */
  oldSpaceMb: number;
  /** V8's whole heap committed, and the process's anonymous and file-backed resident memory (MB), medians. */
  heapTotalMb: number;
  rssAnonMb: number;
  rssFileMb: number;
  /** Scavenges and full collections in the window, and their pause time (ms). */
  minor: number;
  major: number;
  gcMs: number;
}

/** The process's CPU ticks by thread: the main thread (the event loop) and every other (V8's collectors and platform workers, the libuv pool). */
function threadTicks(pid: number): { main: number; others: number } {
  let main = 0, others = 0;
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const st = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const rest = st.slice(st.lastIndexOf(')') + 2).split(' ');
      const ticks = Number(rest[11]) + Number(rest[12]);
      if (t === String(pid)) main += ticks; else others += ticks;
    } catch { /* the thread ended */ }
  }
  return { main, others };
}

/** The agent's own account of its samples (berth_agent_sampling_cpu_seconds_total by part), through the node proxy as a Prometheus server scrapes it. */
async function samplingCost(up: UpCluster): Promise<Record<string, { cpuS: number; n: number }>> {
  const r = await request(up.agent, 'GET', `${up.url}/api/v1/nodes/${NODE_NAME}/proxy/metrics`);
  const out: Record<string, { cpuS: number; n: number }> = {};
  for (const m of r.body.toString().matchAll(/^berth_agent_(sampling_cpu_seconds|samples)_total\{part="(\w+)"\} (\S+)$/gm)) {
    const e = (out[m[2]] ??= { cpuS: 0, n: 0 });
    if (m[1] === 'samples') e.n = Number(m[3]); else e.cpuS = Number(m[3]);
  }
  return out;
}

interface Run {
  on: boolean;
  cpuPct: number;
  /** The same window's CPU by thread (% of one core): the main thread, every other thread. */
  mainPct: number;
  othersPct: number;
  /** The samples' own CPU on the event loop in the window, as the agent counts it (% of one core), and how many. */
  inSitu: Record<string, { pct: number; n: number }>;
  rssMb: number;
  load: [number, number];
  heap?: Heap;
  sampler?: number[];
  traffic?: number[];
  flows?: number;
}

/**
 * Loaded into `berth up` with --import: every 5 s one line of V8's space sizes and the GC counts and
 * pause times so far (perf_hooks gc entries) to BERTH_BENCH_PROBE_OUT. It reads; it changes nothing.
 */
const PROBE = `
import { PerformanceObserver, constants } from 'node:perf_hooks';
import v8 from 'node:v8';
import { appendFileSync, readFileSync } from 'node:fs';
const out = process.env.BERTH_BENCH_PROBE_OUT;
if (out) {
  const gc = { minor: 0, major: 0, ms: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
      else if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
      gc.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  setInterval(() => {
    const sp = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, s.space_size]));
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (k) => Number(new RegExp('^' + k + ':\\\\s+(\\\\d+)', 'm').exec(status)?.[1] ?? NaN) * 1024;
    const m = process.memoryUsage();
    appendFileSync(out, JSON.stringify({ t: Number(process.hrtime.bigint() / 1000000n), newSpace: sp.new_space, oldSpace: sp.old_space, heapTotal: m.heapTotal, external: m.external, rssAnon: kb('RssAnon'), rssFile: kb('RssFile'), ...gc }) + '\\n');
  }, 5000).unref();
}
`;

interface ProbeLine { t: number; newSpace: number; oldSpace: number; heapTotal: number; rssAnon: number; rssFile: number; minor: number; major: number; ms: number }

function heapOf(file: string, t0: number, t1: number): Heap | undefined {
  let lines: ProbeLine[];
  try { lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ProbeLine); } catch { return undefined; }
  const before = lines.filter((l) => l.t <= t0).at(-1);
  const inWin = lines.filter((l) => l.t > t0 && l.t <= t1);
  const last = inWin.at(-1);
  if (!before || !last) return undefined;
  return {
    newSpaceMb: median(inWin.map((l) => l.newSpace / 1048576)), oldSpaceMb: median(inWin.map((l) => l.oldSpace / 1048576)),
    heapTotalMb: median(inWin.map((l) => l.heapTotal / 1048576)), rssAnonMb: median(inWin.map((l) => l.rssAnon / 1048576)), rssFileMb: median(inWin.map((l) => l.rssFile / 1048576)),
    minor: last.minor - before.minor, major: last.major - before.major, gcMs: last.ms - before.ms,
  };
}

/** The 100 pods' cgroups as the sampler sees them (ids from the cgroup tree). */
function podRefsFromCgroups(root: string): PodRef[] {
  const layout = hostCgroupLayout();
  const base = layout.mode === 'v2' ? layout.unifiedRoot! : layout.v1Roots.memory!;
  const out: PodRef[] = [];
  for (const d of readdirSync(path.join(base, 'berth'), { withFileTypes: true })) {
    if (!d.isDirectory() || !d.name.startsWith('pod-')) continue;
    const uid = d.name.slice(4);
    const ids = readdirSync(path.join(base, 'berth', d.name), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
    out.push({
      uid, namespace: 'default', name: uid, cgroupPath: `berth/${d.name}`, hostNetwork: false,
      containers: ids.map((id) => ({ name: id.split('_')[1] ?? id, id, image: 'host', running: true })),
    });
  }
  void root;
  return out;
}

/** CPU ms of `fn` in this process, 30 times, sorted (CPU time, not wall: the machine may be busy). */
async function cpuMs(fn: () => Promise<unknown> | unknown): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < 30; i++) {
    const s0 = process.cpuUsage();
    await fn();
    const used = process.cpuUsage(s0);
    out.push((used.user + used.system) / 1000);
  }
  return sortNum(out);
}

async function measure(on: boolean, parts: boolean, probeDir: string, n: number): Promise<Run> {
  const intervalMs = on ? 10_000 : 0;
  process.env.BERTH_METRICS_INTERVAL_MS = String(intervalMs);
  process.env.BERTH_TRAFFIC_INTERVAL_MS = on ? String(SAMPLE_MS) : '0';
  const probeOut = path.join(probeDir, `heap-${n}.jsonl`);
  process.env.BERTH_BENCH_PROBE_OUT = probeOut;
  const nodeArgs = process.env.BENCH_SERVER_NODE_ARGS;
  process.env.BENCH_SERVER_NODE_ARGS = `${nodeArgs ?? ''} --import ${path.join(probeDir, 'heap-probe.mjs')}`;
  let up;
  try { up = await startUp(); } finally {
    if (nodeArgs === undefined) delete process.env.BENCH_SERVER_NODE_ARGS; else process.env.BENCH_SERVER_NODE_ARGS = nodeArgs;
  }
  let watch: PodWatch | undefined;
  try {
    watch = await PodWatch.open(up.url, up.tls);
    const names = Array.from({ length: N }, (_, i) => `bench-metrics-${String(i).padStart(3, '0')}`);
    await createPods(up, names, names.map((_, i) => ['sleep', String(5400 + i)]), 10);
    const w = watch;
    await w.until(() => names.every((n) => w.pods.get(n)?.firstRunningAt !== undefined), 120_000, `${N} pods Running`);
    await sleep(SETTLE_S * 1000);
    const load0 = os.loadavg()[0];
    // Asked in both modes, so the scrapes cost both the same.
    const k0 = await samplingCost(up);
    const t0 = performance.now();
    const c0 = cpuTicksOf(up.pid);
    const th0 = threadTicks(up.pid);
    // RSS every 5 s, the median reported: one reading lands anywhere in a GC cycle.
    const rss: number[] = [];
    for (let t = 0; t < WINDOW_S; t += 5) { await sleep(5000); rss.push(memOf(up.pid).rssMb); }
    const secs = (performance.now() - t0) / 1000;
    const cpuPct = ((cpuTicksOf(up.pid) - c0) / CLOCK_TICKS_PER_S) / secs * 100;
    const th1 = threadTicks(up.pid);
    const k1 = await samplingCost(up);
    const inSitu: Run['inSitu'] = {};
    for (const part of Object.keys(k1)) inSitu[part] = { pct: (k1[part].cpuS - (k0[part]?.cpuS ?? 0)) / secs * 100, n: k1[part].n - (k0[part]?.n ?? 0) };
    const mainPct = (th1.main - th0.main) / CLOCK_TICKS_PER_S / secs * 100;
    const othersPct = (th1.others - th0.others) / CLOCK_TICKS_PER_S / secs * 100;
    const rssMb = pct(sortNum(rss), 50);
    // The probe's clock is the process's monotonic one, as performance.now() + timeOrigin is not: hrtime here too.
    const hr1 = Number(process.hrtime.bigint() / 1000000n);
    const heap = heapOf(probeOut, hr1 - (performance.now() - t0), hr1);
    const base: Run = { on, cpuPct, mainPct, othersPct, inSitu, rssMb, load: [load0, os.loadavg()[0]], heap };
    if (!parts) return base;
    // The sampler alone over the same pods, in this process: 30 samples.
    const refs = podRefsFromCgroups(up.dataDir);
    if (refs.length < N) console.log(`note: the sampler found ${refs.length} pod cgroups`);
    const sampler = new MetricsSampler({ layout: hostCgroupLayout(), dataDir: path.join(up.dataDir, 'agent'), pods: () => refs });
    const samplerMs = await cpuMs(() => sampler.sampleOnce());
    // One traffic sample as the agent takes it, every pod treated as host-network (their sockets looked up).
    const layout = hostCgroupLayout();
    const hostPods = refs.map((r) => ({ namespace: r.namespace, name: r.name, pids: r.containers.flatMap((c) => cgroupPids(layout, `${r.cgroupPath}/${c.id}`)) }));
    const tracker = new TrafficTracker();
    // As the agent reads them: the pods' descriptors walked every 5th sample, the socket tables every one.
    const reader = new SocketOwnerReader();
    let flows = 0;
    const trafficMs = await cpuMs(async () => {
      tracker.begin(Date.now(), reader.read(hostPods));
      flows = (await readConntrack((f) => tracker.add(f))).entries;
      tracker.end();
    });
    return { ...base, sampler: samplerMs, traffic: trafficMs, flows };
  } finally {
    watch?.close();
    await up.stop();
  }
}

export async function run(): Promise<boolean> {
  const probeDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-metrics-'));
  writeFileSync(path.join(probeDir, 'heap-probe.mjs'), PROBE);
  // Interleaved, so a change in the machine's load falls on both modes; the parts alone once, in the last run.
  const order = QUICK ? [false, true] : [false, true, false, true];
  const runs: Run[] = [];
  try {
    for (const [i, on] of order.entries()) runs.push(await measure(on, i === order.length - 1, probeDir, i));
  } finally {
    rmSync(probeDir, { recursive: true, force: true });
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const offs = runs.filter((r) => !r.on);
  const ons = runs.filter((r) => r.on);
  const dCpu = mean(ons.map((r) => r.cpuPct)) - mean(offs.map((r) => r.cpuPct));
  const dMem = mean(ons.map((r) => r.rssMb)) - mean(offs.map((r) => r.rssMb));
  const dMain = mean(ons.map((r) => r.mainPct)) - mean(offs.map((r) => r.mainPct));
  const dOthers = mean(ons.map((r) => r.othersPct)) - mean(offs.map((r) => r.othersPct));
  const inSituMetrics = mean(ons.map((r) => r.inSitu.metrics?.pct ?? NaN));
  const inSituTraffic = mean(ons.map((r) => r.inSitu.traffic?.pct ?? NaN));
  const on = runs[runs.length - 1];
  const perSample = on.sampler ? pct(on.sampler, 50) : NaN;
  const samplerPct = perSample / 10_000 * 100;
  const perTraffic = on.traffic ? pct(on.traffic, 50) : NaN;
  // The agent samples again after nextSampleDelay of a sample's cost (2 s, longer for large tables).
  const trafficEvery = nextSampleDelay(perTraffic);
  const trafficPct = perTraffic / trafficEvery * 100;
  const pass = dCpu <= TARGET_CPU_PCT && dMem <= TARGET_MEM_MB;
  const h = (r: Run, fn: (x: Heap) => string) => (r.heap ? fn(r.heap) : '?');
  printTable(`metrics — berth up with ${N} process pods (sleep), ${WINDOW_S} s window after ${SETTLE_S} s settling, each run on a fresh cluster, off/on interleaved`,
    ['run', 'sampling + tracking', 'CPU utime+stime (% of one core)', 'main thread / other threads (%)', 'in the samples, as the agent counts: metrics / traffic (% , samples)', 'RSS (MB, median)', 'load avg (start → end)', 'V8 young gen (MB)', 'old gen (MB)', 'whole V8 heap (MB)', 'RSS anon / file (MB)', 'GCs minor / major (pause ms)'],
    runs.map((r, i) => [String(i + 1), r.on ? 'on (10 s / 2 s)' : 'off', f(r.cpuPct, 2), `${f(r.mainPct, 2)} / ${f(r.othersPct, 2)}`,
      r.on ? ['metrics', 'traffic'].map((p) => (r.inSitu[p] ? `${f(r.inSitu[p].pct, 3)} (${r.inSitu[p].n})` : '?')).join(' / ') : '', f(r.rssMb, 1), `${f(r.load[0], 1)} → ${f(r.load[1], 1)}`,
      h(r, (x) => f(x.newSpaceMb, 1)), h(r, (x) => f(x.oldSpaceMb, 1)), h(r, (x) => f(x.heapTotalMb, 1)), h(r, (x) => `${f(x.rssAnonMb, 1)} / ${f(x.rssFileMb, 1)}`),
      h(r, (x) => `${x.minor} / ${x.major} (${f(x.gcMs, 0)})`)]));
  printTable('metrics — what sampling + tracking cost', ['measure', 'value', 'target'], [
    ['whole process: CPU on − off (mean of the runs, points of one core)', f(dCpu, 2), `≤ ${TARGET_CPU_PCT}`],
    ['whole process: RSS on − off (mean of the runs, MB)', f(dMem, 1), `≤ ${TARGET_MEM_MB}`],
    ['of the CPU difference: main thread / other threads (points)', `${f(dMain, 2)} / ${f(dOthers, 2)}`, ''],
    ['the samples themselves on the main thread, in place (mean of the on runs: metrics + traffic, %)', `${f(inSituMetrics, 3)} + ${f(inSituTraffic, 3)} = ${f(inSituMetrics + inSituTraffic, 3)}`, ''],
    ['main thread beyond the samples (collections on the loop, timers, scrapes: points)', f(dMain - inSituMetrics - inSituTraffic, 2), ''],
    [`one metrics sample of ${N} pods, in-process (CPU ms, p50 / p99 of 30)`, `${f(perSample, 2)} / ${f(on.sampler ? pct(on.sampler, 99) : NaN, 2)} = ${f(samplerPct, 3)} % of a core at one sample per 10 s`, ''],
    [`one traffic sample: ${on.flows} conntrack entries + sockets of ${N} pods (CPU ms, p50 / p99 of 30)`, `${f(perTraffic, 2)} / ${f(on.traffic ? pct(on.traffic, 99) : NaN, 2)} = ${f(trafficPct, 3)} % of a core at one sample per ${f(trafficEvery / 1000, 1)} s`, ''],
    ['both parts alone (% of one core)', f(samplerPct + trafficPct, 3), `≤ ${TARGET_CPU_PCT}`],
  ], [
    'peer: no cAdvisor here to run; the issue\'s anchor: Weave Scope\'s probe used 17–50 % CPU at 2,700 pods',
    'whole-process figures include the control plane\'s own noise (leases, status writes); the in-process lines are the parts alone',
    `targets: ${pass ? 'PASS' : 'FAIL'}`,
  ]);
  return pass;
}
