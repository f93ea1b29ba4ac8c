/**
 * `dns`: the embedded cluster DNS server (src/dns) against dnsmasq, both on 127.0.0.1, serving the
 * same N names (`svc-I.bench.svc.cluster.local` → the same IPv4 address), loaded by dnsperf with A
 * queries cycling over every name.
 *   1. max: dnsperf closed loop (100 queries outstanding) for `seconds`: QPS, and latency under saturation;
 *   2. fixed: dnsperf at a fixed 5,000 queries/s (-Q) for `seconds`: latency when not saturated.
 * dnsperf prints only average and max latency, so it runs with -v (one line per reply with its
 * latency) into a file, parsed after the run so parsing does not compete with the server, which runs
 * in this process (fed directly from an index, no API server). dnsmasq reads a hosts file with the
 * same names; it has no upstream and reads no resolv.conf, so nothing leaves loopback.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DnsIndex } from '../src/dns/record-index.ts';
import { startDnsServer } from '../src/dns/server.ts';
import { startDnsmasq } from '../src/dns/dnsmasq.fixture.ts';
import { f, pct, printTable } from './lib/stats.ts';

const DNSPERF = '/usr/bin/dnsperf';
const FIXED_QPS = 5000;

interface PerfResult {
  qps: number;
  sent: number;
  lost: number;
  noerror: number;
  p50: number;
  p99: number;
  max: number;
}

/** The i-th service address: 10.96.0.1, 10.96.0.2, … (skipping .0 and .255). */
function ipOf(i: number): string {
  const n = Math.floor(i / 254);
  return `10.${96 + Math.floor(n / 256)}.${n % 256}.${(i % 254) + 1}`;
}

async function dnsperf(port: number, queryFile: string, outFile: string, seconds: number, maxQps?: number): Promise<PerfResult> {
  const fd = openSync(outFile, 'w');
  const args = ['-s', '127.0.0.1', '-p', String(port), '-d', queryFile, '-l', String(seconds), '-q', '100', '-t', '2', '-v', ...(maxQps ? ['-Q', String(maxQps)] : [])];
  await new Promise<void>((resolve, reject) => {
    const child = spawn(DNSPERF, args, { stdio: ['ignore', fd, 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`dnsperf exited ${code}`))));
  });
  closeSync(fd);
  const out = await readFile(outFile, 'utf8');
  const lat: number[] = [];
  let noerror = 0;
  // Per reply: `> NOERROR name A 0.000123`.
  for (const m of out.matchAll(/^> (\S+) \S+ \S+ ([\d.]+)$/gm)) {
    lat.push(Number(m[2]) * 1000);
    if (m[1] === 'NOERROR') noerror++;
  }
  lat.sort((a, b) => a - b);
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  return {
    qps: num(/Queries per second:\s+([\d.]+)/), sent: num(/Queries sent:\s+(\d+)/), lost: num(/Queries lost:\s+(\d+)/),
    noerror, p50: pct(lat, 50), p99: pct(lat, 99), max: lat[lat.length - 1] ?? NaN,
  };
}

export async function dnsBench(opts: { services: number; seconds: number }): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-dns-bench-'));
  await chmod(dir, 0o755); // dnsmasq reads the hosts file as nobody
  const index = new DnsIndex();
  const hosts: string[] = [];
  const queries: string[] = [];
  for (let i = 0; i < opts.services; i++) {
    const name = `svc-${i}`;
    index.upsertService({ metadata: { name, namespace: 'bench' }, spec: { clusterIP: ipOf(i), ports: [{ name: 'http', port: 80 }] } });
    hosts.push(`${ipOf(i)} ${name}.bench.svc.cluster.local`);
    queries.push(`${name}.bench.svc.cluster.local A`);
  }
  await writeFile(join(dir, 'hosts'), hosts.join('\n') + '\n', { mode: 0o644 });
  await writeFile(join(dir, 'queries'), queries.join('\n') + '\n');
  // dnsmasq caches hosts-file names; give it room for all of them.
  const peer = await startDnsmasq({ hostsFile: join(dir, 'hosts'), extraArgs: [`--cache-size=${Math.max(150, opts.services + 100)}`] });
  const berth = await startDnsServer({ source: index, listen: { host: '127.0.0.1', port: 0 }, upstreams: [] });
  const results: Array<[string, string, PerfResult]> = [];
  try {
    for (const [who, port] of [['berth', berth.port], ['dnsmasq', peer.port]] as const) {
      results.push([who, 'max', await dnsperf(port, join(dir, 'queries'), join(dir, `${who}-max.out`), opts.seconds)]);
      results.push([who, `${FIXED_QPS}/s`, await dnsperf(port, join(dir, 'queries'), join(dir, `${who}-fixed.out`), opts.seconds, FIXED_QPS)]);
    }
  } finally {
    await berth.close();
    await peer.stop();
    await rm(dir, { recursive: true, force: true });
  }
  printTable(`dns: ${opts.services} services, A lookups, dnsperf ${opts.seconds} s per run, 127.0.0.1 UDP`,
    ['server', 'load', 'QPS', 'p50 ms', 'p99 ms', 'max ms', 'sent', 'lost', 'NOERROR'],
    results.map(([who, load, r]) => [who, load, f(r.qps, 0), f(r.p50, 3), f(r.p99, 3), f(r.max, 2), String(r.sent), String(r.lost), String(r.noerror)]),
    ['latency: per-reply figures from dnsperf -v; "max" is 100 outstanding queries (latency there is mostly queueing).',
      'berth runs in this (bench) process; dnsmasq is a separate single-threaded process; dnsperf competes with both for CPU.']);
}

/** For bench/run.ts: 1,000 services, 10 s per run (3 s with BENCH_QUICK=1). No target: always passes. */
export async function run(): Promise<boolean> {
  await dnsBench({ services: 1000, seconds: process.env.BENCH_QUICK === '1' ? 3 : 10 });
  return true;
}
