/**
 * Starts a `bin/berth server` child on a free 127.0.0.1 port in a fresh temp data dir and waits for
 * `/readyz` to answer `ok`. Every child started here is also SIGKILLed when the bench process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH_BIN = path.join(REPO_ROOT, 'bin', 'berth');

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => { for (const c of live) c.kill('SIGKILL'); process.exit(130); });
}

export interface BerthChild {
  /** `https://127.0.0.1:PORT`. */
  url: string;
  /** DATA/kubeconfig and its CA and admin client certificate: how the benches talk to the server. */
  kubeconfig: string;
  tls: TlsCredentials;
  port: number;
  pid: number;
  dataDir: string;
  /** ms from spawn to the first 200 `ok` on /readyz. */
  startMs: number;
  logs(): string;
  /** SIGTERM (SIGKILL after 5 s), wait for exit, delete the data dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** `sqlite` (default) or `etcd://127.0.0.1:PORT`. */
  store?: string;
  readyTimeoutMs?: number;
  /** Poll interval of /readyz while starting (ms, default 5). */
  pollMs?: number;
  /** The script node runs instead of bin/berth (lib/berth-entry.ts: a compiled copy of the tree). */
  script?: string;
  /** More `berth server` flags (e.g. `--scheduler-thread true`). */
  args?: string[];
}

import { freePort, httpsRequest } from '../../test/support/berth-server.ts';
import { kubeconfigCredentials, type TlsCredentials } from './load.ts';

export { freePort };

import { sleep } from './stats.ts';
import { berthNodeFlags } from './node-flags.ts';
export { sleep };

/** One GET of /readyz (trusting the server's CA, once it exists); true iff it answered 200 `ok`. */
async function ready(url: string, caFile: string): Promise<boolean> {
  if (!existsSync(caFile)) return false;
  try {
    const res = await httpsRequest(url, 'GET', '/readyz', { ca: readFileSync(caFile) }, {}, 1000);
    return res.status === 200 && res.body.toString().trim() === 'ok';
  } catch {
    return false;
  }
}

/**
 * How a bench stops a server child it spawned (call right after spawn, so its exit is not missed):
 * SIGTERM, SIGKILL after 5 s, then its data dir goes; `live` (the caller's kill-on-exit set) forgets it.
 * Idempotent: every call returns the one stop.
 */
export function childStopper(child: ChildProcess, dataDir: string, live: Set<ChildProcess>): () => Promise<void> {
  const exited = new Promise<void>((resolve) => child.once('exit', () => { live.delete(child); resolve(); }));
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dataDir, { recursive: true, force: true });
    })();
    return stopping;
  };
  return stop;
}

export async function startBerth(opts: StartOptions = {}): Promise<BerthChild> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-'));
  const port = await freePort();
  const url = `https://127.0.0.1:${port}`;
  const caFile = path.join(dataDir, 'pki', 'ca.crt');
  const kubeconfig = path.join(dataDir, 'kubeconfig');
  const args = ['server', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`];
  if (opts.store) args.push('--store', opts.store);
  if (opts.args) args.push(...opts.args);
  let log = '';
  const started = performance.now();
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server child, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
  const nodeArgs = [...berthNodeFlags(), ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, opts.script ?? BERTH_BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  const append = (d: Buffer) => { log = (log + d.toString()).slice(-64 * 1024); };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const stop = childStopper(child, dataDir, live);
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 15_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      await stop();
      throw new Error(`berth server exited during startup:\n${log}`);
    }
    if (await ready(url, caFile) && existsSync(kubeconfig)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`berth server not ready at ${url}:\n${log}`);
    }
    await sleep(opts.pollMs ?? 5);
  }
  const startMs = performance.now() - started;
  return { url, kubeconfig, tls: kubeconfigCredentials(kubeconfig), port, pid: child.pid!, dataDir, startMs, logs: () => log, stop };
}
