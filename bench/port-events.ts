/**
 * `port-events`: what a Scheduled event costs the API server's thread when it crosses the scheduler
 * thread's port — one `create` per request (512 in flight) against `createMany` batches of 256 (16
 * in flight). One process, as in `berth server`: a real SQLite server (no controllers) on the main
 * thread serving a PortWorker whose thread writes N Events (default 10,000) per round; rounds of the
 * two modes alternate (MODES, default single,many,many,single,single,many,many,single). Printed per
 * round: wall time and rate, the main thread's CPU per event (/proc ticks of the thread) and the
 * whole process's (both threads), with the load average. Run directly (not in bench/run.ts):
 * `node --import tsx bench/port-events.ts`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../src/server/berth-server.ts';
import { createLogger } from '../src/util/log.ts';
import { LocalClient } from '../src/client/local-client.ts';
import { PortWorker } from '../src/client/port-worker.ts';
import { R } from '../src/client/client.ts';

const N = Number(process.env.N ?? 10_000);
const MODES = (process.env.MODES ?? 'single,many,many,single,single,many,many,single').split(',');

/** utime + stime of one thread of this process, in clock ticks (10 ms). */
function threadTicks(tid: number): number {
  const f = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

const dataDir = await mkdtemp(join(tmpdir(), 'bench-port-events-'));
const log = createLogger({ level: 'warn' });
const server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log, controllers: false });
try {
  const local = new LocalClient(server.registry);
  await local.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'sched' } });
  const w = new PortWorker({ entry: new URL('./lib/port-events-worker.ts', import.meta.url), client: local, log, name: 'port-events', data: { n: N } });
  await w.ready;
  const stored = async () => (await local.list(R.events, 'sched')).items.length;
  let expected = 0;
  for (const mode of MODES) {
    const m0 = threadTicks(process.pid);
    const c0 = process.cpuUsage();
    const ms = (await w.call(mode)) as number;
    const main = threadTicks(process.pid) - m0;
    const c = process.cpuUsage(c0);
    expected += N;
    console.log(`${mode.padEnd(6)} ${N} events: ${ms.toFixed(0)} ms (${Math.round((N / ms) * 1000)}/s); µs of CPU an event: main thread ${Math.round((main * 10_000) / N)}, process ${Math.round((c.user + c.system) / N)}; load ${loadavg()[0]!.toFixed(1)}`);
  }
  const n = await stored();
  console.log(`${n} of ${expected} events stored`);
  await w.stop();
  if (n !== expected) process.exitCode = 1;
} finally {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
}
