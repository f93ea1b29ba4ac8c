/**
 * `idle`: cold start of `bin/berth server` (spawn → first 200 `ok` on /readyz; median of 5 starts on
 * fresh SQLite data dirs), then RSS after ~5 s idle and CPU% over 10 s idle. As root, also `berth up`
 * (server + in-process agent, TLS) from spawn to its Node Ready through the API: the first start on
 * a fresh data dir (CA and certificates created) and a restart on the same data dir, median of 5
 * each (kubeadm/k3s have no published peer figure for this).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBerth, sleep } from './lib/server.ts';
import { CLOCK_TICKS_PER_S, cpuTicksOf, memOf } from './lib/proc.ts';
import { f, median, printTable } from './lib/stats.ts';
import { cleanupHostNetwork } from './lib/up.ts';
import { timeUpStart, type UpStart } from './lib/up-start.ts';
import { berthEntry } from './lib/berth-entry.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const STARTS = 5;
const SETTLE_MS = 5000;
const CPU_MS = QUICK ? 3000 : 10_000;
const TARGET_START_MS = 1000;
const TARGET_RSS_MB = 100;
const TARGET_UP_FIRST_MS = 2000;
const TARGET_UP_RESTART_MS = 1000;

/** `berth up` started STARTS times on a fresh data dir and once more on each after it stopped. */
async function upStarts(): Promise<{ first: UpStart[]; restart: UpStart[] }> {
  const first: UpStart[] = [];
  const restart: UpStart[] = [];
  for (let i = 0; i < STARTS; i++) {
    // A fresh machine: no bridge, routes or egress table of an earlier cluster. A restart finds its own.
    cleanupHostNetwork();
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-upstart-'));
    try {
      const a = await timeUpStart(dataDir);
      first.push(a);
      restart.push(await timeUpStart(dataDir, a.port));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      cleanupHostNetwork();
    }
  }
  return { first, restart };
}

function upRows(label: string, xs: UpStart[], target: number): string[][] {
  const ready = median(xs.map((x) => x.nodeReadyMs));
  return [
    [`${label}: spawn → Node Ready via the API (median of ${xs.length})`, `${f(ready, 0)} ms`, `≤ ${target} ms ${ready <= target ? 'PASS' : 'MISS'}`],
    ['  each start', xs.map((x) => f(x.nodeReadyMs, 0)).join(', ') + ' ms', ''],
    ['  spawn → "Node … is Ready" printed (median)', `${f(median(xs.map((x) => x.printedMs)), 0)} ms`, ''],
    ['  of which berth up\'s own figure (from main)', xs.map((x) => f(x.selfMs, 0)).join(', ') + ' ms', ''],
  ];
}

export async function run(): Promise<boolean> {
  const entry = berthEntry();
  const from = entry.describe;
  const load0 = os.loadavg()[0];
  const starts: number[] = [];
  const selfReported: number[] = [];
  for (let i = 0; i < STARTS; i++) {
    const s = await startBerth({ store: 'sqlite', pollMs: 2, script: entry.script });
    starts.push(s.startMs);
    const m = /ready in (\d+) ms/.exec(s.logs());
    if (m) selfReported.push(Number(m[1]));
    await s.stop();
  }
  const s = await startBerth({ store: 'sqlite', script: entry.script });
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
  let pass = coldMs <= TARGET_START_MS && rssIdle.rssMb <= TARGET_RSS_MB;
  printTable(`idle — bin/berth server, SQLite store (${from}; load ${f(load0, 2)} → ${f(os.loadavg()[0], 2)})`, ['measure', 'value', 'target'], [
    [`cold start to /readyz 200 (median of ${STARTS})`, `${f(coldMs, 0)} ms`, `≤ ${TARGET_START_MS} ms`],
    ['  each start', starts.map((x) => f(x, 0)).join(', ') + ' ms', ''],
    ['  of which server init (its own "ready in" log)', selfReported.map((x) => f(x, 0)).join(', ') + ' ms', ''],
    ['RSS right after ready (VmRSS)', `${f(rssReady.rssMb)} MB`, ''],
    [`RSS after ${SETTLE_MS / 1000} s idle (VmRSS / VmHWM)`, `${f(rssIdle.rssMb)} / ${f(rssIdle.hwmMb)} MB`, `≤ ${TARGET_RSS_MB} MB`],
    [`CPU over ${CPU_MS / 1000} s idle (utime+stime)`, `${f(cpuPct, 2)} %`, ''],
  ], [`targets: ${pass ? 'PASS' : 'FAIL'}  (start time includes node start-up and module loading; measured from spawn)`]);

  if (process.getuid?.() !== 0) {
    console.log('\n  berth up cold start: skipped (needs root: bridge, routes, nftables)');
    return pass;
  }
  const upLoad0 = os.loadavg()[0];
  const up = await upStarts();
  const firstMs = median(up.first.map((x) => x.nodeReadyMs));
  const restartMs = median(up.restart.map((x) => x.nodeReadyMs));
  const upPass = firstMs <= TARGET_UP_FIRST_MS && restartMs <= TARGET_UP_RESTART_MS;
  pass &&= upPass;
  printTable(`idle — bin/berth up cold start to Ready, TLS, SQLite (${from}; load ${f(upLoad0, 2)} → ${f(os.loadavg()[0], 2)})`, ['measure', 'value', 'target'], [
    ...upRows('first start (CA + certificates created)', up.first, TARGET_UP_FIRST_MS),
    ...upRows('restart (same data dir)', up.restart, TARGET_UP_RESTART_MS),
  ], [
    `targets: ${upPass ? 'PASS' : 'MISS'}  (Ready = the Node's Ready condition True, read with DATA/kubeconfig; on a restart only a Node written by this start counts)`,
  ]);
  return pass;
}
