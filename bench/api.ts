/**
 * `api`: ConfigMap create / get / list through Berth's HTTP API, per store (SQLite, then a real etcd),
 * next to the raw store doing the same operations in the same run.
 *   (a) creates at a fixed offered load (open loop, latency from the scheduled send time);
 *   (b) creates, gets and `?limit=100` lists at maximum (closed loop, N concurrent clients).
 * On SQLite, a second table weighs the group commit: Berth (synchronous=FULL) with the WAL's fsync off
 * the event loop (the default), with SQLite's checkpoints inside COMMIT instead of on the checkpoint
 * worker, and with the fsync inside COMMIT (SQLite's own FULL), at several group windows and with NORMAL, next to raw better-sqlite3 inserts with FULL (one transaction per insert,
 * and batched per event-loop turn) and with NORMAL, all in the same run.
 */
import { Etcd3 } from 'etcd3';
import { startEtcd } from '../test/support/etcd.ts';
import { startBerth, type BerthChild } from './lib/server.ts';
import { closedLoop, keepAliveAgent, openLoop, request, type LoadResult } from './lib/load.ts';
import { openSqlitePeer } from './lib/sqlite-peer.ts';
import { f, printTable } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const RATE = 500;
const OPEN_MS = QUICK ? 3000 : 10_000;
const MAX_MS = QUICK ? 3000 : 10_000;
const LIST_MS = QUICK ? 2000 : 5000;
const CONCURRENCY = 32;
const MAX_OPS = 500_000;
const TARGET_P99: Record<string, number> = { sqlite: 20, etcd: 50 };
/** Group windows (µs) tried besides the default, each on a fresh server. */
const WINDOWS = (process.env.BENCH_API_WINDOWS ?? '250,1000').split(',').filter(Boolean).map(Number);
/** Berth's max creates/s with synchronous=NORMAL and one transaction per write (the last stop's figure). */
const PREVIOUS_NORMAL = 2843;
/**
 * The client's connections to Berth: a fixed pool, all opened in the warm-up, as client-go keeps one
 * HTTP/2 connection. With a pool that could grow (it was 256), any hiccup of the server made the
 * agent open new TLS connections for the requests waiting, each handshake ~3.7 ms of the server's
 * CPU while it was behind, so a 30 ms stall fed itself (8 → 256 connections in one run: ~0.9 s of
 * handshakes). Requests beyond the pool wait in the client; the open loop still counts their wait.
 */
const POOL = 64;

/** The operations a phase needs, implemented by Berth (HTTP) or by the raw store. */
interface Target {
  create(name: string): Promise<unknown> | unknown;
  get(name: string): Promise<unknown> | unknown;
  list(): Promise<unknown> | unknown;
}

interface PhaseResults { open: LoadResult; create: LoadResult; get: LoadResult; list: LoadResult }

function configMap(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'bench' } },
    data: { 'config.yaml': 'x'.repeat(200), mode: 'bench', index: name },
  };
}

async function phases(t: Target, warmupPrefix: string): Promise<PhaseResults> {
  // Warm-up (JIT, connections, caches); not measured.
  await closedLoop({ concurrency: POOL, durationMs: 2000, maxOps: 500, op: (i) => t.create(`${warmupPrefix}-${i}`) });
  const open = await openLoop({ rate: RATE, durationMs: OPEN_MS, op: (i) => t.create(`open-${i}`) });
  const create = await closedLoop({ concurrency: CONCURRENCY, durationMs: MAX_MS, maxOps: MAX_OPS, op: (i) => t.create(`max-${i}`) });
  const names = create.ok;
  const get = await closedLoop({
    concurrency: CONCURRENCY, durationMs: MAX_MS, maxOps: MAX_OPS,
    op: (i) => t.get(`max-${(i * 7919) % Math.max(1, names)}`),
  });
  const list = await closedLoop({ concurrency: CONCURRENCY, durationMs: LIST_MS, maxOps: MAX_OPS, op: () => t.list() });
  return { open, create, get, list };
}

function berthTarget(server: BerthChild): Target {
  const agent = keepAliveAgent(POOL, server.tls);
  const base = `${server.url}/api/v1/namespaces/default/configmaps`;
  return {
    create: (name) => request(agent, 'POST', base, JSON.stringify(configMap(name))),
    get: (name) => request(agent, 'GET', `${base}/${name}`),
    list: async () => {
      const res = await request(agent, 'GET', `${base}?limit=100`);
      JSON.parse(res.body.toString()); // a client would decode it; the peer decodes its rows too
    },
  };
}

