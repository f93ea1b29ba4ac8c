/**
 * `watch`: W concurrent HTTP watchers on ConfigMaps (SQLite store) while N writes (creates, then
 * updates round-robin over K keys; each object's data carries its sequence number and send time)
 * arrive at a fixed rate. Per watcher: every sequence number must arrive exactly once. Latency:
 * from the write's HTTP response (commit acknowledged) to each watcher's receipt, and from the
 * write's scheduled send time; all clocks are this process's performance.now().
 */
import type http from 'node:http';
import { startBerth } from './lib/server.ts';
import { keepAliveAgent, openLoop, request, streamGet, type TlsCredentials } from './lib/load.ts';
import { cpuTicksOf, CLOCK_TICKS_PER_S, memOf } from './lib/proc.ts';
import { f, pct, printTable, sleep } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 100);
const WRITES = QUICK ? 10_000 : 50_000;
const KEYS = 1000;
const RATE = Number(process.env.BENCH_WATCH_RATE ?? 200);
const TARGET_P99 = 20;

interface Watcher {
  /** First receipt time per sequence number (NaN: never). */
  at: Float64Array;
  count: Uint8Array;
  unexpected: number;
  errors: string[];
  ended: boolean;
  received: number;
  req: http.ClientRequest;
}

const TYPE_RE = /^\{"type":"([A-Z]+)"/;
const SEQ_RE = /"seq":"(\d+)"/;

/** Opens one watch; resolves once the response headers (200) arrived. */
function openWatch(url: string, tls: TlsCredentials): Promise<Watcher> {
  return new Promise((resolve, reject) => {
    const w = { at: new Float64Array(WRITES).fill(NaN), count: new Uint8Array(WRITES), unexpected: 0, errors: [] as string[], ended: false, received: 0 } as Watcher;
    let pending = '';
    w.req = streamGet(url, tls, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`watch answered ${res.statusCode}`));
        res.resume();
        return;
      }
      res.setEncoding('utf8'); // a UTF-8 sequence split across chunks is reassembled
      res.on('data', (chunk: string) => {
        const now = performance.now();
        pending += chunk;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.trim() === '') continue;
          const type = TYPE_RE.exec(line)?.[1] ?? JSON.parse(line).type;
          if (type === 'BOOKMARK') continue;
          if (type !== 'ADDED' && type !== 'MODIFIED') { w.errors.push(line.slice(0, 200)); continue; }
          const m = SEQ_RE.exec(line);
          const seq = m ? Number(m[1]) : -1;
          if (seq < 0 || seq >= WRITES) { w.unexpected++; continue; }
          if (w.count[seq]++ === 0) { w.at[seq] = now; w.received++; }
        }
      });
      res.on('end', () => { w.ended = true; });
      res.on('error', (e) => { w.ended = true; w.errors.push(String(e)); });
      resolve(w);
    });
    w.req.on('error', (e) => { w.ended = true; w.errors.push(String(e)); reject(e); });
  });
}

