/**
 * `api-security`: what TLS and authorization cost a write — the `api` bench's open-loop ConfigMap
 * create at 500/s for 10 s (latency from the scheduled send time) against three servers built from
 * the same code (bench/lib/server-child.ts: startServer as `berth server` runs it, SQLite):
 *   (a) TLS + the whole authn/authz chain, requests by user `bench` (a client certificate from the
 *       cluster CA, in no group but system:authenticated) whose only right is an RBAC Role allowing
 *       `create configmaps` in `default` — kube-apiserver's path for an ordinary user;
 *   (b) plain HTTP, no authentication, authorization skipped (insecureForBenchmark): the floor;
 *   (c) TLS, the admin certificate (system:masters: allowed before any authorizer is asked).
 * (a) − (c) is authorization's share, (c) − (b) TLS's, (a) − (b) everything security adds. Each run
 * is a fresh server; runs go a b c, b c a, c a b … so machine noise falls on all three alike, and each
 * configuration's latencies are pooled over its runs for the percentiles (the median run's p99 too).
 * Then (a) and (c) run on one server at once, requests alternating: on a shared machine the runs'
 * p99 moves more than any configuration does, so authorization's share is judged there.
 * The client is HTTP/1.1 — one connection per concurrent request, where kubectl multiplexes HTTP/2
 * streams over one. Its pool is a fixed POOL connections, all opened by the warm-up (POOL concurrent
 * creates) and none during the measurement: a pool that grows mid-run charges TLS handshakes
 * (~2 ms of server CPU and ~4 ms of the client's each) to request latency, and on 2 shared cores a
 * hiccup then feeds itself — late requests open connections, handshakes make more requests late —
 * into ~1 s stalls that plain HTTP never shows. Requests beyond the pool wait in the client, which
 * the latency (from the scheduled send time) includes. What a new connection costs is measured
 * apart: 100 sequential connects after the run (TLS: full handshake with the client certificate).
 * Upstream peer: none published for this comparison.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { issueCertificate } from '../src/pki/certificates.ts';
import { childStopper, freePort, REPO_ROOT } from './lib/server.ts';
import { closedLoop, keepAliveAgent, kubeconfigCredentials, openLoop, request, type LoadResult, type TlsCredentials } from './lib/load.ts';
import { CLOCK_TICKS_PER_S, cpuTicksOf } from './lib/proc.ts';
import { f, median, pct, printTable, sleep, sortNum } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const RATE = 500;
const OPEN_MS = QUICK ? 3000 : 10_000;
const WARMUP_MS = QUICK ? 1000 : 2000;
/** Rounds of (a, b, c); BENCH_API_SECURITY_ROUNDS overrides. */
const ROUNDS = Number(process.env.BENCH_API_SECURITY_ROUNDS ?? 5);
const TARGET_PCT = 10;
/** Connections of the client's pool (see above). */
const POOL = 64;
const RBAC = 'rbac.authorization.k8s.io';
const BENCH_USER = 'bench';
const CHILD = path.join(REPO_ROOT, 'bench', 'lib', 'server-child.ts');

type Config = 'a' | 'b' | 'c';
const LABEL: Record<Config, string> = {
  a: '(a) TLS + authn + RBAC, user bench',
  b: '(b) plain HTTP, no authn/authz',
  c: '(c) TLS, admin (system:masters)',
};

