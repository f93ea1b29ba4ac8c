/**
 * `pm2`: Berth (`berth up`, process pods) against PM2 5 on the same machine in the same run:
 *  (a) start 100 `sleep N` processes until all run — Berth: 100 pods through the API (10 concurrent
 *      creators) until one watch saw all Running, twice: pods on the host's network, as PM2's
 *      processes are (each still with its cgroup, pid/mount/uts namespaces, tini, log and status),
 *      and pods with a network namespace and pod IP each (two CNI plugin runs per pod); PM2:
 *      `pm2 start ecosystem.json` (100 apps) until the daemon lists all `online` with a pid;
 *  (b) SIGKILL one process and time until it runs again — Berth: until the pod's restartCount went
 *      up and its container is running (the first crash restarts at once, as the kubelet does);
 *      PM2: until the app is `online` with a new pid (restart_delay 0). KILLS times each, sequentially.
 * PM2 is installed outside the tree in REPO/.cache/pm2 (npm, once), PM2_HOME in a temp dir. PM2's
 * state is polled with its programmatic `list()` (the daemon call `pm2 jlist` prints) every 10 ms,
 * because each `pm2 jlist` CLI run costs a Node start (its time is printed); one `pm2 jlist` CLI run
 * confirms the 100 online.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './lib/server.ts';
import { createPods, nowMs, PodWatch, startUp, type UpCluster } from './lib/up.ts';
import { pidsByCmdline, procStartMs } from './lib/proc.ts';
import { f, median, printTable, sleep } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const N = QUICK ? 20 : 100;
const KILLS = QUICK ? 1 : 3;
const CONCURRENCY = 10;
/** Longest restart wait to allow: a first crash restarts at once, later ones back off from 10 s. */
const BACKOFF_MS = 10_000;
const PM2_PREFIX = path.join(REPO_ROOT, '.cache', 'pm2');
const PM2_PKG = path.join(PM2_PREFIX, 'node_modules', 'pm2');
export const PM2_BIN = path.join(PM2_PKG, 'bin', 'pm2');

interface KillResult { total: number; detect: number; procStart: number }

export function ensurePm2(): void {
  if (existsSync(PM2_BIN)) return;
  mkdirSync(PM2_PREFIX, { recursive: true });
  console.log(`installing pm2@5 into ${PM2_PREFIX} …`);
  execFileSync('npm', ['install', '--prefix', PM2_PREFIX, 'pm2@5', '--no-audit', '--no-fund'], { stdio: 'inherit', timeout: 300_000 });
}

