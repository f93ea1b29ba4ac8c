/**
 * End to end: node loss with simulated nodes. `berth server` (node grace period 12 s) plus two
 * `berth sim` processes; a Deployment whose pods tolerate `unreachable` for 2 s spreads over both;
 * stopping one simulator makes its nodes NotReady (Unknown) within the grace period, and after the
 * toleration the pods there are evicted and replaced on the surviving nodes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Above the simulator's 10 s Lease renewal, or live nodes would flap NotReady between renewals. */
const GRACE_S = 12;

describe('node loss with berth sim', { concurrency: false }, () => {
  let s: BerthServer;
  const sims: ChildProcess[] = [];
  const k = (args: string[], input?: string) => s.kubectl(args, { input, timeoutMs: 30_000 });
  const startSim = (prefix: string, nodes: number) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'berth'), 'sim', '--nodes', String(nodes), '--prefix', prefix, '--kubeconfig', s.kubeconfig], { stdio: 'ignore' });
    sims.push(child);
    return child;
  };
  async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
    const end = Date.now() + timeoutMs;
    let last: unknown;
    for (;;) {
      try { const v = await fn(); if (v) return v; last = v; } catch (err) { last = err; }
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${String(last)})\n${s.logs().slice(-2000)}`);
      await sleep(200);
    }
  }
  const pods = async () => (parseJson<any>(assertOk(await k(['get', 'pods', '-l', 'app=spread', '-o', 'json']), 'pods'), 'pods').items as any[]);
  const ready = (n: any) => n.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;

  before(async () => {
    s = await startBerth({ command: 'server', extraArgs: ['--node-monitor-grace-period', String(GRACE_S)] });
  });
  after(async () => {
    for (const c of sims) c.kill('SIGKILL');
    await s?.cleanup();
  });

  test('stopping a simulator: its nodes go NotReady within the grace period; their pods are replaced elsewhere after tolerationSeconds', async () => {
    const lost = startSim('lost', 2);
    startSim('kept', 2);
    await waitFor('4 Ready nodes', async () => {
      const nodes = parseJson<any>(assertOk(await k(['get', 'nodes', '-o', 'json']), 'nodes'), 'nodes').items;
      return nodes.filter((n: any) => ready(n) === 'True').length === 4;
    }, 30_000);
    const tolerations = ['unreachable', 'not-ready'].map((t) => ({ key: `node.kubernetes.io/${t}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }));
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'spread' },
      spec: {
        replicas: 8, selector: { matchLabels: { app: 'spread' } },
        template: {
          metadata: { labels: { app: 'spread' } },
          spec: {
            tolerations,
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'spread' } } }],
            containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'] }],
          },
        },
      },
    })), 'deployment');
    assertOk(await k(['rollout', 'status', 'deployment/spread', '--timeout=60s']), 'rollout');
    const before = await pods();
    const onLost = before.filter((p) => p.spec.nodeName?.startsWith('lost-')).length;
    // ScheduleAnyway (a score, not a filter: DoNotSchedule would block replacements once the lost
    // nodes count as empty domains) spreads them; at least some land on the nodes about to go.
    assert.ok(onLost >= 2, `${onLost} of 8 pods on the nodes about to be lost`);

    const stoppedAt = Date.now();
    lost.kill('SIGTERM');
    await waitFor('lost nodes NotReady', async () => {
      const nodes = parseJson<any>(assertOk(await k(['get', 'nodes', '-o', 'json']), 'nodes'), 'nodes').items;
      return nodes.filter((n: any) => n.metadata.name.startsWith('lost-') && ready(n) !== 'True').length === 2;
    }, (GRACE_S + 5) * 1000);
    const notReadyAfter = (Date.now() - stoppedAt) / 1000;
    assert.ok(notReadyAfter <= GRACE_S + 2, `NotReady after ${notReadyAfter.toFixed(1)} s`);
    const taints = parseJson<any>(assertOk(await k(['get', 'node', 'lost-0000', '-o', 'json']), 'node'), 'node').spec.taints.map((t: any) => `${t.key}:${t.effect}`);
    assert.ok(taints.includes('node.kubernetes.io/unreachable:NoExecute'), taints.join(','));

    const replaced = await waitFor('8 available pods, all on kept nodes', async () => {
      const now = (await pods()).filter((p) => !p.metadata.deletionTimestamp);
      const running = now.filter((p) => p.spec.nodeName?.startsWith('kept-') && p.status?.phase === 'Running');
      return running.length === 8 && now.length === 8 && now;
    }, 30_000);
    assert.equal(replaced.filter((p) => p.spec.nodeName.startsWith('lost-')).length, 0);
    process.stdout.write(`# NotReady after ${notReadyAfter.toFixed(1)} s; pods replaced after ${((Date.now() - stoppedAt) / 1000).toFixed(1)} s\n`);
  });
});