/** The JSON Berth stores for a ConfigMap (its create response: metadata filled in), for `name`. */
async function storedValue(server: BerthChild): Promise<(name: string) => string> {
  const agent = keepAliveAgent(1, server.tls);
  const res = await request(agent, 'POST', `${server.url}/api/v1/namespaces/default/configmaps`, JSON.stringify(configMap('template')));
  agent.destroy();
  const obj = JSON.parse(res.body.toString()) as { metadata: { name: string } };
  return (name) => JSON.stringify({ ...obj, metadata: { ...obj.metadata, name } });
}

function row(phase: string, b: LoadResult, p: LoadResult): string[] {
  return [
    phase, f(b.p50, 2), f(b.p99, 2), f(b.opsPerSec, 0),
    f(p.p50, 3), f(p.p99, 3), f(p.opsPerSec, 0),
    f(b.p50 - p.p50, 2), f(b.p99 - p.p99, 2), `${b.errors + b.unfinished}/${p.errors + p.unfinished}`,
  ];
}

function report(store: string, peerName: string, b: PhaseResults, p: PhaseResults): boolean {
  const target = TARGET_P99[store];
  const pass = b.open.p99 <= target && b.open.errors === 0 && b.open.unfinished === 0;
  const errs = [b.open, b.create, b.get, b.list, p.open, p.create, p.get, p.list].map((r) => r.firstError).filter(Boolean);
  printTable(
    `api — store: ${store}   (Berth over HTTP vs peer: ${peerName}; latencies in ms)`,
    ['phase', 'Berth p50', 'Berth p99', 'Berth ops/s', 'peer p50', 'peer p99', 'peer ops/s', 'Δp50', 'Δp99', 'err B/P'],
    [
      row(`create @${RATE}/s open loop, ${OPEN_MS / 1000}s`, b.open, p.open),
      row(`create max, ${CONCURRENCY} clients`, b.create, p.create),
      row(`get max, ${CONCURRENCY} clients`, b.get, p.get),
      row(`list limit=100 max, ${CONCURRENCY} cl.`, b.list, p.list),
    ],
    [
      `Berth overhead at max: create ${f(p.create.opsPerSec / b.create.opsPerSec, 1)}x fewer ops/s than the raw store, get ${f(p.get.opsPerSec / b.get.opsPerSec, 1)}x, list ${f(p.list.opsPerSec / b.list.opsPerSec, 1)}x`,
      `target: Berth p99 ≤ ${target} ms at ${RATE} writes/s → ${f(b.open.p99, 2)} ms (${f(b.open.opsPerSec, 0)}/s achieved)  ${pass ? 'PASS' : 'FAIL'}`,
      ...errs.slice(0, 3).map((e) => `first error: ${e}`),
    ],
  );
  return pass;
}

/** A server started with extra environment (the SQLite knobs of src/storage/index.ts). */
async function startWithEnv(env: Record<string, string>): Promise<BerthChild> {
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await startBerth({ store: 'sqlite', readyTimeoutMs: 60_000 });
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
}

/** Only the two create phases (open loop at RATE, closed loop at max) for one more configuration. */
async function createPhases(t: Pick<Target, 'create'>): Promise<Pick<PhaseResults, 'open' | 'create'>> {
  await closedLoop({ concurrency: POOL, durationMs: 2000, maxOps: 500, op: (i) => t.create(`warm-${i}`) });
  const open = await openLoop({ rate: RATE, durationMs: OPEN_MS, op: (i) => t.create(`open-${i}`) });
  const create = await closedLoop({ concurrency: CONCURRENCY, durationMs: MAX_MS, maxOps: MAX_OPS, op: (i) => t.create(`max-${i}`) });
  return { open, create };
}

async function berthCreates(env: Record<string, string>): Promise<Pick<PhaseResults, 'open' | 'create'>> {
  const server = await startWithEnv(env);
  try {
    return await createPhases(berthTarget(server));
  } finally {
    await server.stop();
  }
}

function rawCreates(opts: Parameters<typeof openSqlitePeer>[0], value: (name: string) => string): Promise<Pick<PhaseResults, 'open' | 'create'>> {
  const peer = openSqlitePeer(opts);
  return createPhases({ create: (name) => peer.create(`/peer/configmaps/default/${name}`, value(name)) }).finally(() => peer.close());
}

