/**
 * `bin/berth up` (single-node cluster in one process) for the node benchmarks: start it on a free
 * 127.0.0.1 port with the bench CIDRs, create process pods through the API, watch them, and tear
 * everything down: pods deleted through the API and waited for, then berth stopped, data dir removed,
 * and the host network state berth up leaves (bridge, routes, nft table) removed.
 * Also /proc helpers: processes by cmdline, start times on this process's clock, ancestors, PSS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { freePort, REPO_ROOT } from './server.ts';
import { HttpStatusError, keepAliveAgent, kubeconfigCredentials, request, streamGet, type TlsCredentials } from './load.ts';
import { CLOCK_TICKS_PER_S, pidsWhoseCmdlineHas } from './proc.ts';
import { sleep } from './stats.ts';
import { berthNodeFlags } from './node-flags.ts';

const BERTH_BIN = path.join(REPO_ROOT, 'bin', 'berth');
export const CLUSTER_CIDR = '10.48.0.0/16';
export const POD_CIDR = '10.48.0.0/24';
export const SERVICE_CIDR = '10.49.0.0/16';
export const NODE_NAME = 'bench-node';
const PODS = '/api/v1/namespaces/default/pods';

const live = new Set<ChildProcess>();
process.on('exit', () => { for (const c of live) c.kill('SIGKILL'); });

/** Milliseconds on CLOCK_MONOTONIC (process.hrtime), the clock /proc start times are on. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Pod options the benches vary. */
export interface PodOptions {
  /** The host's network, as a PM2 process has (no network namespace, no CNI). */
  hostNetwork?: boolean;
}

/** A process pod running `command` directly on the host, no DNS to the host's resolver. */
export function podManifest(name: string, command: string[], opts: PodOptions = {}): object {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name },
    spec: {
      dnsPolicy: 'None', dnsConfig: { nameservers: ['127.0.0.1'] },
      ...(opts.hostNetwork ? { hostNetwork: true } : {}),
      containers: [{ name: 'main', image: 'host', command }],
    },
  };
}

export interface UpCluster {
  /** The API server URL from DATA_DIR/kubeconfig. */
  url: string;
  /** The kubeconfig's CA and admin client certificate. */
  tls: TlsCredentials;
  pid: number;
  dataDir: string;
  agent: http.Agent;
  logs(): string;
  alive(): boolean;
  createPod(name: string, command: string[], opts?: PodOptions): Promise<void>;
  /** Deletes every pod in `default` and waits until the API has none and their netns/cgroups are gone. */
  deleteAllPods(timeoutMs?: number): Promise<void>;
  /** deleteAllPods, SIGTERM (SIGKILL after 5 s), remove data dir and host network leftovers. Idempotent. */
  stop(): Promise<void>;
}

function run(cmd: string, args: string[]): void {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); } catch { /* ignore */ }
}

/** Pod uids of one berth up data dir (its agent's per-pod dirs). */
function podUids(dataDir: string): string[] {
  try { return readdirSync(path.join(dataDir, 'agent', 'pods')); } catch { return []; }
}

/** netns name the agent gives a pod (berth- + first 16 hex digits of the uid). */
function netnsOf(uid: string): string {
  return `berth-${uid.replace(/-/g, '').slice(0, 16)}`;
}

function berthNetns(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n')
      .map((l) => l.split(' ')[0]).filter((n) => n.startsWith('berth-'));
  } catch { return []; }
}

/** Cgroup dirs of these pods under /sys/fs/cgroup/{*,}/berth/pod-UID, deepest first. */
function berthCgroupDirs(uids: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let ents;
    try { ents = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) if (e.isDirectory()) { walk(path.join(d, e.name)); out.push(path.join(d, e.name)); }
  };
  const roots = ['/sys/fs/cgroup/berth'];
  try { for (const c of readdirSync('/sys/fs/cgroup')) roots.push(path.join('/sys/fs/cgroup', c, 'berth')); } catch { /* none */ }
  for (const r of roots) {
    for (const u of uids) {
      const d = path.join(r, `pod-${u}`);
      if (existsSync(d)) { walk(d); out.push(d); }
    }
  }
  return out;
}