interface Child {
  url: string;
  pid: number;
  dataDir: string;
  logs(): string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

/** A fresh server child on a free loopback port; resolves once it printed `ready <url>`. */
async function startChild(insecure: boolean): Promise<Child> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-sec-'));
  const port = await freePort();
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, '--import', 'tsx', CHILD, '--data-dir', dataDir, '--port', String(port)];
  if (insecure) args.push('--insecure-for-benchmark');
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let log = '';
  const stop = childStopper(child, dataDir, live);
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server child not ready after 30 s:\n${log}`)), 30_000);
    child.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-64 * 1024); });
    child.stdout!.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-64 * 1024);
      const m = /^ready (\S+)$/m.exec(log);
      if (m) { clearTimeout(t); resolve(m[1]); }
    });
    child.once('exit', () => { clearTimeout(t); reject(new Error(`server child exited during startup:\n${log}`)); });
  }).catch(async (err: unknown) => { await stop(); throw err; });
  return { url, pid: child.pid!, dataDir, logs: () => log, stop };
}

function configMap(name: string): Record<string, unknown> {
  return {
    apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'bench' } },
    data: { 'config.yaml': 'x'.repeat(200), mode: 'bench', index: name },
  };
}

/** A client certificate for `bench` (no privileged group), issued by the server's cluster CA. */
async function benchUserCredentials(dataDir: string): Promise<TlsCredentials> {
  const pki = path.join(dataDir, 'pki');
  const ca = { cert: readFileSync(path.join(pki, 'ca.crt'), 'utf8'), key: readFileSync(path.join(pki, 'ca.key'), 'utf8') };
  const pair = await issueCertificate(ca, { commonName: BENCH_USER, usage: 'client', validityDays: 1 });
  return { ca: Buffer.from(ca.cert), cert: Buffer.from(pair.cert), key: Buffer.from(pair.key) };
}

/** The Role and RoleBinding that give `bench` its one right; made on every server so the stores match. */
async function grantBench(admin: http.Agent, url: string): Promise<void> {
  const rbac = `${url}/apis/${RBAC}/v1/namespaces/default`;
  await request(admin, 'POST', `${rbac}/roles`, JSON.stringify({
    apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name: 'bench-configmaps' },
    rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['create'] }],
  }));
  await request(admin, 'POST', `${rbac}/rolebindings`, JSON.stringify({
    apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'bench-configmaps' },
    roleRef: { apiGroup: RBAC, kind: 'Role', name: 'bench-configmaps' },
    subjects: [{ kind: 'User', apiGroup: RBAC, name: BENCH_USER }],
  }));
}

/** Wall time and server CPU per new connection (TLS handshake with `creds`, or a TCP connect), `n` one after another. */
async function connectionCost(url: string, pid: number, creds: TlsCredentials | undefined, n = 100): Promise<{ wallMs: number; serverCpuMs: number }> {
  const { hostname, port } = new URL(url);
  const ctx = creds ? tls.createSecureContext(creds) : undefined;
  const c0 = cpuTicksOf(pid);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) => {
      const s: net.Socket = ctx
        ? tls.connect({ host: hostname, port: Number(port), secureContext: ctx }, () => s.end())
        : net.connect({ host: hostname, port: Number(port) }, () => s.end());
      s.on('close', () => resolve());
      s.on('error', reject);
      s.resume();
    });
  }
  const wallMs = (performance.now() - t0) / n;
  return { wallMs, serverCpuMs: ((cpuTicksOf(pid) - c0) / CLOCK_TICKS_PER_S) * 1000 / n };
}

interface Run {
  config: Config;
  round: number;
  load: number;
  result: LoadResult;
  /** The server's CPU during the open loop, % of one core, and in seconds. */
  serverCpu: number;
  serverCpuS: number;
  /** This process's (the clients') CPU during the open loop, % of one core. */
  clientCpu: number;
  connection: { wallMs: number; serverCpuMs: number };
  /** Connections opened by the warm-up, and during the measurement (0 unless one was closed). */
  pool: number;
  opened: number;
}

async function oneRun(config: Config, round: number): Promise<Run> {
  const load = os.loadavg()[0];
  const server = await startChild(config === 'b');
  const agents: http.Agent[] = [];
  try {
    const admin = keepAliveAgent(4, config === 'b' ? undefined : kubeconfigCredentials(path.join(server.dataDir, 'kubeconfig')));
    agents.push(admin);
    await grantBench(admin, server.url);
    const creds = config === 'a' ? await benchUserCredentials(server.dataDir) : config === 'c' ? kubeconfigCredentials(path.join(server.dataDir, 'kubeconfig')) : undefined;
    const agent = keepAliveAgent(POOL, creds);
    agents.push(agent);
    let connections = 0;
    const connect = (agent as unknown as { createConnection: (...a: unknown[]) => unknown }).createConnection.bind(agent);
    (agent as unknown as { createConnection: (...a: unknown[]) => unknown }).createConnection = (...a: unknown[]) => { connections++; return connect(...a); };
    const base = `${server.url}/api/v1/namespaces/default/configmaps`;
    const create = (name: string) => request(agent, 'POST', base, JSON.stringify(configMap(name)));
    // RBAC follows its informers: wait until the binding takes effect for `bench`.
    for (let i = 0; ; i++) {
      try { await create(`probe-${i}`); break; } catch (err) {
        if (i >= 200) throw new Error(`user ${BENCH_USER} still cannot create configmaps: ${String(err)}`);
        await sleep(50);
      }
    }
    await closedLoop({ concurrency: POOL, durationMs: WARMUP_MS, maxOps: 2000, op: (i) => create(`warm-${i}`) });
    await openLoop({ rate: RATE, durationMs: WARMUP_MS, op: (i) => create(`warm-open-${i}`) });
    const warmConnections = connections;
    const c0 = cpuTicksOf(server.pid);
    const u0 = process.cpuUsage();
    const t0 = performance.now();
    const result = await openLoop({ rate: RATE, durationMs: OPEN_MS, op: (i) => create(`open-${i}`) });
    const secs = (performance.now() - t0) / 1000;
    const serverCpuS = (cpuTicksOf(server.pid) - c0) / CLOCK_TICKS_PER_S;
    const serverCpu = serverCpuS / secs * 100;
    const u = process.cpuUsage(u0);
    const clientCpu = ((u.user + u.system) / 1e6) / secs * 100;
    const opened = connections - warmConnections;
    const connection = await connectionCost(server.url, server.pid, creds);
    return { config, round, load, result, serverCpu, serverCpuS, clientCpu, connection, pool: warmConnections, opened };
  } finally {
    for (const a of agents) a.destroy();
    await server.stop();
  }
}

/**
 * (a) and (c) on ONE TLS server at the same time: requests alternate between user bench and the
 * admin (whose turn comes first rotates, so neither always waits behind the other in a burst),
 * RATE/s in all for twice OPEN_MS. Noise then falls on both alike: the difference is authorization's.
 */
async function interleaved(): Promise<{ bench: number[]; admin: number[]; load: number }> {
  const load = os.loadavg()[0];
  const server = await startChild(false);
  const agents: http.Agent[] = [];
  try {
    const adminCreds = kubeconfigCredentials(path.join(server.dataDir, 'kubeconfig'));
    const setup = keepAliveAgent(4, adminCreds);
    agents.push(setup);
    await grantBench(setup, server.url);
    const users = [keepAliveAgent(POOL, await benchUserCredentials(server.dataDir)), keepAliveAgent(POOL, adminCreds)];
    agents.push(...users);
    const base = `${server.url}/api/v1/namespaces/default/configmaps`;
    const create = (u: number, name: string) => request(users[u], 'POST', base, JSON.stringify(configMap(name)));
    for (let i = 0; ; i++) {
      try { await create(0, `probe-${i}`); break; } catch (err) {
        if (i >= 200) throw new Error(`user ${BENCH_USER} still cannot create configmaps: ${String(err)}`);
        await sleep(50);
      }
    }
    const turn = (i: number) => (i + Math.floor(i / 2)) % 2;
    await closedLoop({ concurrency: POOL, durationMs: WARMUP_MS, maxOps: 2000, op: (i) => create(i % 2, `warm-${i}`) });
    await openLoop({ rate: RATE, durationMs: WARMUP_MS, op: (i) => create(turn(i), `warm-open-${i}`) });
    const lat: number[][] = [[], []];
    // Latency from the send (openLoop times from the schedule but does not split by user): the same for both.
    await openLoop({
      rate: RATE, durationMs: 2 * OPEN_MS,
      op: async (i) => {
        const sent = performance.now();
        await create(turn(i), `open-${i}`);
        lat[turn(i)].push(performance.now() - sent);
      },
    });
    return { bench: sortNum(lat[0]), admin: sortNum(lat[1]), load };
  } finally {
    for (const a of agents) a.destroy();
    await server.stop();
  }
}

const pctOver = (x: number, base: number) => ((x - base) / base) * 100;
const signed = (x: number) => `${x >= 0 ? '+' : ''}${f(x, 1)} %`;

export async function run(): Promise<boolean> {
  const runs: Run[] = [];
  const configs: Config[] = ['a', 'b', 'c'];
  for (let r = 1; r <= ROUNDS; r++) {
    // Rotated each round (a b c, b c a, c a b): no configuration always runs first, just after the
    // previous server's data dir was deleted (this machine's ext4 creates files slowly for a while after).
    for (const c of [...configs.slice((r - 1) % 3), ...configs.slice(0, (r - 1) % 3)]) {
      const x = await oneRun(c, r);
      runs.push(x);
      const o = x.result;
      console.log(`  round ${r} ${LABEL[c]}: p50 ${f(o.p50, 2)} p99 ${f(o.p99, 2)} max ${f(o.max, 1)} ms, ${o.ok} ok / ${o.errors} failed / ${o.unfinished} unfinished; server CPU ${f(x.serverCpu, 0)} %, bench CPU ${f(x.clientCpu, 0)} %; new connection ${f(x.connection.wallMs, 2)} ms, server CPU ${f(x.connection.serverCpuMs, 2)} ms; load ${f(x.load, 2)}`);
    }
  }

  printTable(`api-security — each run (create ConfigMap, open loop ${RATE}/s for ${OPEN_MS / 1000} s, SQLite; ms)`,
    ['run', 'p50', 'p99', 'max', 'sent', 'failed', 'server CPU', 'bench CPU', 'conns warm+run', 'new conn. ms / server CPU ms', 'load 1m'],
    runs.map((x) => [
      `${x.round} ${LABEL[x.config]}`, f(x.result.p50, 2), f(x.result.p99, 2), f(x.result.max, 1),
      String(x.result.ok + x.result.errors + x.result.unfinished), String(x.result.errors + x.result.unfinished),
      `${f(x.serverCpu, 0)} %`, `${f(x.clientCpu, 0)} %`, `${x.pool}+${x.opened}`, `${f(x.connection.wallMs, 2)} / ${f(x.connection.serverCpuMs, 2)}`, f(x.load, 2),
    ]));

  // Pooled over the rounds: one percentile of all of a configuration's latencies.
  const pooled = (c: Config) => {
    const mine = runs.filter((x) => x.config === c);
    const lat = sortNum(mine.flatMap((x) => x.result.latencies));
    const sent = mine.reduce((s, x) => s + x.result.ok + x.result.errors + x.result.unfinished, 0);
    const failed = mine.reduce((s, x) => s + x.result.errors + x.result.unfinished, 0);
    const cpu = mine.reduce((s, x) => s + x.serverCpu, 0) / mine.length;
    // Server CPU per request (µs): steadier than p99 on a shared machine, whose stalls decide the tail.
    const cpuPerReq = mine.reduce((s, x) => s + x.serverCpuS * 1e6, 0) / mine.reduce((s, x) => s + x.result.ok, 0);
    // The median run's p99: one run caught by another process's burst moves it less than the pooled p99.
    const p99Median = median(mine.map((x) => x.result.p99));
    return { p50: pct(lat, 50), p99: pct(lat, 99), p99Median, max: lat.at(-1) ?? NaN, sent, failed, cpu, cpuPerReq, firstError: mine.map((x) => x.result.firstError).find(Boolean) };
  };
  const P = { a: pooled('a'), b: pooled('b'), c: pooled('c') };
  const both = await interleaved();
  const q = (xs: number[], p: number) => pct(xs, p);
  const authzTogether = pctOver(q(both.bench, 99), q(both.admin, 99));
  printTable(`api-security — (a) and (c) on one TLS server, requests alternating, ${RATE}/s in all for ${(2 * OPEN_MS) / 1000} s (ms from the send; load ${f(both.load, 2)})`,
    ['user', 'requests', 'p50', 'p90', 'p99', 'max'],
    [
      ['bench (RBAC Role)', String(both.bench.length), f(q(both.bench, 50), 3), f(q(both.bench, 90), 3), f(q(both.bench, 99), 2), f(both.bench.at(-1) ?? NaN, 1)],
      ['admin (system:masters)', String(both.admin.length), f(q(both.admin, 50), 3), f(q(both.admin, 90), 3), f(q(both.admin, 99), 2), f(both.admin.at(-1) ?? NaN, 1)],
      ['authorization adds', '', signed(pctOver(q(both.bench, 50), q(both.admin, 50))), signed(pctOver(q(both.bench, 90), q(both.admin, 90))), signed(authzTogether), ''],
    ]);
  const authz = pctOver(P.a.p99Median, P.c.p99Median);
  const all = pctOver(P.a.p99Median, P.b.p99Median);
  const noFailures = P.a.failed + P.b.failed + P.c.failed === 0;
  // Authorization's share is judged where noise cannot tell the two apart: on one server at once.
  const authzPass = authzTogether <= TARGET_PCT && noFailures;
  const allPass = all <= TARGET_PCT && noFailures;
  printTable(`api-security — pooled over ${ROUNDS} round(s) per configuration (ms)`,
    ['configuration', 'p50', 'p99', 'median run p99', 'max', 'sent/failed', 'server CPU', 'per request', 'Δp50 vs (b)', 'Δp99 vs (b)', 'Δp99 vs (c)'],
    configs.map((c) => [
      LABEL[c], f(P[c].p50, 2), f(P[c].p99, 2), f(P[c].p99Median, 2), f(P[c].max, 1), `${P[c].sent}/${P[c].failed}`, `${f(P[c].cpu, 0)} %`, `${f(P[c].cpuPerReq, 0)} µs`,
      c === 'b' ? '' : signed(pctOver(P[c].p50, P.b.p50)), c === 'b' ? '' : `${signed(pctOver(P[c].p99, P.b.p99))} / ${signed(pctOver(P[c].p99Median, P.b.p99Median))}`,
      c === 'a' ? `${signed(pctOver(P.a.p99, P.c.p99))} / ${signed(authz)}` : '',
    ]),
    [
      'Δp99: pooled / median run.',
      `target: authorization adds ≤ ${TARGET_PCT} % at p99 — (a) vs (c) on one server, requests alternating: ${signed(authzTogether)}  ${authzPass ? 'PASS' : 'MISS'}`,
      `        (a) vs (c) on separate servers, median run's p99: ${signed(authz)} (machine noise: the runs' p99 spread is printed above)`,
      `        (a) vs (b), everything security adds (TLS + authn + authz), median run's p99: ${signed(all)}  ${allPass ? 'PASS' : 'MISS'}`,
      `        TLS alone, (c) vs (b): ${signed(pctOver(P.c.p99Median, P.b.p99Median))} at p99, ${signed(pctOver(P.c.p50, P.b.p50))} at p50`,
      `server CPU per request: authorization ${signed(pctOver(P.a.cpuPerReq, P.c.cpuPerReq))} ((a) vs (c)), TLS ${signed(pctOver(P.c.cpuPerReq, P.b.cpuPerReq))} ((c) vs (b)), all ${signed(pctOver(P.a.cpuPerReq, P.b.cpuPerReq))}`,
      `server CPU is % of one core during the open loop; the clients (TLS too) run in this process on the same ${os.cpus().length} cores`,
      ...(['a', 'b', 'c'] as Config[]).filter((c) => P[c].firstError).map((c) => `first error ${LABEL[c]}: ${P[c].firstError}`),
    ]);
  return authzPass && allPass;
}