/** Creates N pods at once; ms from the first request until the watch saw the last one Running. */
async function startAllPods(up: UpCluster, w: PodWatch, prefix: string, commands: string[][], hostNetwork: boolean): Promise<{ names: string[]; ms: number }> {
  const names = commands.map((_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
  const t0 = nowMs();
  await createPods(up, names, commands, CONCURRENCY, { hostNetwork });
  await w.until(() => names.every((n) => w.pods.get(n)?.running), 180_000, `${N} pods Running`);
  return { names, ms: Math.max(...names.map((n) => w.pods.get(n)!.firstRunningAt!)) - t0 };
}

async function berthPhase(): Promise<{ startAll: number; startAllHost: number; kills: KillResult[] }> {
  const up = await startUp();
  let watch: PodWatch | undefined;
  try {
    const w = watch = await PodWatch.open(up.url, up.tls);
    // The host's network first (as PM2's processes), then a pod IP each; the kills on the latter.
    const host = await startAllPods(up, w, 'pm2host', Array.from({ length: N }, (_, i) => ['sleep', String(6000 + i)]), true);
    await up.deleteAllPods();
    const commands = Array.from({ length: N }, (_, i) => ['sleep', String(4000 + i)]);
    const { names, ms: startAll } = await startAllPods(up, w, 'pm2cmp', commands, false);
    const kills: KillResult[] = [];
    for (let k = 0; k < KILLS; k++) {
      const name = names[k];
      const cmd = commands[k].join(' ');
      const pid = pidsByCmdline(new Set([cmd]), up.pid).get(cmd);
      if (!pid) throw new Error(`no process for ${name} (${cmd})`);
      const before = w.pods.get(name)!.restartCount;
      let detected = NaN;
      const tk = nowMs();
      process.kill(pid, 'SIGKILL');
      await w.until(() => { const s = w.pods.get(name)!; if (!s.running && Number.isNaN(detected)) detected = nowMs(); return s.restartCount > before && s.running; },
        BACKOFF_MS + 60_000, `${name} restarted`);
      const total = nowMs() - tk;
      // Running is reported once the runtime chain exists; the `sleep` itself may exec a moment later.
      let np: number | undefined;
      for (let i = 0; i < 200 && (!np || np === pid); i++) { np = pidsByCmdline(new Set([cmd]), up.pid).get(cmd); if (!np || np === pid) await sleep(5); }
      kills.push({ total, detect: detected - tk, procStart: np && np !== pid ? procStartMs(np) - tk : NaN });
    }
    return { startAll, startAllHost: host.ms, kills };
  } finally {
    watch?.close();
    await up.stop();
  }
}

interface Pm2Proc { name: string; pid: number; pm2_env: { status: string; restart_time: number } }

async function pm2Phase(): Promise<{ startAll: number; cliExit: number; jlistCli: number; kills: KillResult[]; confirmed: number }> {
  const home = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-pm2-'));
  const env = { ...process.env, PM2_HOME: home };
  const cli = (args: string[], timeout = 120_000) => execFileSync(process.execPath, [PM2_BIN, ...args], { env, encoding: 'utf8', timeout, stdio: ['ignore', 'pipe', 'pipe'] });
  process.env.PM2_HOME = home; // read by the pm2 module when required
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const pm2 = createRequire(path.join(PM2_PKG, 'index.js'))(PM2_PKG) as any;
  let connected = false;
  const list = (): Promise<Pm2Proc[]> => new Promise((res, rej) => pm2.list((e: Error | null, l: Pm2Proc[]) => (e ? rej(e) : res(l))));
  try {
    const names = Array.from({ length: N }, (_, i) => `s${String(i).padStart(3, '0')}`);
    const eco = path.join(home, 'ecosystem.json');
    writeFileSync(eco, JSON.stringify({ apps: names.map((name, i) => ({ name, script: '/usr/bin/sleep', args: String(5000 + i), interpreter: 'none', exec_mode: 'fork', autorestart: true })) }));
    cli(['ping']); // start the daemon beforehand (Berth's figure excludes `berth up` start too)
    await new Promise<void>((res, rej) => pm2.connect((e: Error | null) => (e ? rej(e) : res())));
    connected = true;
    const tj = nowMs();
    cli(['jlist']);
    const jlistCli = nowMs() - tj;
    const online = (l: Pm2Proc[]) => l.filter((p) => p.pm2_env.status === 'online' && p.pid > 0).length;
    const t0 = nowMs();
    let cliExit = NaN;
    const child = spawn(process.execPath, [PM2_BIN, 'start', eco], { env, stdio: 'ignore' });
    const childDone = new Promise<void>((r) => child.once('exit', () => { cliExit = nowMs() - t0; r(); }));
    let startAll = NaN;
    while (nowMs() - t0 < 180_000) {
      const l = await list();
      if (online(l) === N) { startAll = nowMs() - t0; break; }
      await sleep(10);
    }
    await childDone;
    if (Number.isNaN(startAll)) throw new Error('pm2: not all online after 180 s');
    const confirmed = online(JSON.parse(cli(['jlist'])) as Pm2Proc[]);
    const kills: KillResult[] = [];
    for (let k = 0; k < KILLS; k++) {
      const app = (await list()).find((p) => p.name === names[k])!;
      const tk = nowMs();
      process.kill(app.pid, 'SIGKILL');
      let detected = NaN;
      for (;;) {
        const p = (await list()).find((x) => x.name === names[k])!;
        if (Number.isNaN(detected) && p.pid !== app.pid) detected = nowMs();
        if (p.pid > 0 && p.pid !== app.pid && p.pm2_env.status === 'online') {
          kills.push({ total: nowMs() - tk, detect: detected - tk, procStart: procStartMs(p.pid) - tk });
          break;
        }
        if (nowMs() - tk > 60_000) throw new Error(`pm2: ${names[k]} not restarted after 60 s`);
        await sleep(10);
      }
    }
    return { startAll, cliExit, jlistCli, kills, confirmed };
  } finally {
    if (connected) pm2.disconnect();
    try { cli(['kill'], 60_000); } catch (err) {
      console.error(`pm2 kill failed: ${String(err)}`);
      try { process.kill(Number(readFileSync(path.join(home, 'pm2.pid'), 'utf8')), 'SIGKILL'); } catch { /* gone */ }
    }
    rmSync(home, { recursive: true, force: true });
  }
}

export async function run(): Promise<boolean> {
  ensurePm2();
  const b = await berthPhase();
  const p = await pm2Phase();
  const med = (ks: KillResult[], k: keyof KillResult) => median(ks.map((x) => x[k]));
  const each = (ks: KillResult[], k: keyof KillResult) => ks.map((x) => f(x[k], 0)).join(', ');
  const bT = med(b.kills, 'total'), pT = med(p.kills, 'total');
  printTable(`pm2 — ${N} processes (sleep): Berth process pods vs PM2 5 (fork mode), same run`,
    ['measure', 'Berth', 'PM2', 'Berth/PM2'], [
      [`(a) start ${N}, first request → all running (ms): pods on the host network, as PM2's`, f(b.startAllHost, 0), f(p.startAll, 0), `${f(b.startAllHost / p.startAll, 2)}×`],
      [`    the same, pods with a network namespace and pod IP each (CNI)`, f(b.startAll, 0), f(p.startAll, 0), `${f(b.startAll / p.startAll, 2)}×`],
      [`    PM2: \`pm2 start\` CLI exited after (ms) / jlist CLI alone (ms)`, '', `${f(p.cliExit, 0)} / ${f(p.jlistCli, 0)}`, ''],
      [`(b) SIGKILL → running again, median of ${KILLS} (ms)`, f(bT, 0), f(pT, 0), `${f(bT / pT, 2)}×`],
      ['    each (ms)', each(b.kills, 'total'), each(p.kills, 'total'), ''],
      ['    kill → exit seen (Berth: watch not running; PM2: pid changed) (ms)', each(b.kills, 'detect'), each(p.kills, 'detect'), ''],
      ['    kill → new process started (/proc, ±10 ms)', each(b.kills, 'procStart'), each(p.kills, 'procStart'), ''],
    ], [
      `PM2 online confirmed by \`pm2 jlist\`: ${p.confirmed}/${N}. Target: Berth faster on both (a) and (b).`,
      `Berth restarts a container's first crash at once, as the kubelet does (back-off from the second crash on).`,
      `(a) like for like (host network): ${b.startAllHost < p.startAll ? 'PASS' : 'FAIL'}; with a pod IP each: ${b.startAll < p.startAll ? 'PASS' : 'FAIL'}; (b) ${bT < pT ? 'PASS' : 'FAIL'}`,
    ]);
  return b.startAllHost < p.startAll && bT < pT;
}
