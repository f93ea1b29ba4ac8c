/**
 * Starting and stopping a real `bin/berth server` process for the end-to-end suites.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectl, type KubectlOptions, type KubectlResult } from './kubectl.ts';

/** Options for {@link startBerth}. */
export interface StartBerthOptions {
  /** `sqlite` or an `etcd://HOST:PORT` URL; omitted → the server's default store. */
  store?: 'sqlite' | string;
  /** Use this data dir instead of a fresh temporary one (it is then not deleted by `cleanup`). */
  dataDir?: string;
  /** `server` (default) or `up` (the all-in-one single-node cluster). */
  command?: 'server' | 'up';
  /** More arguments for the sub-command (e.g. CIDRs for `up`). */
  extraArgs?: string[];
  /** Milliseconds to wait for `/readyz` (default: env BERTH_E2E_READY_TIMEOUT_MS, else 30 000 — tsx's cold start is slow on a loaded machine). */
  readyTimeoutMs?: number;
}

/** A running Berth server plus helpers bound to it. */
export interface BerthServer {
  /** Base URL, e.g. `http://127.0.0.1:40123`. */
  readonly url: string;
  /** The server's `--data-dir`. */
  readonly dataDir: string;
  /** Admin kubeconfig written by the server (`DATA_DIR/kubeconfig`). */
  readonly kubeconfig: string;
  /** Discovery cache dir for kubectl; a fresh one per server start. */
  readonly cacheDir: string;
  /** Run kubectl against this server (kubeconfig and cache dir filled in). */
  kubectl(args: string[], opts?: Omit<KubectlOptions, 'kubeconfig' | 'cacheDir'>): Promise<KubectlResult>;
  /** Server stdout+stderr captured so far (tail). */
  logs(): string;
  /** How the last server process ended (undefined while it runs or before it ever stopped). */
  lastExit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** SIGTERM and wait for exit (SIGKILL after 10 s). Keeps the data dir. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit. Keeps the data dir. */
  kill9(): Promise<void>;
  /** Stop (if running) and start again on the same port and data dir; waits for /readyz. */
  restart(): Promise<void>;
  /** Stop and delete every temporary directory this helper created. */
  cleanup(): Promise<void>;
}

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BERTH_BIN = path.join(REPO_ROOT, 'bin', 'berth');
const LOG_LIMIT = 256 * 1024;

/** Children still running, killed if the test process exits without stopping them. */
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** A port that was free on 127.0.0.1 a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      if (addr === null || typeof addr === 'string') return reject(new Error('no port'));
      srv.close(() => resolve(addr.port));
    });
  });
}

async function berthCommand(): Promise<{ cmd: string; prefix: string[] }> {
  try {
    await access(BERTH_BIN, constants.R_OK);
  } catch {
    throw new Error(`${BERTH_BIN} does not exist: the Berth server has not been built yet`);
  }
  try {
    await access(BERTH_BIN, constants.X_OK);
    return { cmd: BERTH_BIN, prefix: [] };
  } catch {
    return { cmd: process.execPath, prefix: ['--import', 'tsx', BERTH_BIN] };
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function waitExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Spawn `bin/berth server --data-dir DIR --listen 127.0.0.1:PORT [--store S]` on a free port in a
 * fresh temporary data dir and wait until `GET /readyz` answers 200. Rejects (with the server's
 * output) if the process exits early or is not ready within the timeout.
 */
export async function startBerth(opts: StartBerthOptions = {}): Promise<BerthServer> {
  const { cmd, prefix } = await berthCommand();
  const ownDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'berth-e2e-data-')));
  const tempDirs: string[] = ownDataDir ? [dataDir] : [];
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const kubeconfig = path.join(dataDir, 'kubeconfig');
  const readyTimeoutMs = opts.readyTimeoutMs ?? (Number(process.env.BERTH_E2E_READY_TIMEOUT_MS) || 30_000);
  let cacheDir = '';
  let child: ChildProcess | undefined;
  let log = '';
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  const append = (d: Buffer): void => {
    log += d.toString();
    if (log.length > LOG_LIMIT) log = log.slice(-LOG_LIMIT);
  };

  async function launch(): Promise<void> {
    cacheDir = await mkdtemp(path.join(os.tmpdir(), 'berth-e2e-kubecache-'));
    tempDirs.push(cacheDir);
    const args = [...prefix, opts.command ?? 'server', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, ...(opts.extraArgs ?? [])];
    if (opts.store !== undefined) args.push('--store', opts.store);
    log += `\n[e2e] starting: ${cmd} ${args.join(' ')}\n`;
    const proc = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
    child = proc;
    exitInfo = undefined;
    live.add(proc);
    proc.stdout?.on('data', append);
    proc.stderr?.on('data', append);
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      exitInfo = { code, signal };
      log += `\n[e2e] server exited code=${code} signal=${signal}\n`;
    });
    proc.on('error', (err) => (log += `\n[e2e] spawn error: ${String(err)}\n`));

    const deadline = Date.now() + readyTimeoutMs;
    let lastError = '';
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`berth server exited before becoming ready (${url}).\n--- server output ---\n${log}`);
      }
      try {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) });
        const body = await res.text();
        if (res.status === 200) {
          try {
            await access(kubeconfig, constants.R_OK);
            return;
          } catch {
            lastError = `/readyz is 200 but ${kubeconfig} does not exist`;
          }
        } else {
          lastError = `/readyz answered ${res.status}: ${body.slice(0, 200)}`;
        }
      } catch (err) {
        lastError = String(err);
      }
      await sleep(100);
    }
    await terminate(proc, 'SIGKILL');
    throw new Error(`berth server not ready within ${readyTimeoutMs} ms at ${url} (last: ${lastError}).\n--- server output ---\n${log}`);
  }

  async function terminate(proc: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill(signal);
    const exited = waitExit(proc);
    if (signal === 'SIGKILL') return exited;
    const timer = setTimeout(() => {
      log += '\n[e2e] server ignored SIGTERM for 10 s; sending SIGKILL\n';
      proc.kill('SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(timer);
  }

  await launch();

  const server: BerthServer = {
    url,
    dataDir,
    kubeconfig,
    get cacheDir() {
      return cacheDir;
    },
    kubectl: (args, kopts = {}) => kubectl(args, { ...kopts, kubeconfig, cacheDir }),
    logs: () => log,
    lastExit: () => exitInfo,
    stop: () => terminate(child, 'SIGTERM'),
    kill9: () => terminate(child, 'SIGKILL'),
    async restart() {
      await terminate(child, 'SIGTERM');
      await launch();
    },
    async cleanup() {
      await terminate(child, 'SIGTERM');
      await Promise.all(tempDirs.map((d) => rm(d, { recursive: true, force: true })));
    },
  };
  return server;
}