export async function run(): Promise<boolean> {
  const server = await startBerth({ store: 'sqlite' });
  const agent = keepAliveAgent(256, server.tls);
  const watchers: Watcher[] = [];
  try {
    const base = `${server.url}/api/v1/namespaces/default/configmaps`;
    const list = JSON.parse((await request(agent, 'GET', `${base}?limit=1`)).body.toString()) as { metadata: { resourceVersion: string } };
    const rv = list.metadata.resourceVersion;
    for (let i = 0; i < WATCHERS; i++) watchers.push(await openWatch(`${base}?watch=true&resourceVersion=${rv}&timeoutSeconds=1800`, server.tls));
    await sleep(200);

    const sentAt = new Float64Array(WRITES).fill(NaN);
    const ackAt = new Float64Array(WRITES).fill(NaN);
    const keyRv: string[] = new Array(KEYS);
    const keyChain: Promise<unknown>[] = new Array(KEYS).fill(Promise.resolve());
    const t0 = performance.now();
    const interval = 1000 / RATE;
    const c0 = cpuTicksOf(server.pid);
    const self0 = process.cpuUsage();
    const writes = await openLoop({
      rate: RATE, durationMs: (WRITES * 1000) / RATE, drainMs: 30_000,
      op: (i) => {
        const k = i % KEYS;
        const name = `w-${k}`;
        // Updates of one key go one after another (each needs the previous resourceVersion).
        const p = keyChain[k].then(async () => {
          const scheduled = t0 + 5 + i * interval;
          sentAt[i] = scheduled;
          const obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...(i >= KEYS ? { resourceVersion: keyRv[k] } : {}) },
            data: { seq: String(i), sent: String(performance.timeOrigin + scheduled) } };
          const res = i < KEYS ? await request(agent, 'POST', base, JSON.stringify(obj))
            : await request(agent, 'PUT', `${base}/${name}`, JSON.stringify(obj));
          ackAt[i] = performance.now();
          keyRv[k] = (JSON.parse(res.body.toString()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
        });
        keyChain[k] = p.catch(() => undefined);
        return p;
      },
    });
    const writeSecs = (performance.now() - t0) / 1000;
    const cpu = ((cpuTicksOf(server.pid) - c0) / CLOCK_TICKS_PER_S) / writeSecs * 100;
    const self = process.cpuUsage(self0);
    const selfCpu = ((self.user + self.system) / 1e6) / writeSecs * 100;
    const expected = writes.ok;
    // Let the streams catch up: stop when all have everything or nothing moved for 5 s (≤ 60 s).
    const deadline = Date.now() + 60_000;
    let lastTotal = -1, still = Date.now();
    while (Date.now() < deadline) {
      const total = watchers.reduce((n, w) => n + w.received, 0);
      if (total >= expected * WATCHERS) break;
      if (total !== lastTotal) { lastTotal = total; still = Date.now(); } else if (Date.now() - still > 5000) break;
      await sleep(50);
    }
    const mem = memOf(server.pid);

    const fromAck = new Float64Array(expected * WATCHERS);
    const fromSend = new Float64Array(expected * WATCHERS);
    let n = 0, negative = 0;
    const missed: number[] = [], dups: number[] = [];
    for (const w of watchers) {
      let miss = 0, dup = 0;
      for (let s = 0; s < WRITES; s++) {
        if (Number.isNaN(ackAt[s])) { if (w.count[s] > 0) w.unexpected++; continue; }
        if (w.count[s] === 0) { miss++; continue; }
        dup += w.count[s] - 1;
        const d = w.at[s] - ackAt[s];
        if (d < 0) negative++;
        fromAck[n] = Math.max(0, d);
        fromSend[n] = w.at[s] - sentAt[s];
        n++;
      }
      missed.push(miss);
      dups.push(dup);
    }
    const a = fromAck.subarray(0, n).sort();
    const s = fromSend.subarray(0, n).sort();
    const totalMissed = missed.reduce((x, y) => x + y, 0);
    const totalDups = dups.reduce((x, y) => x + y, 0);
    const unexpected = watchers.reduce((x, w) => x + w.unexpected, 0);
    const errs = watchers.flatMap((w) => w.errors);
    const endedEarly = watchers.filter((w) => w.ended).length;
    const pass = pct(a, 99) <= TARGET_P99 && totalMissed === 0 && totalDups === 0 && writes.errors === 0 && writes.unfinished === 0;
    printTable(`watch — ${WATCHERS} watchers, ${WRITES} writes (${KEYS} creates, then updates) at ${RATE}/s offered, SQLite store`,
      ['measure', 'p50', 'p99', 'max', 'note'],
      [
        ['write latency (HTTP, from scheduled send) ms', f(writes.p50, 2), f(writes.p99, 2), f(writes.max, 1), `${f(writes.opsPerSec, 0)} writes/s achieved, ${writes.errors} errors, ${writes.unfinished} unfinished`],
        ['delivery: write response → watcher receipt ms', f(pct(a, 50), 2), f(pct(a, 99), 2), f(a[a.length - 1], 1), `${n} deliveries; ${negative} arrived before the write's response (counted as 0)`],
        ['delivery: scheduled send → watcher receipt ms', f(pct(s, 50), 2), f(pct(s, 99), 2), f(s[s.length - 1], 1), ''],
        ['missed events per watcher (min/max/total)', String(Math.min(...missed)), String(Math.max(...missed)), String(totalMissed), 'must be 0'],
        ['duplicated events per watcher (min/max/total)', String(Math.min(...dups)), String(Math.max(...dups)), String(totalDups), 'must be 0'],
      ],
      [
        `during writes: server CPU ${f(cpu, 0)} %, bench process CPU ${f(selfCpu, 0)} % of one core; server RSS/HWM after ${f(mem.rssMb, 0)} / ${f(mem.hwmMb, 0)} MB; streams ended early: ${endedEarly}; unexpected events: ${unexpected}`,
        ...errs.slice(0, 3).map((e) => `watch error: ${e}`),
        ...(writes.firstError ? [`first write error: ${writes.firstError}`] : []),
        `target: delivery p99 (from write response) ≤ ${TARGET_P99} ms, 0 missed, 0 duplicated → ${pass ? 'PASS' : 'FAIL'}`,
      ],
    );
    return pass;
  } finally {
    for (const w of watchers) w.req.destroy();
    agent.destroy();
    await server.stop();
  }
}
