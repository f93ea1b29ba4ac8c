/**
 * `discovery`: what a cold discovery cache costs `kubectl get pods`, with aggregated discovery
 * (apidiscovery.k8s.io/v2: one document each for /api and /apis) and without it (the legacy path:
 * /api, /apis, then one APIResourceList per group-version — what Berth served before, and what
 * kube-apiserver before 1.30 serves). Two `berth server` children (SQLite, TLS + the admin client
 * certificate), one started with BERTH_AGGREGATED_DISCOVERY=0 as the peer; each repetition runs
 * real kubectl 1.32 with a fresh `--cache-dir` and `-v=6` against each, alternating, and counts the
 * requests in its log and times the whole command (process start to exit, as a user waits).
 * Upstream equivalent: KEP 3352's motivation (one request per group-version on a cold cache).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findKubectl } from '../test/support/kubectl.ts';
import { startBerth, type BerthChild } from './lib/server.ts';
import { f, median, printTable } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const REPS = Number(process.env.BENCH_DISCOVERY_REPS ?? (QUICK ? 3 : 9));
/** Aggregated discovery must make a cold `get pods` need exactly two discovery requests. */
const TARGET_DISCOVERY_REQUESTS = 2;

interface Run { discovery: number; total: number; ms: number }

async function coldGetPods(kubectl: string, server: BerthChild): Promise<Run> {
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-kubecache-'));
  try {
    const started = performance.now();
    const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(kubectl, ['--kubeconfig', server.kubeconfig, '--cache-dir', cacheDir, 'get', 'pods', '-A', '-v=6'], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('error', reject);
      child.on('close', (c) => resolve({ code: c, stderr: err }));
    });
    const ms = performance.now() - started;
    if (code !== 0) throw new Error(`kubectl get pods failed (${code}):\n${stderr}`);
    const paths = [...stderr.matchAll(/\] (?:GET|POST|PUT|PATCH|DELETE) (https?:\/\/\S+) \d{3}/g)].map((m) => new URL(m[1]).pathname);
    // Discovery documents: /api, /apis, /api/v1, /apis/<group>[/<version>] — anything else is the list itself.
    const discovery = paths.filter((p) => /^\/api(s)?(\/[^/]+){0,2}$/.test(p) && p !== '/api/v1/pods').length;
    return { discovery, total: paths.length, ms };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

async function startWith(aggregated: boolean): Promise<BerthChild> {
  const saved = process.env.BERTH_AGGREGATED_DISCOVERY;
  // The child takes its environment at spawn: set the switch for this one start only.
  if (aggregated) delete process.env.BERTH_AGGREGATED_DISCOVERY; else process.env.BERTH_AGGREGATED_DISCOVERY = '0';
  try {
    return await startBerth({ readyTimeoutMs: 60_000 });
  } finally {
    if (saved === undefined) delete process.env.BERTH_AGGREGATED_DISCOVERY; else process.env.BERTH_AGGREGATED_DISCOVERY = saved;
  }
}

export async function run(): Promise<boolean> {
  const kubectl = await findKubectl();
  const on = await startWith(true);
  const off = await startWith(false).catch(async (e) => { await on.stop(); throw e; });
  try {
    // One warm-up each: the first kubectl start pays for page cache and the servers' first-request work.
    await coldGetPods(kubectl, on);
    await coldGetPods(kubectl, off);
    const runs: Record<'on' | 'off', Run[]> = { on: [], off: [] };
    for (let i = 0; i < REPS; i++) {
      // Alternate which goes first so machine load falls on both alike.
      const order = i % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      for (const which of order) runs[which].push(await coldGetPods(kubectl, which === 'on' ? on : off));
    }
    const row = (label: string, rs: Run[]) => [
      label, f(median(rs.map((r) => r.discovery)), 0), f(median(rs.map((r) => r.total)), 0),
      f(median(rs.map((r) => r.ms)), 0), f(Math.min(...rs.map((r) => r.ms)), 0), f(Math.max(...rs.map((r) => r.ms)), 0),
    ];
    printTable(`kubectl 1.32 \`get pods -A\` with a cold cache (fresh --cache-dir), ${REPS} repetitions each, alternating`,
      ['discovery', 'discovery requests', 'all requests', 'median ms', 'min ms', 'max ms'],
      [row('Berth, aggregated (v2)', runs.on), row('peer: legacy (BERTH_AGGREGATED_DISCOVERY=0)', runs.off)],
      ['wall time is kubectl process start to exit, over TLS with the admin client certificate']);
    const aggDiscovery = Math.max(...runs.on.map((r) => r.discovery));
    const speedup = median(runs.off.map((r) => r.ms)) / median(runs.on.map((r) => r.ms));
    console.log(`  aggregated: at most ${aggDiscovery} discovery requests (target ${TARGET_DISCOVERY_REQUESTS}); legacy/aggregated median time ${f(speedup, 2)}×`);
    return aggDiscovery === TARGET_DISCOVERY_REQUESTS;
  } finally {
    await on.stop();
    await off.stop();
  }
}
