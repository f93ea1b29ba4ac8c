/**
 * `list`: 10,000 pods (BENCH_LIST_PODS) in namespace `x`, then full (unpaged) lists as JSON and as a
 * Table; p50 time, response size, and the server's RSS. Peer: the raw SQLite read of the same rows
 * from Berth's own state.db (read-only, WAL lets it read alongside the server) in the bench process.
 * Streaming: the server's peak RSS during one list (VmHWM reset through /proc/PID/clear_refs just
 * before) minus its RSS before, next to the body size — a JSON list streams, a Table list does not.
 * Also the same list paged (limit=500, as client-go's reflectors read), and the server's CPU per list.
 */
import Database from 'better-sqlite3';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startBerth } from './lib/server.ts';
import { closedLoop, keepAliveAgent, request } from './lib/load.ts';
import { CLOCK_TICKS_PER_S, cpuTicksOf, memOf } from './lib/proc.ts';
import { f, median, printTable } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const PODS = Number(process.env.BENCH_LIST_PODS) || (QUICK ? 2000 : 10_000);
const REPEAT = 5;
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';

function pod(name: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'bench' } },
    spec: { containers: [{ name: 'main', image: 'registry.example/bench:1' }] },
  });
}

/** Times in ms; `cpuMs`: the server's CPU per run (user + system, /proc ticks) when `pid` is given. */
interface Timed { ms: number[]; bytes: number; items: number; cpuMs?: number }

async function timeN(fn: () => Promise<{ bytes: number; items: number }>, pid?: number): Promise<Timed> {
  const ms: number[] = [];
  let last = { bytes: 0, items: 0 };
  const ticks = pid === undefined ? 0 : cpuTicksOf(pid);
  for (let i = 0; i < REPEAT; i++) {
    const s = performance.now();
    last = await fn();
    ms.push(performance.now() - s);
  }
  const cpuMs = pid === undefined ? undefined : ((cpuTicksOf(pid) - ticks) / CLOCK_TICKS_PER_S) * 1000 / REPEAT;
  return { ms, ...last, cpuMs };
}

