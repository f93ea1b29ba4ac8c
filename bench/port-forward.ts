/**
 * `port-forward`: what a port-forward into a pod's network namespace costs on the agent's side.
 * A network namespace with two Node servers in it (echo on 127.0.0.1:7101, a byte-counting sink on
 * :7102; a child process of their own), then, with the agent's own dialer (src/agent/streams/pod-dialer.ts):
 *   (a) dial + a 1-byte round trip + close, one at a time (N) and 20 at once;
 *   (b) one connection: 256 MiB into the sink (MB/s), 64 MiB echoed back (MB/s each way);
 *   (c) the same through the agent server as kubectl 1.32 reaches it (the websocket tunnel, SPDY
 *       inside): a new forwarded connection with a 1-byte round trip, and 64 MiB echoed.
 * Throughputs are the median of ROUNDS runs after a warm-up (one run swings with the JIT and load).
 * Peer: (a) and (b) to the same servers in another child on the host's own loopback, with
 * net.connect: the floor of any dialer.
 * Needs root (ip netns). Everything it makes is removed (namespace, servers, temp dir).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { startAgentServer, type AgentServer } from '../src/agent/streams/agent-server.ts';
import { fakeResolver } from '../src/agent/streams/fake-resolver.fixture.ts';
import { dialPod } from '../src/agent/streams/pod-dialer.ts';
import { connectPortForward, roundTrip } from '../src/agent/streams/portforward-client.fixture.ts';
import { f, median, pct, printTable, sortNum } from './lib/stats.ts';

const QUICK = process.env.BENCH_QUICK === '1';
const N = QUICK ? 30 : 200;
const SINK_BYTES = (QUICK ? 32 : 256) << 20;
const ECHO_BYTES = (QUICK ? 8 : 64) << 20;
const NETNS = `berth-bench-pf-${process.pid}`;
const ECHO_PORT = 7101;
const SINK_PORT = 7102;
const ROUNDS = 3;

/** Echo and sink on the ports in argv (0: any free one); prints `ready ECHO SINK`. */
const SERVERS = `
const net = require('net');
const echo = net.createServer((c) => c.pipe(c)).listen(Number(process.argv[1]), '127.0.0.1', () => {
  const sink = net.createServer({ allowHalfOpen: true }, (c) => { let n = 0; c.on('data', (d) => (n += d.length)); c.on('end', () => c.end(String(n))); });
  sink.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('ready', echo.address().port, sink.address().port));
});
`;

/** Starts SERVERS (argv before: e.g. \`ip netns exec NAME\`); resolves with the process and its ports. */
async function startServers(prefix: string[], ports: [number, number]): Promise<{ proc: ChildProcess; echo: number; sink: number }> {
  const argv = [...prefix, process.execPath, '-e', SERVERS, String(ports[0]), String(ports[1])];
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => { proc.stdout!.once('data', (d: Buffer) => resolve(d.toString())); proc.once('exit', reject); });
  const [, echo, sink] = line.trim().split(' ');
  return { proc, echo: Number(echo), sink: Number(sink) };
}

type Dial = (port: number) => Promise<Duplex>;

/** Writes `body` (or `bytes` zeros in 1 MiB chunks), half-closes, and collects the reply. */
async function exchange(conn: Duplex, bytes: number, keep: boolean): Promise<{ reply: Buffer; ms: number }> {
  const t0 = performance.now();
  const chunks: Buffer[] = [];
  let got = 0;
  conn.on('data', (c: Buffer) => { got += c.length; if (keep) chunks.push(c); });
  const done = new Promise<void>((resolve, reject) => { conn.once('end', resolve); conn.once('close', resolve); conn.once('error', reject); });
  const chunk = Buffer.alloc(Math.min(bytes, 1 << 20));
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!conn.write(chunk.subarray(0, Math.min(chunk.length, bytes - sent)))) await new Promise((r) => conn.once('drain', r));
  }
  conn.end();
  await done;
  conn.destroy();
  return { reply: keep ? Buffer.concat(chunks) : Buffer.alloc(got), ms: performance.now() - t0 };
}

async function latencies(dial: Dial, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const c = await dial(ECHO_PORT);
    const { reply } = await exchange(c, 1, true);
    if (reply.length !== 1) throw new Error(`echo gave ${reply.length} bytes`);
    out.push(performance.now() - t0);
  }
  return sortNum(out);
}

async function burst(dial: Dial, count: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(Array.from({ length: count }, async () => exchange(await dial(ECHO_PORT), 1, true)));
  return performance.now() - t0;
}

