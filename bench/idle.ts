/**
 * `idle`: cold start of `bin/berth server` (spawn → first 200 `ok` on /readyz; median of 5 starts on
 * fresh SQLite data dirs), then RSS after ~5 s idle and CPU% over 10 s idle.
 */
import { startBerth, sleep } from './lib/server.ts';
import { CLOCK_TICKS_PER_S, cpuTicksOf, memOf } from './lib/proc.ts';
import { f, median, printTable } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const STARTS = 5;
const SETTLE_MS = 5000;
const CPU_MS = QUICK ? 3000 : 10_000;
const TARGET_START_MS = 1000;
const TARGET_RSS_MB = 100;

export async function run(): Promise<boolean> {
  const starts: number[] = [];
  const selfReported: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const s = await startBerth({ store: 'sqlite', pollMs: 2 });
    starts.push(s.startMs);
    const m = /ready in (\d+) ms/.exec(s.logs());
    if (m) selfReported.push(Number(m[1]));
    await s.stop();
  }
  const s = await startBerth({ store: 'sqlite' });
  let rssReady, rssIdle, cpuPct: number;
  try {
    rssReady = memOf(s.pid);
    await sleep(SETTLE_MS);
    rssIdle = memOf(s.pid);
    const t0 = performance.now();
    const c0 = cpuTicksOf(s.pid);
    await sleep(CPU_MS);
    const c1 = cpuTicksOf(s.pid);
    cpuPct = ((c1 - c0) / CLOCK_TICKS_PER_S) / ((performance.now() - t0) / 1000) * 100;
  } finally {
    await s.stop();
  }
  const coldMs = median(starts);
  const pass = coldMs <= TARGET_START_MS && rssIdle.rssMb <= TARGET_RSS_MB;
  printTable('idle — bin/berth server, SQLite store', ['measure', 'value', 'target'], [
    [`cold start to /readyz 200 (median of ${STARTS})`, `${f(coldMs, 0)} ms`, `≤ ${TARGET_START_MS} ms`],
    ['  each start', starts.map((x) => f(x, 0)).join(', ') + ' ms', ''],
    ['  of which server init (its own "ready in" log)', selfReported.map((x) => f(x, 0)).join(', ') + ' ms', ''],
    ['RSS right after ready (VmRSS)', `${f(rssReady.rssMb)} MB`, ''],
    [`RSS after ${SETTLE_MS / 1000} s idle (VmRSS / VmHWM)`, `${f(rssIdle.rssMb)} / ${f(rssIdle.hwmMb)} MB`, `≤ ${TARGET_RSS_MB} MB`],
    [`CPU over ${CPU_MS / 1000} s idle (utime+stime)`, `${f(cpuPct, 2)} %`, ''],
  ], [`targets: ${pass ? 'PASS' : 'FAIL'}  (start time includes node + tsx loader startup; measured from spawn)`]);
  return pass;
}
