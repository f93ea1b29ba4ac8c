/**
 * Starting and stopping a real `bin/berth server` process for the end-to-end suites. Tests reach it
 * as users do: over HTTPS with the kubeconfig it writes (its CA and admin client certificate) —
 * `kubectl`, `request` and `credentials` all come from that file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { kubectl, type KubectlOptions, type KubectlResult } from './kubectl.ts';
import { loadKubeconfig } from '../../src/client/kubeconfig-load.ts';

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
  /** The address to listen on (default 127.0.0.1): a private lab address when another network namespace must reach the server. */
  host?: string;
  /** The port to listen on (default: a free one). Servers of one HA cluster share one port on their own addresses. */
  port?: number;
  /** Milliseconds to wait for `/readyz` (default: env BERTH_E2E_READY_TIMEOUT_MS, else 30 000 — tsx's cold start is slow on a loaded machine). */
  readyTimeoutMs?: number;
}

/** The TLS material of the admin kubeconfig. */
export interface BerthCredentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** One raw API answer. */
export interface BerthResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

/** Options of {@link BerthServer.request}. */
export interface BerthRequestOptions {
  body?: string | Buffer | object;
  headers?: Record<string, string>;
  /** Send no client certificate: an anonymous request. */
  anonymous?: boolean;
  timeoutMs?: number;
}

/** A running Berth server plus helpers bound to it. */
export interface BerthServer {
  /** Base URL, e.g. `https://127.0.0.1:40123`. */
  readonly url: string;
  /** The server's `--data-dir`. */
  readonly dataDir: string;
  /** Admin kubeconfig written by the server (`DATA_DIR/kubeconfig`). */
  readonly kubeconfig: string;
  /** Discovery cache dir for kubectl; a fresh one per server start. */
  readonly cacheDir: string;
  /** The admin kubeconfig's CA, client certificate and key. */
  credentials(): BerthCredentials;
  /** One HTTPS request with the admin kubeconfig's credentials (or none: `anonymous`). */
  request(method: string, path: string, opts?: BerthRequestOptions): Promise<BerthResponse>;
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

/** The CA and admin client certificate of a kubeconfig Berth wrote. */
export function credentialsOf(kubeconfig: string): BerthCredentials {
  const c = loadKubeconfig(kubeconfig);
  if (!c.ca || !c.cert || !c.key) throw new Error(`${kubeconfig} has no CA or client certificate`);
  return { ca: c.ca, cert: c.cert, key: c.key };
}

/** One HTTPS request to `base` with the given TLS material; resolves with the whole answer. */
export function httpsRequest(base: string, method: string, p: string, tls: { ca: Buffer; cert?: Buffer; key?: Buffer }, opts: BerthRequestOptions, timeoutMs: number): Promise<BerthResponse> {
  const u = new URL(p, base);
  let body: Buffer | undefined;
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  if (opts.body !== undefined) {
    body = Buffer.isBuffer(opts.body) ? opts.body : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(body.length);
  }
  return new Promise((resolve, reject) => {
    const req = https.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, ...tls, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        let json: unknown;
        try { json = JSON.parse(buf.toString()); } catch { json = undefined; }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: buf, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${p}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
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
  const port = opts.port ?? await freePort();
  const listenHost = opts.host ?? '127.0.0.1';
  const url = `https://${listenHost}:${port}`;
  const caFile = path.join(dataDir, 'pki', 'ca.crt');
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
    const args = [...prefix, opts.command ?? 'server', '--data-dir', dataDir, '--listen', `${listenHost}:${port}`, ...(opts.extraArgs ?? [])];
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
        // The CA exists from the server's first moments; /readyz answers anyone who trusts it.
        const res = await httpsRequest(url, 'GET', '/readyz', { ca: await readFile(caFile) }, {}, 2000);
        const body = res.body.toString();
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
    credentials: () => credentialsOf(kubeconfig),
    request(method, p, ropts = {}) {
      const c = credentialsOf(kubeconfig);
      const tlsOpts = ropts.anonymous ? { ca: c.ca } : c;
      return httpsRequest(url, method, p, tlsOpts, ropts, ropts.timeoutMs ?? 30_000);
    },
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