/** Host network state `berth up` leaves behind (errors ignored). */
export function cleanupHostNetwork(): void {
  run('ip', ['link', 'del', 'berth0']);
  run('ip', ['route', 'del', 'unreachable', CLUSTER_CIDR]);
  run('ip', ['route', 'del', SERVICE_CIDR]);
  run('nft', ['delete', 'table', 'inet', 'berth-egress']);
}

export async function startUp(): Promise<UpCluster> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-up-'));
  const port = await freePort();
  const args = ['up', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`, '--cluster-cidr', CLUSTER_CIDR,
    '--pod-cidr', POD_CIDR, '--service-cidr', SERVICE_CIDR, '--node-name', NODE_NAME];
  const nodeArgs = [...berthNodeFlags(), ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, BERTH_BIN, ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let log = '';
  const append = (d: Buffer) => { log = (log + d.toString()).slice(-256 * 1024); };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { live.delete(child); resolve(); }));
  const alive = () => child.exitCode === null && child.signalCode === null;
  // Both agents exist from the start (stop() destroys them); they get the kubeconfig's credentials once it is written.
  let agent: http.Agent = keepAliveAgent(64);
  let teardown: http.Agent = new http.Agent({ keepAlive: false });
  let url = '';

  const listNames = async (): Promise<string[]> => {
    const r = await request(teardown, 'GET', `${url}${PODS}`);
    return (JSON.parse(r.body.toString()) as { items: { metadata: { name: string } }[] }).items.map((p) => p.metadata.name);
  };

  const deleteAllPods = async (timeoutMs = 120_000) => {
    if (!url || !alive()) return;
    const deadline = Date.now() + timeoutMs;
    let names = await listNames();
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const n = names[next++];
        await request(teardown, 'DELETE', `${url}${PODS}/${n}`).catch((e: unknown) => {
          if (!(e instanceof HttpStatusError && e.status === 404)) throw e;
        });
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    while ((names = await listNames()).length > 0) {
      if (Date.now() > deadline) throw new Error(`pods not gone after ${timeoutMs} ms: ${names.slice(0, 5).join(', ')}…`);
      await sleep(200);
    }
    // The API object goes once the agent reported the containers stopped; give it a moment for the rest.
    const d2 = Date.now() + 20_000;
    while (leftovers().length > 0 && Date.now() < d2) await sleep(200);
  };

  /** This cluster's pod netns and cgroup dirs still present (never another berth's). */
  const myNetns = () => { const mine = new Set(podUids(dataDir).map(netnsOf)); return berthNetns().filter((n) => mine.has(n)); };
  const leftovers = () => [...myNetns(), ...berthCgroupDirs(podUids(dataDir))];

  /** Last resort when berth died with pods running: kill their processes, remove their netns and cgroups. */
  const emergency = () => {
    for (const pid of pidsWhoseCmdlineHas(dataDir)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const n of myNetns()) run('ip', ['netns', 'del', n]);
    for (let i = 0; i < 25 && berthCgroupDirs(podUids(dataDir)).length > 0; i++) {
      for (const d of berthCgroupDirs(podUids(dataDir))) { try { rmdirSync(d); } catch { /* busy, retry */ } }
      execFileSync('sleep', ['0.2']);
    }
  };

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      try {
        await deleteAllPods();
      } catch (err) {
        console.error(`bench: deleting pods failed (${String(err)}); killing what is left`);
      }
      if (alive()) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      if (pidsWhoseCmdlineHas(dataDir).length > 0 || leftovers().length > 0) emergency();
      const left = leftovers();
      agent.destroy();
      teardown.destroy();
      rmSync(dataDir, { recursive: true, force: true });
      cleanupHostNetwork();
      if (left.length) console.error(`bench: left behind: ${left.join(' ')}`);
    })();
    return stopping;
  };

  const kubeconfig = path.join(dataDir, 'kubeconfig');
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!alive()) { await stop(); throw new Error(`berth up exited during startup:\n${log}`); }
    if (/Node \S+ is Ready/.test(log) && existsSync(kubeconfig)) break;
    if (Date.now() > deadline) { await stop(); throw new Error(`berth up not ready:\n${log}`); }
    await sleep(20);
  }
  const kc = parseYaml(readFileSync(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  url = kc.clusters[0].cluster.server;
  const tls = kubeconfigCredentials(kubeconfig);
  agent.destroy();
  teardown.destroy();
  agent = keepAliveAgent(64, tls);
  teardown = keepAliveAgent(16, tls);

  return {
    url, tls, pid: child.pid!, dataDir, agent, logs: () => log, alive,
    createPod: async (name, command, opts) => {
      await request(agent, 'POST', `${url}${PODS}`, JSON.stringify(podManifest(name, command, opts)));
    },
    deleteAllPods, stop,
  };
}

interface PodObj {
  metadata: { name: string };
  status?: {
    phase?: string;
    containerStatuses?: { restartCount?: number; state?: { running?: unknown; waiting?: { reason?: string }; terminated?: unknown } }[];
  };
}

export interface PodSeen {
  /** First time (nowMs) the watch showed phase Running with the container running. */
  firstRunningAt?: number;
  running: boolean;
  restartCount: number;
  waitingReason?: string;
  terminated: boolean;
}

/** One `GET …/pods?watch=true` stream; keeps per-pod state with receipt times (nowMs). */
export class PodWatch {
  readonly pods = new Map<string, PodSeen>();
  private waiters: (() => void)[] = [];
  ended = false;
  private constructor(private req: http.ClientRequest) {}

  static open(url: string, tls: TlsCredentials): Promise<PodWatch> {
    return new Promise((resolve, reject) => {
      let w: PodWatch;
      let pending = '';
      const req = streamGet(`${url}${PODS}?watch=true`, tls, (res) => {
        if (res.statusCode !== 200) { reject(new Error(`watch: HTTP ${res.statusCode}`)); res.resume(); return; }
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          const t = nowMs();
          pending += chunk;
          let nl;
          while ((nl = pending.indexOf('\n')) >= 0) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            if (line.trim()) w.onEvent(JSON.parse(line) as { type: string; object: PodObj }, t);
          }
        });
        res.on('end', () => w.end());
        res.on('error', () => w.end());
        resolve(w);
      });
      w = new PodWatch(req);
      req.on('error', (e) => { if (!w.ended) { w.end(); reject(e); } });
    });
  }

  private onEvent(ev: { type: string; object: PodObj }, t: number): void {
    if (ev.type === 'ERROR' || !ev.object?.metadata) return;
    const name = ev.object.metadata.name;
    if (ev.type === 'DELETED') { this.pods.delete(name); } else {
      const cs = ev.object.status?.containerStatuses?.[0];
      const running = ev.object.status?.phase === 'Running' && !!cs?.state?.running;
      const s = this.pods.get(name) ?? { running: false, restartCount: 0, terminated: false };
      s.running = running;
      s.restartCount = cs?.restartCount ?? 0;
      s.waitingReason = cs?.state?.waiting?.reason;
      s.terminated = !!cs?.state?.terminated;
      if (running && s.firstRunningAt === undefined) s.firstRunningAt = t;
      this.pods.set(name, s);
    }
    this.notify();
  }

  private notify(): void {
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

  private end(): void { this.ended = true; this.notify(); }

  /** Resolves when pred() holds (checked now and after each event); rejects on timeout or stream end. */
  async until(pred: () => boolean, timeoutMs: number, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      if (this.ended) throw new Error(`watch ended while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  close(): void { this.ended = true; this.req.destroy(); }
}

// ---- /proc helpers ----

/** Runs `create(name, i)` for every name with `concurrency` creators; returns each send time (nowMs). */
export async function createEach(names: string[], create: (name: string, i: number) => Promise<unknown>, concurrency = 10): Promise<number[]> {
  const sentAt: number[] = new Array(names.length).fill(NaN);
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const i = next++;
      sentAt[i] = nowMs();
      await create(names[i], i);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return sentAt;
}

/** Creates process pods running `commands[i]`; returns each send time (nowMs). */
export function createPods(up: UpCluster, names: string[], commands: string[][], concurrency = 10, opts: PodOptions = {}): Promise<number[]> {
  return createEach(names, (n, i) => up.createPod(n, commands[i], opts), concurrency);
}
