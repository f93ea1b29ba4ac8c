/**
 * End to end: node loss with simulated nodes. `berth server` with its defaults (node grace 8 s,
 * DefaultTolerationSeconds 30 s) plus two `berth sim` processes renewing every 2 s; two Deployments
 * spread over both: `fast` tolerates `unreachable` for 2 s itself, `plain` names no toleration and
 * gets admission's 30 s. Stopping one simulator makes its nodes NotReady (Unknown) within the grace
 * period and taints them unreachable; `fast` pods there are replaced on the surviving nodes after
 * 2 s, `plain` ones after 30 s — well under a minute. Started again, the nodes are Ready and
 * untainted. A grace period shorter than two Lease renewals is refused by `berth server`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The server's default node monitor grace period and DefaultTolerationSeconds. */
const GRACE_S = 8;
const DEFAULT_TOLERATION_S = 30;

describe('node loss with berth sim', { concurrency: false }, () => {
  let s: BerthServer;
  const sims: ChildProcess[] = [];
  const k = (args: string[], input?: string) => s.kubectl(args, { input, timeoutMs: 30_000 });
  const startSim = (prefix: string, nodes: number) => {
    const child = spawn(process.execPath, [path.join(REPO, 'bin', 'berth'), 'sim', '--nodes', String(nodes), '--prefix', prefix, '--kubeconfig', s.kubeconfig], { stdio: 'ignore' });
    sims.push(child);
    return child;
  };
  const waitFor = waiter({ context: () => s.logs().slice(-2000), everyMs: 200 });
  const pods = async (app: string) => (parseJson<any>(assertOk(await k(['get', 'pods', '-l', `app=${app}`, '-o', 'json']), 'pods'), 'pods').items as any[]);
  const nodes = async () => parseJson<any>(assertOk(await k(['get', 'nodes', '-o', 'json']), 'nodes'), 'nodes').items as any[];
  const ready = (n: any) => n.status?.conditions?.find((c: any) => c.type === 'Ready')?.status;
  const deployment = (name: string, tolerations?: object[]) => JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: {
      replicas: 8, selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          ...(tolerations ? { tolerations } : {}),
          topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: name } } }],
          containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'] }],
        },
      },
    },
  });
  /** 8 live pods of `app`, all Running on kept nodes. */
  const replaced = (app: string) => async () => {
    const now = (await pods(app)).filter((p) => !p.metadata.deletionTimestamp);
    const running = now.filter((p) => p.spec.nodeName?.startsWith('kept-') && p.status?.phase === 'Running');
    return running.length === 8 && now.length === 8 && now;
  };

  before(async () => {
    s = await startBerth({ command: 'server' });
  });
  after(async () => {
    for (const c of sims) c.kill('SIGKILL');
    await s?.cleanup();
  });

  test('stopping a simulator: its nodes go NotReady within the grace period; pods are replaced after their tolerationSeconds (2 s given, 30 s by admission)', async () => {
    let lost = startSim('lost', 2);
    startSim('kept', 2);
    await waitFor('4 Ready nodes', async () => (await nodes()).filter((n) => ready(n) === 'True').length === 4, 30_000);
    const fast = ['unreachable', 'not-ready'].map((t) => ({ key: `node.kubernetes.io/${t}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 }));
    assertOk(await k(['apply', '-f', '-'], deployment('fast', fast)), 'deployment fast');
    assertOk(await k(['apply', '-f', '-'], deployment('plain')), 'deployment plain');
    assertOk(await k(['rollout', 'status', 'deployment/fast', '--timeout=60s']), 'rollout fast');
    assertOk(await k(['rollout', 'status', 'deployment/plain', '--timeout=60s']), 'rollout plain');
    // Admission gave the plain pods Berth's default tolerations.
    const plainTolerations = (await pods('plain'))[0].spec.tolerations.map((t: any) => `${t.key}:${t.effect}:${t.tolerationSeconds}`).sort();
    assert.deepEqual(plainTolerations, [`node.kubernetes.io/not-ready:NoExecute:${DEFAULT_TOLERATION_S}`, `node.kubernetes.io/unreachable:NoExecute:${DEFAULT_TOLERATION_S}`]);
    for (const app of ['fast', 'plain']) {
      const onLost = (await pods(app)).filter((p) => p.spec.nodeName?.startsWith('lost-')).length;
      // ScheduleAnyway (a score, not a filter: DoNotSchedule would block replacements once the lost
      // nodes count as empty domains) spreads them; at least some land on the nodes about to go.
      assert.ok(onLost >= 2, `${onLost} of 8 ${app} pods on the nodes about to be lost`);
    }

    const stoppedAt = Date.now();
    lost.kill('SIGTERM');
    await waitFor('lost nodes NotReady', async () => (await nodes()).filter((n) => n.metadata.name.startsWith('lost-') && ready(n) !== 'True').length === 2, (GRACE_S + 5) * 1000);
    const notReadyAfter = (Date.now() - stoppedAt) / 1000;
    // The last renewal came up to 2 s before the stop; the controller checks 50 ms after the grace.
    assert.ok(notReadyAfter <= GRACE_S + 2, `NotReady after ${notReadyAfter.toFixed(1)} s`);
    const taints = parseJson<any>(assertOk(await k(['get', 'node', 'lost-0000', '-o', 'json']), 'node'), 'node').spec.taints.map((t: any) => `${t.key}:${t.effect}`);
    assert.ok(taints.includes('node.kubernetes.io/unreachable:NoExecute'), taints.join(','));

    await waitFor('8 fast pods Running on kept nodes', replaced('fast'), 30_000);
    const fastAfter = (Date.now() - stoppedAt) / 1000;
    // The plain pods stay for their 30 s, then go.
    const plainOnLost = async () => (await pods('plain')).filter((p) => p.spec.nodeName?.startsWith('lost-') && !p.metadata.deletionTimestamp).length;
    assert.ok(await plainOnLost() >= 2, 'plain pods stay on the lost nodes for their 30 s toleration');
    await waitFor('8 plain pods Running on kept nodes', replaced('plain'), (GRACE_S + DEFAULT_TOLERATION_S + 30) * 1000);
    const plainAfter = (Date.now() - stoppedAt) / 1000;
    assert.ok(plainAfter >= DEFAULT_TOLERATION_S, `plain pods replaced after ${plainAfter.toFixed(1)} s, before their toleration ran out`);
    assert.ok(plainAfter <= 60, `plain pods replaced after ${plainAfter.toFixed(1)} s`);
    process.stdout.write(`# NotReady after ${notReadyAfter.toFixed(1)} s; pods tolerating 2 s replaced after ${fastAfter.toFixed(1)} s, with admission's 30 s after ${plainAfter.toFixed(1)} s\n`);

    // The lost nodes come back (the same simulator names): Ready again, untainted.
    lost = startSim('lost', 2);
    await waitFor('lost nodes Ready and untainted again', async () => (await nodes()).filter((n) => n.metadata.name.startsWith('lost-')
      && ready(n) === 'True' && !(n.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unreachable')).length === 2, 30_000);
  });

  test('a node monitor grace period shorter than two Lease renewals is refused with a clear error', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'berth-grace-'));
    try {
      const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'berth'), 'server', '--data-dir', dir, '--listen', '127.0.0.1:0', '--node-monitor-grace-period', '3'], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 2, r.stdout + r.stderr);
      assert.match(r.stderr, /--node-monitor-grace-period 3 s is too short: node agents renew their Lease every 2 s/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
