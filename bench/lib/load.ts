/**
 * HTTP over a keep-alive agent, and two bounded load generators:
 *  - openLoop: requests start on a fixed schedule whatever the responses do; latency counts from the
 *    scheduled send time (so queueing in the client or server shows up, no coordinated omission);
 *  - closedLoop: N workers each send the next request when the previous one answered.
 * Both stop by themselves: a fixed number of operations and a hard deadline.
 */
import http from 'node:http';
import https from 'node:https';
import { credentialsOf } from '../../test/support/berth-server.ts';
import { pct, sortNum } from './stats.ts';

/** The CA and client certificate of the kubeconfig Berth writes: benches reach it as users do. */
export interface TlsCredentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** The admin credentials of DATA/kubeconfig. */
export function kubeconfigCredentials(kubeconfig: string): TlsCredentials {
  return credentialsOf(kubeconfig);
}

/** A keep-alive agent; with `tls`, an https one presenting the client certificate. */
export function keepAliveAgent(maxSockets = 256, tls?: TlsCredentials): http.Agent {
  const opts = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets };
  return tls ? new https.Agent({ ...opts, ...tls }) : new http.Agent(opts);
}

/** A GET whose response is a stream (watch), on a connection of its own. */
export function streamGet(url: string, tls: TlsCredentials | undefined, cb: (res: http.IncomingMessage) => void): http.ClientRequest {
  return url.startsWith('https:') ? https.get(url, { agent: false, ...tls }, cb) : http.get(url, { agent: false }, cb);
}

export interface HttpResult {
  status: number;
  body: Buffer;
}

export class HttpStatusError extends Error {
  constructor(readonly status: number, body: string) { super(`HTTP ${status}: ${body.slice(0, 300)}`); }
}

/** One request; rejects on a non-2xx status, network error or `timeoutMs`. */
export function request(agent: http.Agent, method: string, url: string, body?: string | Buffer,
  headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const hdrs: Record<string, string | number> = { ...headers };
    if (body !== undefined) {
      hdrs['content-type'] ??= 'application/json';
      hdrs['content-length'] = Buffer.byteLength(body);
    }
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { method, agent, headers: hdrs, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) resolve({ status, body: buf });
        else reject(new HttpStatusError(status, buf.toString()));
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout after ${timeoutMs} ms: ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export interface LoadResult {
  /** Operations that succeeded. */
  ok: number;
  errors: number;
  /** Scheduled/started but not finished when the hard deadline hit. */
  unfinished: number;
  /** Successful operations per second over the run (first start to last completion). */
  opsPerSec: number;
  p50: number;
  p99: number;
  max: number;
  firstError?: string;
  /** Every successful operation's latency (ms), sorted: to pool runs before taking percentiles. */
  latencies: number[];
}

function summarize(lat: number[], errors: number, unfinished: number, elapsedMs: number, firstError?: string): LoadResult {
  sortNum(lat);
  return {
    ok: lat.length, errors, unfinished, opsPerSec: elapsedMs > 0 ? (lat.length * 1000) / elapsedMs : NaN,
    p50: pct(lat, 50), p99: pct(lat, 99), max: lat.length ? lat[lat.length - 1] : NaN, firstError, latencies: lat,
  };
}

export interface OpenLoopOptions {
  /** Operations per second offered. */
  rate: number;
  /** How long to offer load (ms); rate × duration operations in all. */
  durationMs: number;
  /** After the last send, wait at most this long for answers (ms, default 10 000). */
  drainMs?: number;
  /** Operation `i` (0-based). */
  op(i: number): Promise<unknown> | unknown;
}

/** Fixed-rate, open-loop load. Latency = completion − scheduled send time. */
export function openLoop(o: OpenLoopOptions): Promise<LoadResult> {
  const total = Math.round((o.rate * o.durationMs) / 1000);
  const interval = 1000 / o.rate;
  const lat: number[] = [];
  let errors = 0, sent = 0, done = 0, last = 0;
  let firstError: string | undefined;
  const t0 = performance.now() + 5;
  return new Promise((resolve) => {
    let finished = false;
    let hard: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(hard);
      resolve(summarize(lat, errors, total - done, (last || performance.now()) - t0, firstError));
    };
    const complete = () => { done++; last = performance.now(); if (done === total) finish(); };
    const tick = () => {
      if (finished) return;
      const now = performance.now();
      while (sent < total && t0 + sent * interval <= now) {
        const scheduled = t0 + sent * interval;
        const i = sent++;
        Promise.resolve().then(() => o.op(i)).then(
          () => { if (!finished) lat.push(performance.now() - scheduled); complete(); },
          (err: unknown) => { errors++; firstError ??= String(err); complete(); },
        );
      }
      if (sent < total) setTimeout(tick, Math.max(0, t0 + sent * interval - performance.now()));
      else hard = setTimeout(finish, o.drainMs ?? 10_000);
    };
    setTimeout(tick, 5);
  });
}

export interface ClosedLoopOptions {
  /** Concurrent workers. */
  concurrency: number;
  /** Stop starting new operations after this long (ms). */
  durationMs: number;
  /** And after this many operations in all. */
  maxOps: number;
  /** Operation `i` (0-based, unique across workers). */
  op(i: number): Promise<unknown> | unknown;
}

/** Max-throughput, closed-loop load. Latency = completion − start of each operation. */
export async function closedLoop(o: ClosedLoopOptions): Promise<LoadResult> {
  const lat: number[] = [];
  let errors = 0, next = 0;
  let firstError: string | undefined;
  const t0 = performance.now();
  const end = t0 + o.durationMs;
  let last = t0;
  const worker = async () => {
    while (next < o.maxOps && performance.now() < end) {
      const i = next++;
      const s = performance.now();
      try {
        await o.op(i);
        last = performance.now();
        lat.push(last - s);
      } catch (err) {
        errors++;
        firstError ??= String(err);
        // A failing synchronous peer must not spin without yielding.
        if (errors > 1000) break;
      }
    }
  };
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  return summarize(lat, errors, 0, last - t0, firstError);
}
