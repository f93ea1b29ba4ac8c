/**
 * `fuzz`: the API fuzz suite (test/e2e/fuzz.fixture.ts) for a long run against one `bin/berth server`
 * (SQLite): 30 minutes by default (`BENCH_FUZZ_MS`; `BENCH_QUICK=1`: 60 s), seed from
 * `BENCH_FUZZ_SEED` or the clock. Every violation is counted instead of stopping the run. Reports
 * the requests sent, answers by status, explained and unexplained 5xx, crashes, and the server's
 * RSS before and after. Target: 0 crashes, 0 violations (unexplained 5xx included).
 */
import { startBerth, sleep } from './lib/server.ts';
import { memOf } from './lib/proc.ts';
import { f, printTable } from './lib/stats.ts';
import { runFuzz, type FuzzReport } from '../test/e2e/fuzz.fixture.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const DURATION_MS = Number(process.env.BENCH_FUZZ_MS ?? (QUICK ? 60_000 : 30 * 60_000));
const SEED = Number(process.env.BENCH_FUZZ_SEED ?? Date.now() % 2 ** 31);

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export async function run(): Promise<boolean> {
  const s = await startBerth({ store: 'sqlite' });
  let report: FuzzReport;
  let before, after;
  const started = performance.now();
  try {
    await sleep(2000);
    before = memOf(s.pid);
    console.log(`fuzz: seed ${SEED} (replay: BENCH_FUZZ_SEED=${SEED}), ${DURATION_MS / 1000} s, server pid ${s.pid}, RSS ${f(before.rssMb)} MB`);
    report = await runFuzz({
      url: s.url, tls: s.tls, alive: () => alive(s.pid), seed: SEED, durationMs: DURATION_MS,
      progress: (r) => console.log(`  … ${r.requests} requests, ${r.violations.length} violations, RSS ${alive(s.pid) ? f(memOf(s.pid).rssMb) : '-'} MB`),
    });
    await sleep(2000);
    after = alive(s.pid) ? memOf(s.pid) : undefined;
  } finally {
    await s.stop();
  }
  const secs = (performance.now() - started) / 1000;
  const unexplained5xx = report.violations.filter((v) => v.invariant === 'no 5xx for client mistakes').length;
  const pass = !report.crashed && report.violations.length === 0;
  const statuses = Object.entries(report.byStatus).map(([k, n]) => `${k === '0' ? 'socket' : k}: ${n}`).join(', ');
  printTable('fuzz — property-based API requests against bin/berth server (SQLite)', ['measure', 'value', 'target'], [
    ['seed', String(SEED), ''],
    ['requests (fuzz actions add GETs to check writes)', `${report.requests} in ${f(secs, 0)} s (${f(report.requests / secs, 1)}/s)`, ''],
    ['answers by status', statuses, ''],
    ['crashes (server process gone)', report.crashed ? '1' : '0', '0'],
    ['5xx explained (no reachable node agent, unserved stream, future resourceVersion)', String(report.explained5xx), ''],
    ['5xx unexplained', String(unexplained5xx), '0'],
    ['invariant violations (all)', String(report.violations.length), '0'],
    ['server RSS before / after (VmRSS)', `${f(before.rssMb)} / ${after ? f(after.rssMb) : '-'} MB (VmHWM ${after ? f(after.hwmMb) : '-'} MB)`, ''],
    ['actions', Object.entries(report.actions).map(([k, v]) => `${k} ${v.n}`).join(', '), ''],
  ], [`targets: ${pass ? 'PASS' : 'FAIL'}`]);
  for (const v of report.violations.slice(0, 20)) console.log(`VIOLATION ${v.invariant}\n  ${v.request}\n  ${v.detail}`);
  return pass;
}
