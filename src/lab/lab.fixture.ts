/**
 * A lab for end-to-end suites (as kind's e2e framework makes a cluster per suite): `startLab` runs
 * the real `bin/berth lab up` (with a dnsmasq on loopback as the DNS upstream, so no suite asks the
 * machine's resolvers), and hands back kubectl on its kubeconfig, the failure commands and `down`,
 * which removes everything also when a test failed half-way. Suites that use it are serial (the
 * machine lock of scripts/test.sh) and need root.
 *
 *   const lab = await startLab({ nodes: 3, backend: 'vxlan' });
 *   after(() => lab.down());
 *   await lab.kubectl(['get', 'nodes']);  await lab.run(['kill', 'node-2']);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { kubectl, type KubectlResult } from '../../test/support/kubectl.ts';
import { serverTimerArgs, type Backend, type ServerTimers } from './lab-plan.ts';
import type { LabState } from './lab-state.ts';

const BERTH = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'berth');

export interface LabCommandResult { code: number | null; out: string; ms: number }

/** `bin/berth lab <args>`: exit code, output (stdout and stderr) and how long it took. */
export function runLab(args: string[], timeoutMs = 180_000): Promise<LabCommandResult> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const child = spawn(BERTH, ['lab', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, ms: performance.now() - t0 }); });
  });
}

/** Pids whose /proc/<pid>/cgroup names `rel` or below. */
export function pidsInCgroup(rel: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cgroup`, 'utf8').split('\n').some((l) => l.split(':')[2]?.startsWith(`/${rel}`))) out.push(Number(p));
    } catch { /* gone */ }
  }
  return out;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Timers (ServerTimers) are passed to the lab's server: a suite may shorten what it waits on. */
export interface StartLabOptions extends ServerTimers {
  nodes: number;
  backend?: Backend;
  storage?: boolean;
  /** Names the suite's dnsmasq answers: `{ 'upstream.test': '192.0.2.77' }`. */
  upstreamNames?: Record<string, string>;
}

export interface TestLab {
  dataDir: string;
  kubeconfig: string;
  /** lab.json as it is now (re-read: restart changes the agent's pid). */
  state(): LabState;
  /** `berth lab up`'s own time to all Nodes Ready, in ms. */
  upMs: number;
  kubectl(args: string[], input?: string, timeoutMs?: number): Promise<KubectlResult>;
  /** `berth lab <cmd> … --data-dir D`: throws with the output on a non-zero exit. */
  run(args: string[]): Promise<LabCommandResult>;
  /** The end of a host's agent log, or the server's (`server`). */
  logTail(who: string, lines?: number): string;
  /** `berth lab down`, the upstream DNS stopped and the data dir removed (kept if down failed); safe to call twice. */
  down(): Promise<void>;
}

export async function startLab(o: StartLabOptions): Promise<TestLab> {
  if (process.getuid?.() !== 0) throw new Error('a lab needs root (network namespaces, bridges, cgroups)');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-lab-'));
  const upstreamPort = await freeLoopbackPort();
  const names = Object.entries(o.upstreamNames ?? {}).map(([name, ip]) => `--address=/${name}/${ip}`);
  let dnsmasq: ChildProcess | undefined = spawn('/usr/sbin/dnsmasq', ['--keep-in-foreground', '--user=root', `--port=${upstreamPort}`,
    '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--pid-file=', ...names], { stdio: 'ignore' });
  const kubeconfig = path.join(dataDir, 'kubeconfig');
  const cacheDir = path.join(dataDir, 'kubecache');
  let downed = false;
  const down = async () => {
    if (downed) return;
    downed = true;
    dnsmasq?.kill('SIGKILL');
    dnsmasq = undefined;
    if (existsSync(path.join(dataDir, 'lab.json'))) {
      const r = await runLab(['down', '--data-dir', dataDir]);
      // The data dir (its lab.json) stays for a later `berth lab down --data-dir` by hand.
      if (r.code !== 0) throw new Error(`berth lab down failed; run it again: berth lab down --data-dir ${dataDir}\n${r.out}`);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  const up = await runLab(['up', '--nodes', String(o.nodes), '--data-dir', dataDir, '--dns-upstream', `127.0.0.1:${upstreamPort}`,
    ...(o.backend ? ['--backend', o.backend] : []), ...(o.storage ? ['--storage'] : []),
    ...serverTimerArgs(o)]);
  if (up.code !== 0) {
    await down().catch(() => {});
    throw new Error(`berth lab up failed (exit ${up.code}):\n${up.out}`);
  }
  const state = () => JSON.parse(readFileSync(path.join(dataDir, 'lab.json'), 'utf8')) as LabState;
  const tail = (file: string, lines: number) => (existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : `(no ${file})`);
  return {
    dataDir, kubeconfig, state, upMs: up.ms, down,
    kubectl: (args, input, timeoutMs = 60_000) => kubectl(args, { kubeconfig, cacheDir, input, timeoutMs }),
    async run(args) {
      const r = await runLab([...args, '--data-dir', dataDir]);
      if (r.code !== 0) throw new Error(`berth lab ${args.join(' ')} failed (exit ${r.code}):\n${r.out}`);
      return r;
    },
    logTail: (who, lines = 30) => tail(who === 'server' ? path.join(dataDir, 'server.log') : path.join(dataDir, who, 'agent.log'), lines),
  };
}
