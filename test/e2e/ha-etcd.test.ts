/**
 * End to end: two `berth server`s on one real etcd. Only the holder of the
 * `kube-system/berth-controller-manager` Lease runs controllers and the scheduler; killing it (SIGKILL,
 * no chance to release) hands the Lease and the work to the other within 15 s. The second server joins
 * with a copy of the first one's server token (the cluster's CA key is sealed with it in etcd); a
 * server without it is refused, saying so.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { startEtcd, type TestEtcd } from '../support/etcd.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waiter } from '../support/wait.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEADING = 'leading: starting controllers and scheduler';

describe('two berth servers on one etcd', { concurrency: false }, () => {
  let etcd: TestEtcd;
  let a: BerthServer;
  let b: BerthServer;

  before(async () => {
    etcd = await startEtcd();
    a = await startBerth({ command: 'server', store: `etcd://${etcd.endpoint}` });
    b = await startBerth({ command: 'server', store: `etcd://${etcd.endpoint}`, extraArgs: ['--server-token-file', path.join(a.dataDir, 'server-token')] });
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
  const waitFor = waiter({ context: () => `--- a ---\n${a.logs().slice(-1500)}\n--- b ---\n${b.logs().slice(-1500)}`, everyMs: 100 });
  const replicaSetsFor = async (s: BerthServer, deploy: string) =>
    parseJson<any>(assertOk(await s.kubectl(['get', 'replicasets', '-l', `app=${deploy}`, '-o', 'json']), 'rs'), 'rs').items.length;
  const deployment = (name: string) => JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
    spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1'] }] } } },
  });

  test('a server without the cluster\'s server token is refused: the CA key in etcd is sealed with it', async () => {
    // Read as anyone with etcd's client port reads it (its JSON gateway).
    const res = await fetch(`http://${etcd.endpoint}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('/berth/cluster-pki').toString('base64') }) });
    const stored = Buffer.from(((await res.json()) as { kvs?: { value: string }[] }).kvs?.[0]?.value ?? '', 'base64').toString('utf8');
    assert.match(stored, /"sealed":/);
    assert.doesNotMatch(stored, /PRIVATE KEY/, 'no private key in clear in etcd');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'berth-e2e-tokenless-'));
    try {
      await assert.rejects(startBerth({ command: 'server', store: `etcd://${etcd.endpoint}`, dataDir, readyTimeoutMs: 30_000 }), /sealed with its server token: give this server --server-token-file/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
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
