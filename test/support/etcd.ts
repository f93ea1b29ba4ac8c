/**
 * Throw-away etcd for tests: one member (`startEtcd`) or a cluster of several (`startEtcdCluster`,
 * the HA suites: kill one member, restart it), each on free 127.0.0.1 ports with a fresh data dir,
 * and a `stop()` that kills every member and removes the dirs. Fails loudly when /usr/bin/etcd is
 * missing. Upstream: etcd's own integration framework (tests/framework/e2e), process-managed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Path of the etcd binary (Debian's etcd-server package). */
export const ETCD_BINARY = '/usr/bin/etcd';

/** A running test etcd. */
export interface TestEtcd {
  /** `127.0.0.1:port` of the client URL. */
  endpoint: string;
  stop(): Promise<void>;
}

/** One member of a {@link TestEtcdCluster}. */
export interface TestEtcdMember {
  name: string;
  /** `127.0.0.1:port` of its client URL. */
  endpoint: string;
  /** Whether its process runs. */
  running(): boolean;
  /** SIGKILL, and wait for the exit. Keeps the data dir (a restart rejoins with it). */
  kill9(): Promise<void>;
  /** Starts it again on its ports and data dir; resolves once it is healthy. */
  restart(): Promise<void>;
}

/** A running multi-member test etcd. */
export interface TestEtcdCluster {
  members: TestEtcdMember[];
  /** Every member's `127.0.0.1:port`, comma-separated: `--store etcd://<endpoints>`. */
  endpoints: string;
  stop(): Promise<void>;
}

/** Asks the kernel for a free port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A temp dir in RAM when possible: etcd fsyncs every write, which is slow on disk. */
function dataRoot(): string {
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return tmpdir();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Children still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

interface MemberSpec { name: string; dir: string; clientUrl: string; peerUrl: string; initialCluster: string }

/** One etcd process of a member; `exit` settles when it ends. */
function spawnMember(m: MemberSpec, state: 'new' | 'existing'): { child: ChildProcess; exit: Promise<void>; stderr: () => string } {
  const child = spawn(ETCD_BINARY, [
    '--name', m.name,
    '--data-dir', m.dir,
    '--listen-client-urls', m.clientUrl,
    '--advertise-client-urls', m.clientUrl,
    '--listen-peer-urls', m.peerUrl,
    '--initial-advertise-peer-urls', m.peerUrl,
    '--initial-cluster', m.initialCluster,
    '--initial-cluster-state', state,
    '--initial-cluster-token', `berth-test-${m.initialCluster.length}-${process.pid}`,
    '--log-level', 'error',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => { stderr = (stderr + d).slice(-4000); });
  const exit = new Promise<void>((resolve) => child.once('exit', () => { live.delete(child); resolve(); }));
  return { child, exit, stderr: () => stderr };
}

/** Resolves once `clientUrl/health` says true; rejects when the process ends or 30 s pass. */
async function waitHealthy(clientUrl: string, exited: () => boolean, stderr: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited()) throw new Error(`etcd exited during startup: ${stderr()}`);
    try {
      const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { health?: string };
      if (res.ok && body.health === 'true') return;
    } catch {
      // Not listening yet, or no leader yet.
    }
    if (Date.now() > deadline) throw new Error(`etcd at ${clientUrl} did not become healthy within ${timeoutMs / 1000} s: ${stderr()}`);
    await sleep(50);
  }
}

function checkBinary(): void {
  if (!existsSync(ETCD_BINARY)) {
    throw new Error(`${ETCD_BINARY} not found: install Debian's etcd-server package to run the etcd tests`);
  }
}

/**
 * Starts a cluster of `size` members (default 3) on loopback and resolves once every member is
 * healthy (a leader elected). A member killed with `kill9` keeps its data dir; `restart` rejoins it.
 */
export async function startEtcdCluster(size = 3): Promise<TestEtcdCluster> {
  checkBinary();
  const specs: MemberSpec[] = [];
  for (let i = 0; i < size; i++) {
    const [clientPort, peerPort] = [await freePort(), await freePort()];
    specs.push({ name: `m${i}`, dir: mkdtempSync(join(dataRoot(), `berth-etcd-m${i}-`)), clientUrl: `http://127.0.0.1:${clientPort}`, peerUrl: `http://127.0.0.1:${peerPort}`, initialCluster: '' });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peerUrl}`).join(',');
  for (const s of specs) s.initialCluster = initialCluster;
  const procs = specs.map((s) => ({ spec: s, ...spawnMember(s, 'new'), exited: false }));
  for (const p of procs) void p.exit.then(() => { p.exited = true; });

  const stop = async () => {
    for (const p of procs) if (!p.exited) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    for (const s of specs) rmSync(s.dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(procs.map((p) => waitHealthy(p.spec.clientUrl, () => p.exited, p.stderr)));
  } catch (err) {
    await stop();
    throw err;
  }
  const members: TestEtcdMember[] = procs.map((p, i) => ({
    name: p.spec.name,
    endpoint: p.spec.clientUrl.replace('http://', ''),
    running: () => !procs[i].exited,
    async kill9() {
      const cur = procs[i];
      if (!cur.exited) cur.child.kill('SIGKILL');
      await cur.exit;
    },
    async restart() {
      const cur = procs[i];
      if (!cur.exited) throw new Error(`etcd member ${cur.spec.name} is still running`);
      const next = { spec: cur.spec, ...spawnMember(cur.spec, 'existing'), exited: false };
      void next.exit.then(() => { next.exited = true; });
      procs[i] = next;
      await waitHealthy(next.spec.clientUrl, () => next.exited, next.stderr);
    },
  }));
  return { members, endpoints: members.map((m) => m.endpoint).join(','), stop };
}

/** Starts a one-member etcd and resolves once it answers on its client port. */
export async function startEtcd(): Promise<TestEtcd> {
  checkBinary();
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(dataRoot(), 'berth-etcd-'));
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const m = spawnMember({ name: 'default', dir, clientUrl, peerUrl, initialCluster: `default=${peerUrl}` }, 'new');
  let exited = false;
  void m.exit.then(() => { exited = true; });
  const stop = async () => {
    if (!exited) m.child.kill('SIGKILL');
    await m.exit;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitHealthy(clientUrl, () => exited, m.stderr, 15_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { endpoint: `127.0.0.1:${clientPort}`, stop };
}