/** MB/s into the sink, and of an echo (bytes each way over the time of the whole exchange): medians. */
async function throughput(dial: Dial): Promise<{ sink: number; echo: number }> {
  const sink: number[] = [];
  const echo: number[] = [];
  for (let i = 0; i <= ROUNDS; i++) {
    const s = await exchange(await dial(SINK_PORT), SINK_BYTES, true);
    if (Number(s.reply.toString()) !== SINK_BYTES) throw new Error(`sink counted ${s.reply.toString()} bytes`);
    const e = await exchange(await dial(ECHO_PORT), ECHO_BYTES, false);
    if (e.reply.length !== ECHO_BYTES) throw new Error(`echo gave ${e.reply.length} bytes`);
    if (i === 0) continue; // the warm-up
    sink.push(SINK_BYTES / 1e6 / (s.ms / 1000));
    echo.push(ECHO_BYTES / 1e6 / (e.ms / 1000));
  }
  return { sink: median(sink), echo: median(echo) };
}

export async function run(): Promise<boolean> {
  if (process.getuid?.() !== 0) throw new Error('port-forward bench needs root (ip netns)');
  const children: ChildProcess[] = [];
  let agent: AgentServer | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-pf-'));
  try {
    execFileSync('ip', ['netns', 'add', NETNS]);
    execFileSync('ip', ['-n', NETNS, 'link', 'set', 'lo', 'up']);
    children.push((await startServers(['ip', 'netns', 'exec', NETNS], [ECHO_PORT, SINK_PORT])).proc);
    // The floor: the same two servers on the host's loopback.
    const floor = await startServers([], [0, 0]);
    children.push(floor.proc);
    const hostPorts: Record<number, number> = { [ECHO_PORT]: floor.echo, [SINK_PORT]: floor.sink };
    const netnsPath = `/var/run/netns/${NETNS}`;
    const pod: Dial = (port) => dialPod({ netnsPath }, port);
    const loopback: Dial = (port) => new Promise((resolve, reject) => { const s = net.connect(hostPorts[port]!, '127.0.0.1', () => resolve(s)); s.once('error', reject); });

    agent = await startAgentServer({ host: '127.0.0.1', port: 0, resolver: { ...fakeResolver(dir), portForwardTarget: async () => ({ uid: 'bench', netnsPath }) } });
    const client = await connectPortForward(`${agent.url}/portForward/default/web`, 'websocket');
    const tunnel = {
      async latency(count: number): Promise<number[]> {
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t0 = performance.now();
          const { reply, error } = await roundTrip(client.forward(ECHO_PORT), Buffer.from('x'));
          if (reply.length !== 1 || error) throw new Error(`tunnel echo: ${reply.length} bytes, ${error}`);
          out.push(performance.now() - t0);
        }
        return sortNum(out);
      },
      async echo(): Promise<number> {
        const rates: number[] = [];
        for (let i = 0; i <= ROUNDS; i++) {
          const t0 = performance.now();
          const { reply } = await roundTrip(client.forward(ECHO_PORT), Buffer.alloc(ECHO_BYTES));
          if (reply.length !== ECHO_BYTES) throw new Error(`tunnel echo gave ${reply.length} bytes`);
          if (i > 0) rates.push(ECHO_BYTES / 1e6 / ((performance.now() - t0) / 1000)); // after a warm-up
        }
        return median(rates);
      },
    };

    // Warm-up (the helper's or relay's first start, JIT), then the figures.
    await latencies(pod, 5);
    await latencies(loopback, 5);
    const podLat = await latencies(pod, N);
    const hostLat = await latencies(loopback, N);
    const podBurst = await burst(pod, 20);
    const hostBurst = await burst(loopback, 20);
    const podTp = await throughput(pod);
    const hostTp = await throughput(loopback);
    await tunnel.latency(5);
    const tunLat = await tunnel.latency(N);
    const tunEcho = await tunnel.echo();
    client.close();

    printTable(`port-forward — dialing into a pod network namespace (${N} one at a time)`,
      ['measure', 'pod netns (dialPod)', 'host loopback (floor)'],
      [
        ['dial + 1-byte echo + close, p50 (ms)', f(pct(podLat, 50), 2), f(pct(hostLat, 50), 2)],
        ['dial + 1-byte echo + close, p99 (ms)', f(pct(podLat, 99), 2), f(pct(hostLat, 99), 2)],
        ['20 at once, all done (ms)', f(podBurst, 1), f(hostBurst, 1)],
        [`${SINK_BYTES >> 20} MiB into a sink (MB/s, median of ${ROUNDS})`, f(podTp.sink, 0), f(hostTp.sink, 0)],
        [`${ECHO_BYTES >> 20} MiB echoed (MB/s each way, median of ${ROUNDS})`, f(podTp.echo, 0), f(hostTp.echo, 0)],
      ]);
    printTable('port-forward — through the agent server (websocket tunnel + SPDY, as kubectl 1.32)',
      ['measure', 'p50', 'p99'],
      [
        ['new forwarded connection + 1-byte echo (ms)', f(pct(tunLat, 50), 2), f(pct(tunLat, 99), 2)],
        [`${ECHO_BYTES >> 20} MiB echoed (MB/s each way, median of ${ROUNDS})`, f(tunEcho, 0), ''],
      ]);
    return true;
  } finally {
    await agent?.close();
    for (const c of children) c.kill('SIGKILL');
    try { execFileSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' }); } catch { /* gone */ }
    rmSync(dir, { recursive: true, force: true });
  }
}