async function sqliteRun(): Promise<boolean> {
  const server = await startBerth({ store: 'sqlite', readyTimeoutMs: 60_000 });
  let value: (name: string) => string;
  let berth: PhaseResults;
  try {
    value = await storedValue(server);
    berth = await phases(berthTarget(server), 'warm');
  } finally {
    await server.stop();
  }
  // The main peer: the same work, FULL, batched per loop turn — what Berth's store does, minus Berth.
  const peer = openSqlitePeer({ synchronous: 'FULL', batched: true });
  const prefix = '/peer/configmaps/default/';
  let p: PhaseResults;
  try {
    p = await phases({
      create: (name) => peer.create(prefix + name, value(name)),
      get: (name) => { const v = peer.get(prefix + name); if (v === undefined) throw new Error(`missing ${name}`); JSON.parse(v); },
      list: () => { for (const r of peer.list(prefix, 100)) JSON.parse(r.value ?? ''); },
    }, 'warm');
  } finally {
    peer.close();
  }
  const pass = report('sqlite', 'better-sqlite3 kine table, WAL, synchronous=FULL, batched per loop turn, in-process', berth, p);

  const rows: Array<[string, Pick<PhaseResults, 'open' | 'create'>]> = [['Berth FULL, group commit (default: 1 loop turn), WAL fsync off the loop', berth]];
  rows.push(['Berth FULL, WAL checkpoints inside COMMIT on the loop (before the worker)', await berthCreates({ BERTH_SQLITE_CHECKPOINT: 'inline' })]);
  rows.push(['Berth FULL, fsync inside COMMIT on the loop (before)', await berthCreates({ BERTH_SQLITE_WAL_SYNC: 'inline' })]);
  for (const w of WINDOWS) rows.push([`Berth FULL, group window ${w} µs`, await berthCreates({ BERTH_SQLITE_GROUP_WINDOW_US: String(w) })]);
  rows.push(['Berth NORMAL, group commit', await berthCreates({ BERTH_SQLITE_SYNCHRONOUS: 'NORMAL' })]);
  rows.push(['raw FULL, batched per loop turn', p]);
  rows.push(['raw FULL, one txn per insert', await rawCreates({ synchronous: 'FULL' }, value)]);
  rows.push(['raw NORMAL, one txn per insert', await rawCreates({ synchronous: 'NORMAL' }, value)]);
  printTable(
    `api — SQLite group commit: creates @${RATE}/s open loop and at max (${CONCURRENCY} clients); latencies in ms`,
    ['configuration', `p50 @${RATE}/s`, `p99 @${RATE}/s`, 'err', 'max creates/s', 'max p99'],
    rows.map(([name, r]) => [name, f(r.open.p50, 2), f(r.open.p99, 2), String(r.open.errors + r.open.unfinished), f(r.create.opsPerSec, 0), f(r.create.p99, 2)]),
    [
      `previous figure: Berth NORMAL, one transaction per write: ${PREVIOUS_NORMAL} creates/s max (last stop)`,
      `Berth FULL + group commit: ${f(berth.create.opsPerSec, 0)} creates/s max = ${f(berth.create.opsPerSec / PREVIOUS_NORMAL, 2)}x the previous NORMAL figure`,
    ],
  );
  return pass;
}

async function etcdRun(): Promise<boolean> {
  const etcd = await startEtcd();
  let server: BerthChild | undefined;
  let client: Etcd3 | undefined;
  try {
    server = await startBerth({ store: `etcd://${etcd.endpoint}` });
    const value = await storedValue(server);
    const berth = await phases(berthTarget(server), 'warm');
    client = new Etcd3({ hosts: `http://${etcd.endpoint}` });
    const c = client;
    const prefix = '/peer/configmaps/default/';
    const p = await phases({
      create: (name) => c.put(prefix + name).value(value(name)).exec(),
      get: async (name) => { const v = await c.get(prefix + name).string(); if (v === null) throw new Error(`missing ${name}`); JSON.parse(v); },
      list: async () => { const m = await c.getAll().prefix(prefix).limit(100).strings(); for (const v of Object.values(m)) JSON.parse(v); },
    }, 'warm');
    return report('etcd', 'etcd3 client put/get/range of the same JSON (etcd data dir in /dev/shm)', berth, p);
  } finally {
    client?.close();
    await server?.stop();
    await etcd.stop();
  }
}

export async function run(): Promise<boolean> {
  // BENCH_API_STORES=sqlite (or etcd) runs one store only.
  const stores = (process.env.BENCH_API_STORES ?? 'sqlite,etcd').split(',');
  const a = stores.includes('sqlite') ? await sqliteRun() : true;
  const b = stores.includes('etcd') ? await etcdRun() : true;
  return a && b;
}
