/**
 * End to end: two `berth server`s on one real etcd. Only the holder of the
 * `kube-system/berth-controller-manager` Lease runs controllers and the scheduler; killing it (SIGKILL,
 * no chance to release) hands the Lease and the work to the other within 15 s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { startEtcd, type TestEtcd } from '../support/etcd.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEADING = 'leading: starting controllers and scheduler';

describe('two berth servers on one etcd', { concurrency: false }, () => {
  let etcd: TestEtcd;
  let a: BerthServer;
  let b: BerthServer;

  before(async () => {
    etcd = await startEtcd();
    a = await startBerth({ command: 'server', store: `etcd://${etcd.endpoint}` });
    b = await startBerth({ command: 'server', store: `etcd://${etcd.endpoint}` });
  });
  after(async () => {
    await a?.cleanup();
    await b?.cleanup();
    await etcd?.stop();
  });

  const holder = async (s: BerthServer) => {
    const r = await s.kubectl(['get', 'lease', '-n', 'kube-system', 'berth-controller-manager', '-o', 'json']);
    return r.code === 0 ? parseJson<any>(r.stdout, 'lease').spec.holderIdentity as string : undefined;
  };
  async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn().catch(() => undefined);
      if (v) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n--- a ---\n${a.logs().slice(-1500)}\n--- b ---\n${b.logs().slice(-1500)}`);
      await sleep(100);
    }
  }
  const replicaSetsFor = async (s: BerthServer, deploy: string) =>
    parseJson<any>(assertOk(await s.kubectl(['get', 'replicasets', '-l', `app=${deploy}`, '-o', 'json']), 'rs'), 'rs').items.length;
  const deployment = (name: string) => JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1'] }] } } },
  });

  test('exactly one server leads; killing it hands over within 15 s', async () => {
    const first = await waitFor('a lease holder', () => holder(a), 20_000);
    await waitFor('one server leading', async () => [a, b].filter((s) => s.logs().includes(LEADING)).length === 1, 10_000);
    const leader = a.logs().includes(LEADING) ? a : b;
    const standby = leader === a ? b : a;
    assert.ok(!standby.logs().includes(LEADING), 'the standby runs no controllers');

    // The leader's controllers act on writes made through either server.
    assertOk(await standby.kubectl(['apply', '-f', '-'], { input: deployment('before') }), 'deployment before');
    await waitFor('ReplicaSet of "before"', async () => (await replicaSetsFor(standby, 'before')) === 1, 15_000);

    const killedAt = Date.now();
    await leader.kill9();
    const next = await waitFor('a new lease holder', async () => { const h = await holder(standby); return h && h !== first && h; }, 20_000);
    await waitFor('the standby leading', async () => standby.logs().includes(LEADING), 5_000);
    const handover = (Date.now() - killedAt) / 1000;
    assert.ok(handover <= 15, `handover took ${handover.toFixed(1)} s`);
    assert.notEqual(next, first);

    assertOk(await standby.kubectl(['apply', '-f', '-'], { input: deployment('after') }), 'deployment after');
    await waitFor('ReplicaSet of "after" from the new leader', async () => (await replicaSetsFor(standby, 'after')) === 1, 15_000);
    process.stdout.write(`# handover after SIGKILL: ${handover.toFixed(1)} s\n`);
  });
});