/** The server's RSS growth (MB) at its peak during `fn`, and what `fn` returned. */
async function peakGrowth<T>(pid: number, fn: () => Promise<T>): Promise<{ growthMb: number; value: T }> {
  writeFileSync(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM to the current RSS
  const before = memOf(pid).rssMb;
  const value = await fn();
  return { growthMb: memOf(pid).hwmMb - before, value };
}

export async function run(): Promise<boolean> {
  const server = await startBerth({ store: 'sqlite' });
  const agent = keepAliveAgent(64, server.tls);
  try {
    await request(agent, 'POST', `${server.url}/api/v1/namespaces`, JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }));
    const base = `${server.url}/api/v1/namespaces/x/pods`;
    const memStart = memOf(server.pid);
    const created = await closedLoop({
      concurrency: 32, durationMs: 1_800_000, maxOps: PODS,
      op: (i) => request(agent, 'POST', base, pod(`pod-${String(i).padStart(5, '0')}`)),
    });
    if (created.ok !== PODS) throw new Error(`created ${created.ok}/${PODS} pods: ${created.firstError}`);
    const memCreated = memOf(server.pid);

    const json = await timeN(async () => {
      const res = await request(agent, 'GET', base, undefined, {}, 120_000);
      const items = (JSON.parse(res.body.toString()) as { items: unknown[] }).items.length;
      return { bytes: res.body.length, items };
    }, server.pid);
    const memJson = memOf(server.pid);
    // Paged as client-go's reflectors and kubectl page: limit=500 and continue to the end.
    const paged = await timeN(async () => {
      let cont = '';
      let bytes = 0;
      let items = 0;
      do {
        const res = await request(agent, 'GET', `${base}?limit=500${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`, undefined, {}, 120_000);
        const page = JSON.parse(res.body.toString()) as { items: unknown[]; metadata: { continue?: string } };
        bytes += res.body.length;
        items += page.items.length;
        cont = page.metadata.continue ?? '';
      } while (cont);
      return { bytes, items };
    }, server.pid);
    const table = await timeN(async () => {
      const res = await request(agent, 'GET', base, undefined, { accept: TABLE }, 120_000);
      const items = (JSON.parse(res.body.toString()) as { rows: unknown[] }).rows.length;
      return { bytes: res.body.length, items };
    }, server.pid);
    const memTable = memOf(server.pid);
    // One list each with the server's peak RSS watched (the body is held by the client, in this process).
    const sized = (headers: Record<string, string>) => async () => (await request(agent, 'GET', base, undefined, headers, 300_000)).body.length;
    const peakJson = await peakGrowth(server.pid, sized({}));
    const peakTable = await peakGrowth(server.pid, sized({ accept: TABLE }));

    // Peer: the same latest-rows-by-prefix SELECT on Berth's own file, and that plus building the body.
    const db = new Database(path.join(server.dataDir, 'state.db'), { readonly: true, fileMustExist: true });
    let peerSelect: Timed, peerBuild: Timed;
    try {
      const stmt = db.prepare(`SELECT l.* FROM log AS l JOIN
        (SELECT MAX(id) AS mid FROM log WHERE name >= @lo AND name < @hi GROUP BY name) AS m ON l.id = m.mid
        WHERE l.deleted = 0 ORDER BY l.name`);
      const range = { lo: '/registry/core/pods/x/', hi: '/registry/core/pods/x0' };
      peerSelect = await timeN(async () => {
        const rows = stmt.all(range) as { value: string }[];
        return { bytes: rows.reduce((n, r) => n + r.value.length, 0), items: rows.length };
      });
      peerBuild = await timeN(async () => {
        const rows = stmt.all(range) as { value: string }[];
        const body = JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: rows.map((r) => JSON.parse(r.value)) });
        return { bytes: Buffer.byteLength(body), items: rows.length };
      });
    } finally {
      db.close();
    }
    const mb = (n: number) => `${f(n / 1e6, 2)} MB`;
    const fmtMem = (m: { rssMb: number; hwmMb: number }) => `${f(m.rssMb, 0)} / ${f(m.hwmMb, 0)}`;
    const r = (name: string, t: Timed, mem: string) => [name, f(median(t.ms), 1), f(Math.max(...t.ms), 1), t.cpuMs === undefined ? '' : f(t.cpuMs, 0), String(t.items), mb(t.bytes), mem];
    printTable(`list — ${PODS} pods in one namespace, SQLite store (${REPEAT} runs each; ms; load avg ${os.loadavg().map((l) => f(l, 1)).join(' / ')})`,
      ['read', 'p50 ms', 'max ms', 'server CPU ms/list', 'items', 'size', 'server RSS/HWM MB after'],
      [
        ['(before creating pods)', '', '', '', '', '', fmtMem(memStart)],
        [`(after creating ${PODS} pods)`, '', '', '', '', '', fmtMem(memCreated)],
        r('Berth GET pods (JSON)', json, fmtMem(memJson)),
        r('Berth GET pods (JSON, limit=500 pages)', paged, fmtMem(memOf(server.pid))),
        r('Berth GET pods (Table)', table, fmtMem(memTable)),
        r('peer: raw SELECT latest rows', peerSelect, '(bench process)'),
        r('peer: SELECT + parse + stringify list', peerBuild, '(bench process)'),
      ],
      [`created ${PODS} pods with 32 clients: ${f(created.opsPerSec, 0)} pods/s, p50 ${f(created.p50, 1)} ms, p99 ${f(created.p99, 1)} ms`,
       `Berth JSON list is ${f(median(json.ms) / median(peerSelect.ms), 1)}x the raw SELECT, ${f(median(json.ms) / median(peerBuild.ms), 1)}x SELECT+JSON build; no target set`,
       `streaming: server peak RSS growth during one list — JSON (streamed) +${f(peakJson.growthMb, 1)} MB for a ${mb(peakJson.value)} body; Table (built whole) +${f(peakTable.growthMb, 1)} MB for ${mb(peakTable.value)}; target: JSON growth < body size → ${peakJson.growthMb * 1048576 < peakJson.value ? 'PASS' : 'FAIL'}`],
    );
    return peakJson.growthMb * 1048576 < peakJson.value;
  } finally {
    agent.destroy();
    await server.stop();
  }
}
