/**
 * `api`: ConfigMap create / get / list through Berth's HTTP API, per store (SQLite, then a real etcd),
 * next to the raw store doing the same operations in the same run.
 *   (a) creates at a fixed offered load (open loop, latency from the scheduled send time);
 *   (b) creates, gets and `?limit=100` lists at maximum (closed loop, N concurrent clients).
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
  await closedLoop({ concurrency: 8, durationMs: 2000, maxOps: 500, op: (i) => t.create(`${warmupPrefix}-${i}`) });
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
  const agent = keepAliveAgent(256, server.tls);
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

async function sqliteRun(): Promise<boolean> {
  const server = await startBerth({ store: 'sqlite' });
  try {
    const value = await storedValue(server);
    const berth = await phases(berthTarget(server), 'warm');
    const peer = openSqlitePeer();
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
    return report('sqlite', 'better-sqlite3 kine table, WAL, synchronous=NORMAL, in-process', berth, p);
  } finally {
    await server.stop();
  }
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
  const a = await sqliteRun();
  const b = await etcdRun();
  return a && b;
}
