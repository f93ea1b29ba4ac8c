/**
 * node-loss: how fast a cluster notices and works around a lost machine. `berth lab up --nodes 3`
 * (real agents in network namespaces, the server's defaults: grace 8 s, Leases every 2 s,
 * DefaultTolerationSeconds 30 s), a Deployment of 6 process pods spread over the nodes behind a
 * Service; then, BENCH_KILLS times (default 10), `berth lab kill` of node-2 or node-3 in turn, timing
 * from the kill to:
 *   - NotReady        the Node's Ready condition is no longer True
 *   - routing         the Service's Endpoints list no pod of that node (what the proxies follow)
 *   - replacement     6 pods Running again, none on the dead node
 * then `berth lab restart` and a rollout restart so the next victim has pods again. Polled every
 * 100 ms through the API (kubectl-free: one HTTP client), so figures are ±0.1 s plus the API's
 * answer time. Kubernetes' defaults (40 s grace, 300 s tolerations) would give ~40 s / ~40 s / ~6 min.
 * Needs root; run alone (`flock /tmp/berth-e2e.lock npm run bench -- node-loss`).
 * Targets: NotReady p99 ≤ 10 s, routing p99 ≤ 15 s, replacement p99 ≤ 60 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpClient } from '../src/client/http-client.ts';
import { R } from '../src/client/client.ts';
import { runLab as lab } from '../src/lab/lab.fixture.ts';
import { freePort } from '../test/support/berth-server.ts';
import { f, pct, printTable, sleep, sortNum } from './lib/stats.ts';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' } as const;
const NS = 'default';
const REPLICAS = 6;

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { if (await fn()) return; } catch { /* the API may be busy; poll again */ }
    if (Date.now() > end) throw new Error(`node-loss: timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function run(): Promise<boolean> {
  if (process.getuid?.() !== 0) throw new Error('node-loss needs root (berth lab)');
  const kills = Number(process.env.BENCH_KILLS) || 10;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'berth-bench-node-loss-'));
  const upstreamPort = await freePort();
  // The cluster DNS forwards here, never to the machine's resolvers.
  const dnsmasq: ChildProcess = spawn('/usr/sbin/dnsmasq', ['--keep-in-foreground', '--user=root', `--port=${upstreamPort}`, '--listen-address=127.0.0.1', '--bind-interfaces', '--no-resolv', '--no-hosts', '--pid-file='], { stdio: 'ignore' });
  let client: HttpClient | undefined;
  const samples = { notReady: [] as number[], routing: [] as number[], replaced: [] as number[] };
  try {
    const up = await lab(['up', '--nodes', '3', '--data-dir', dataDir, '--dns-upstream', `127.0.0.1:${upstreamPort}`]);
    if (up.code !== 0) throw new Error(`berth lab up failed:\n${up.out}`);
    client = HttpClient.fromKubeconfig(path.join(dataDir, 'kubeconfig'));
    const c = client;
    await c.create(DEPLOYMENTS, NS, {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
      spec: {
        replicas: REPLICAS, selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 1,
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'web' } } }],
            containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'], ports: [{ containerPort: 8080 }] }],
          },
        },
      },
    });
    await c.create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
    const running = async () => (await c.list(R.pods, NS, { labelSelector: 'app=web' })).items.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running');
    const endpointNodes = async () => ((await c.get(R.endpoints, NS, 'web')).subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.nodeName as string));
    const ready = async (node: string) => (await c.get(R.nodes, undefined, node)).status?.conditions?.find((x: any) => x.type === 'Ready')?.status;

    for (let i = 0; i < kills; i++) {
      const victim = i % 2 === 0 ? 'node-2' : 'node-3';
      // Spread again (a rollout restart re-schedules every pod) so the victim has pods.
      await c.patch(DEPLOYMENTS, NS, 'web', 'merge', { spec: { template: { metadata: { annotations: { 'berth.dev/bench-round': String(i) } } } } });
      await until('the pods spread over 3 nodes', async () => {
        const r = await running();
        const all = (await c.list(R.pods, NS, { labelSelector: 'app=web' })).items;
        return all.length === REPLICAS && r.length === REPLICAS && new Set(r.map((p) => p.spec.nodeName)).size === 3 && r.every((p) => p.metadata.annotations?.['berth.dev/bench-round'] === String(i));
      }, 180_000, 500);
      await until('every endpoint ready', async () => (await endpointNodes()).length === REPLICAS, 60_000);
      const t0 = Date.now();
      const kill = await lab(['kill', victim, '--data-dir', dataDir]);
      if (kill.code !== 0) throw new Error(`berth lab kill failed:\n${kill.out}`);
      const pending = { notReady: true, routing: true, replaced: true };
      await until(`${victim} lost and replaced`, async () => {
        if (pending.notReady && (await ready(victim)) !== 'True') { samples.notReady.push((Date.now() - t0) / 1000); pending.notReady = false; }
        if (pending.routing && !(await endpointNodes()).includes(victim)) { samples.routing.push((Date.now() - t0) / 1000); pending.routing = false; }
        if (pending.replaced) {
          const r = await running();
          if (r.length === REPLICAS && r.every((p) => p.spec.nodeName !== victim)) { samples.replaced.push((Date.now() - t0) / 1000); pending.replaced = false; }
        }
        return !pending.notReady && !pending.routing && !pending.replaced;
      }, 180_000);
      console.log(`kill ${i + 1}/${kills} (${victim}): NotReady ${f(samples.notReady.at(-1)!)} s, routing ${f(samples.routing.at(-1)!)} s, replaced ${f(samples.replaced.at(-1)!)} s`);
      const restart = await lab(['restart', victim, '--data-dir', dataDir]);
      if (restart.code !== 0) throw new Error(`berth lab restart failed:\n${restart.out}`);
    }
  } finally {
    client?.close();
    const down = await lab(['down', '--data-dir', dataDir]);
    if (down.code !== 0) console.error(down.out);
    dnsmasq.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
  const row = (name: string, xs: number[], target: number) => {
    const s = sortNum(xs);
    return { cells: [name, String(s.length), f(pct(s, 50)), f(pct(s, 99)), f(s[s.length - 1]), `p99 ≤ ${target} s`], pass: pct(s, 99) <= target };
  };
  const rows = [row('kill → NotReady', samples.notReady, 10), row('kill → Service routing updated', samples.routing, 15), row('kill → replacement Running', samples.replaced, 60)];
  printTable('node loss on berth lab (3 nodes, 6 pods, server defaults)', ['from the kill to', 'kills', 'p50 s', 'p99 s', 'max s', 'target'], rows.map((r) => r.cells),
    ['grace 8 s, Leases every 2 s, DefaultTolerationSeconds 30 s; Kubernetes defaults: grace 40 s, tolerations 300 s']);
  return rows.every((r) => r.pass);
}
