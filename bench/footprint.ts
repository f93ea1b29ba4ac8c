/**
 * `footprint`: idle footprint of `berth up` (one process: API server, controllers, binder, agent)
 * with 0 pods and with 50 process pods (`sleep N`): the berth process's VmRSS after 10 s idle and its
 * CPU % (utime+stime) over the next 15 s; separately the per-container helper processes of the
 * process runtime (the spawn helper, shims, unshare, tini: every ancestor of each `sleep` below the berth process),
 * summed RSS and PSS, and the `sleep` processes themselves.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensurePm2, PM2_BIN } from './pm2.ts';
import { f, printTable, sleep } from './lib/stats.ts';
import { createPods, PodWatch, startUp } from './lib/up.ts';
import { ancestors, CLOCK_TICKS_PER_S, cmdlineOf, cpuTicksOf, memOf, pidsByCmdline, rssPssKb } from './lib/proc.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const PODS = QUICK ? 10 : 50;
const SETTLE_MS = QUICK ? 3000 : 10_000;
const CPU_MS = QUICK ? 5000 : 15_000;
const TARGET_RSS_MB = 150;
const TARGET_CPU_PCT = 1;

/** PM2 5 daemon idle with 0 and PODS apps (`sleep N`, fork mode, no interpreter). */
async function pm2Footprint(): Promise<{ empty: Idle; loaded: Idle }> {
  ensurePm2();
  const home = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-pm2-'));
  const cli = (args: string[]) => execFileSync(process.execPath, [PM2_BIN, ...args], { env: { ...process.env, PM2_HOME: home }, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    cli(['ping']);
    const pid = Number(readFileSync(path.join(home, 'pm2.pid'), 'utf8'));
    const empty = await idle(pid);
    const eco = path.join(home, 'ecosystem.json');
    writeFileSync(eco, JSON.stringify({ apps: Array.from({ length: PODS }, (_, i) => ({ name: `s${i}`, script: '/usr/bin/sleep', args: String(8000 + i), interpreter: 'none', exec_mode: 'fork' })) }));
    cli(['start', eco]);
    for (let i = 0; ; i++) {
      const l = JSON.parse(cli(['jlist'])) as { pid: number; pm2_env: { status: string } }[];
      if (l.filter((p) => p.pm2_env.status === 'online' && p.pid > 0).length === PODS) break;
      if (i > 100) throw new Error('pm2: apps not online');
      await sleep(200);
    }
    return { empty, loaded: await idle(pid) };
  } finally {
    try { cli(['kill']); } catch (err) { console.error(`pm2 kill failed: ${String(err)}`); }
    rmSync(home, { recursive: true, force: true });
  }
}

interface Idle { rss: number; hwm: number; cpu: number }

async function idle(pid: number): Promise<Idle> {
  await sleep(SETTLE_MS);
  const m = memOf(pid);
  const t0 = performance.now();
  const c0 = cpuTicksOf(pid);
  await sleep(CPU_MS);
  const cpu = ((cpuTicksOf(pid) - c0) / CLOCK_TICKS_PER_S) / ((performance.now() - t0) / 1000) * 100;
  return { rss: m.rssMb, hwm: m.hwmMb, cpu };
}

interface BerthResult {
  empty: Idle; loaded: Idle; helpers: number; n: number;
  h: { rss: number; pss: number }; s: { rss: number; pss: number }; kinds: [string, { rss: number; pss: number }, number][];
}

async function berthFootprint(): Promise<BerthResult> {
  const up = await startUp();
  let watch: PodWatch | undefined;
  try {
    const empty = await idle(up.pid);
    const w = watch = await PodWatch.open(up.url, up.tls);
    const names = Array.from({ length: PODS }, (_, i) => `fp-${String(i).padStart(3, '0')}`);
    const commands = names.map((_, i) => ['sleep', String(7000 + i)]);
    await createPods(up, names, commands, 10);
    await w.until(() => names.every((n) => w.pods.get(n)?.running), 180_000, `${PODS} pods Running`);
    w.close();
    const loaded = await idle(up.pid);
    // Helpers: every process between the berth process and each pod's `sleep`.
    const sleeps = pidsByCmdline(new Set(commands.map((c) => c.join(' '))), up.pid);
    const helpers = new Set<number>();
    for (const pid of sleeps.values()) for (const a of ancestors(pid, new Set([up.pid]))) helpers.add(a);
    const kinds = new Map<string, number[]>();
    for (const p of helpers) {
      const c = cmdlineOf(p);
      // The agent's spawn helper (one per node) starts the shims, which title themselves berth-shim.
      const k = c.includes('berth-spawner') ? 'berth-spawner (C, one per node)'
        : c.startsWith('berth-shim') ? 'berth-shim (C)' : c.includes('tini') ? 'tini' : c.split(' ')[0];
      kinds.set(k, [...(kinds.get(k) ?? []), p]);
    }
    return {
      empty, loaded, helpers: helpers.size, n: sleeps.size, h: sum(helpers), s: sum(sleeps.values()),
      kinds: [...kinds].map(([k, ps]) => [k, sum(ps), ps.length]),
    };
  } finally {
    watch?.close();
    await up.stop();
  }
}

function sum(pids: Iterable<number>): { rss: number; pss: number } {
  let rss = 0, pss = 0;
  for (const p of pids) { const m = rssPssKb(p); rss += m.rss || 0; pss += m.pss || 0; }
  return { rss: rss / 1024, pss: pss / 1024 };
}

export async function run(): Promise<boolean> {
  const b = await berthFootprint();
  const p = await pm2Footprint();
  const { empty, loaded, h, s, n } = b;
  const pass = empty.rss <= TARGET_RSS_MB && loaded.rss <= TARGET_RSS_MB && empty.cpu <= TARGET_CPU_PCT && loaded.cpu <= TARGET_CPU_PCT;
  printTable(`footprint — idle, 0 vs ${PODS} processes (sleep): berth up (one process) vs PM2 5 daemon`,
    ['measure', 'Berth 0', `Berth ${PODS}`, 'PM2 0', `PM2 ${PODS}`, 'target (Berth)'], [
      [`main process VmRSS after ${SETTLE_MS / 1000} s idle (MB)`, f(empty.rss), f(loaded.rss), f(p.empty.rss), f(p.loaded.rss), `≤ ${TARGET_RSS_MB}`],
      ['main process VmHWM (MB)', f(empty.hwm), f(loaded.hwm), f(p.empty.hwm), f(p.loaded.hwm), ''],
      [`main process CPU over ${CPU_MS / 1000} s idle (%)`, f(empty.cpu, 2), f(loaded.cpu, 2), f(p.empty.cpu, 2), f(p.loaded.cpu, 2), `≤ ${TARGET_CPU_PCT}`],
      [`helper processes (Berth: ${b.helpers} for ${n} containers): RSS / PSS sum (MB)`, '0', `${f(h.rss)} / ${f(h.pss)}`, '0', '0', ''],
      ...b.kinds.map(([k, m, c]) => [`  ${k} ×${c}: RSS / PSS (MB)`, '', `${f(m.rss)} / ${f(m.pss)}`, '', '', '']),
      ['  per container: RSS / PSS (MB)', '', `${f(h.rss / n, 2)} / ${f(h.pss / n, 2)}`, '', '0', ''],
      [`the ${n} sleep processes themselves: RSS / PSS (MB)`, '', `${f(s.rss)} / ${f(s.pss)}`, '', '', ''],
    ], [
      'main process = the berth up node process / the PM2 God daemon (PM2 fork mode, interpreter none: no per-app helper).',
      'RSS sums count shared pages once per process; PSS splits them between processes.',
      `targets: ${pass ? 'PASS' : 'FAIL'} (RSS and CPU targets apply to the berth process, with 0 and ${PODS} pods)`,
    ]);
  return pass;
}
