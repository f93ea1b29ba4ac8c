/**
 * `pods`: startup latency of 100 process pods (`sleep N`, N unique) on one `berth up` node, created by
 * 10 concurrent HTTP creators (plain JSON POST); each pod's latency is create-request-sent → the first
 * watch event showing phase Running with its container running (one watch on the namespace). Also
 * create-sent → the container's `sleep` process start (from /proc, 10 ms resolution).
 */
import { createPods, nowMs, PodWatch, startUp } from './lib/up.ts';
import { pidsByCmdline, procStartMs } from './lib/proc.ts';
import { f, pct, printTable, sortNum } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const N = QUICK ? 20 : 100;
const CONCURRENCY = 10;
const TARGET_P99_MS = 150;

export async function run(): Promise<boolean> {
  const up = await startUp();
  let watch: PodWatch | undefined;
  try {
    watch = await PodWatch.open(up.url, up.tls);
    // One at a time first: each pod's own startup cost, without queueing behind the others.
    const seqNames = Array.from({ length: QUICK ? 10 : 100 }, (_, i) => `bench-seq-${String(i).padStart(3, '0')}`);
    const seqLat: number[] = [];
    for (let i = 0; i < seqNames.length; i++) {
      const [sent] = await createPods(up, [seqNames[i]], [['sleep', String(7200 + i)]], 1);
      const w0 = watch;
      await w0.until(() => w0.pods.get(seqNames[i])?.firstRunningAt !== undefined, 30_000, `${seqNames[i]} Running`);
      seqLat.push(w0.pods.get(seqNames[i])!.firstRunningAt! - sent);
    }
    sortNum(seqLat);
    printTable(`pods — ${seqNames.length} process pods created one at a time (each waits for the previous to run)`,
      ['measure', 'p50', 'p99', 'max', 'target'],
      [['create sent → Running seen on the watch (ms)', f(pct(seqLat, 50), 0), f(pct(seqLat, 99), 0), f(seqLat[seqLat.length - 1], 0), `p99 ≤ ${TARGET_P99_MS}`]],
      [`one at a time: ${pct(seqLat, 99) <= TARGET_P99_MS ? 'PASS' : 'FAIL'}`]);
    // The node takes 110 pods (the kubelet's maxPods): the burst starts on an empty node.
    await up.deleteAllPods();
    const names = Array.from({ length: N }, (_, i) => `bench-pod-${String(i).padStart(3, '0')}`);
    const commands = names.map((_, i) => ['sleep', String(3600 + i)]);
    const t0 = nowMs();
    const sentAt = await createPods(up, names, commands, CONCURRENCY);
    const createsDone = nowMs();
    const w = watch;
    await w.until(() => names.every((n) => w.pods.get(n)?.firstRunningAt !== undefined), 120_000, `${N} pods Running`);
    const lat = sortNum(names.map((n, i) => w.pods.get(n)!.firstRunningAt! - sentAt[i]));
    const allRunning = Math.max(...names.map((n) => w.pods.get(n)!.firstRunningAt!)) - t0;
    // The container process: the `sleep 36xx` whose cmdline is unique to each pod.
    const pids = pidsByCmdline(new Set(commands.map((c) => c.join(' '))), up.pid);
    const toProc = sortNum(commands.map((c, i) => procStartMs(pids.get(c.join(' ')) ?? 0) - sentAt[i]).filter(Number.isFinite));
    const procToRunning = sortNum(commands.map((c, i) => w.pods.get(names[i])!.firstRunningAt! - procStartMs(pids.get(c.join(' ')) ?? 0)).filter(Number.isFinite));
    const pass = pct(lat, 99) <= TARGET_P99_MS;
    printTable(`pods — ${N} process pods (sleep), ${CONCURRENCY} concurrent creators, berth up (SQLite)`,
      ['measure', 'p50', 'p99', 'max', 'target'], [
        ['create sent → Running seen on the watch (ms)', f(pct(lat, 50), 0), f(pct(lat, 99), 0), f(lat[lat.length - 1], 0), `p99 ≤ ${TARGET_P99_MS}`],
        [`create sent → container process started (ms, ${toProc.length} found, ±10)`, f(pct(toProc, 50), 0), f(pct(toProc, 99), 0), f(toProc[toProc.length - 1], 0), ''],
        ['container process started → Running seen (ms, ±10)', f(pct(procToRunning, 50), 0), f(pct(procToRunning, 99), 0), f(procToRunning[procToRunning.length - 1], 0), ''],
      ], [
        `first create sent → all ${N} Running: ${f(allRunning, 0)} ms (all create requests answered after ${f(createsDone - t0, 0)} ms)`,
        'peer: none in this table (see `pm2` for PM2 starting the same 100 processes); Kubernetes SIG-Scalability SLO for comparison: pod startup p99 ≤ 5 s (with image pulls excluded)',
        `targets: ${pass ? 'PASS' : 'FAIL'}`,
      ]);
    return pass;
  } finally {
    watch?.close();
    await up.stop();
  }
}
