/**
 * End to end: an HA control plane — three `bin/berth server`s on a 3-member etcd (Debian's etcd,
 * process-managed), as a user runs it (README "High availability"). Needs root for its private
 * bridge: the servers listen on lab addresses (198.19.<n>.1–3, nothing routed anywhere), because a
 * loopback server is never advertised in the `kubernetes` Endpoints.
 *
 *   etcd m0 m1 m2 (127.0.0.1) ◀── server a 198.19.n.1 ─┐
 *                             ◀── server b 198.19.n.2 ─┼─ one HttpClient listing all three (failover),
 *                             ◀── server c 198.19.n.3 ─┘  100 writes/s
 *
 * Checked: one CA for all (the second and third took the first's from the store), one leader;
 * `kill -9` of the leader under 100 writes/s loses no acknowledged write, writes go on through the
 * others, a Deployment scaled after the kill gets its pods within 15 s, and the `default/kubernetes`
 * Endpoints drop the dead server; then `kill -9` of the etcd leader: writes and a watch go on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, startBerth, type BerthServer } from '../support/berth-server.ts';
import { startEtcdCluster, type TestEtcdCluster } from '../support/etcd.ts';
import { waiter } from '../support/wait.ts';
import { HttpClient } from '../../src/client/http-client.ts';
import { loadKubeconfig } from '../../src/client/kubeconfig-load.ts';
import { R, type ClientWatch } from '../../src/client/client.ts';
import type { KubeObject } from '../../src/apis/object.ts';

const ID = process.pid % 10_000;
const BRIDGE = `bha${ID}`;
const OCTET = 100 + (process.pid % 100);
const ADDRESSES = [1, 2, 3].map((i) => `198.19.${OCTET}.${i}`);
const LEADING = 'leading: starting controllers and scheduler';
const NS = 'ha';
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' } as const;
/** Nothing here resolves outside names: the servers' cluster DNS gets a loopback upstream, never the machine's resolvers. */
const NO_UPSTREAM = ['--dns-upstream', '127.0.0.1:5399'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function sh(cmd: string, ...args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
}
function quiet(cmd: string, ...args: string[]): void {
  try { execFileSync(cmd, args, { stdio: 'ignore' }); } catch { /* not there */ }
}

/** The load: `rate` creates per second, open loop, through `client`; what was acknowledged. */
function writeLoad(client: HttpClient, prefix: string, rate: number) {
  const acked: string[] = [];
  const failed: { name: string; at: number; error: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  let i = 0;
  const timer = setInterval(() => {
    const name = `${prefix}-${i++}`;
    const p = client.create(R.configmaps, NS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { at: String(Date.now()) } })
      .then(() => { acked.push(name); }, (err) => { failed.push({ name, at: Date.now(), error: (err as Error).message }); })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }, 1000 / rate);
  return {
    acked, failed, sent: () => i,
    async stop() { clearInterval(timer); await Promise.all([...inFlight]); },
  };
}

describe('HA: three servers on a 3-member etcd', { concurrency: false }, () => {
  let etcd: TestEtcdCluster;
  const servers: BerthServer[] = [];
  let client: HttpClient;

  const waitFor = waiter({ context: () => servers.map((s, i) => `--- server ${i} ---\n${s.logs().slice(-1500)}`).join('\n'), everyMs: 200 });
  const leaderOf = () => servers.filter((s) => s.lastExit() === undefined && s.logs().includes(LEADING));
  const endpointIPs = async (c: HttpClient) => {
    const ep = await c.get(R.endpoints, 'default', 'kubernetes');
    return (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip as string)).sort();
  };

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'the HA suite needs root (a private bridge for the servers\' addresses)');
    quiet('ip', 'link', 'del', BRIDGE);
    sh('ip', 'link', 'add', BRIDGE, 'type', 'bridge');
    for (const a of ADDRESSES) sh('ip', 'addr', 'add', `${a}/24`, 'dev', BRIDGE);
    sh('ip', 'link', 'set', BRIDGE, 'up');
    etcd = await startEtcdCluster(3);
    const store = `etcd://${etcd.endpoints}`;
    // One port on three addresses, as three machines would have (the kubernetes Service has one target port).
    const port = await freePort();
    // The first server creates the cluster CA; the other two take it from the store (started together),
    // with a copy of its server token (the CA key is sealed with it there).
    servers.push(await startBerth({ command: 'server', store, host: ADDRESSES[0], port, extraArgs: NO_UPSTREAM }));
    const joinArgs = [...NO_UPSTREAM, '--server-token-file', path.join(servers[0].dataDir, 'server-token')];
    servers.push(...await Promise.all(ADDRESSES.slice(1).map((host) => startBerth({ command: 'server', store, host, port, extraArgs: joinArgs }))));
    // One credential for all three: the first server's admin kubeconfig, every server's URL.
    const conn = loadKubeconfig(servers[0].kubeconfig);
    client = new HttpClient({ ...conn, servers: servers.map((s) => s.url) }, { timeoutMs: 20_000 });
    await client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  });
  after(async () => {
    client?.close();
    for (const s of servers) await s.cleanup();
    await etcd?.stop();
    quiet('ip', 'link', 'del', BRIDGE);
  });

  test('the servers share one CA and ServiceAccount key; one leads; the kubernetes Endpoints list all three', async () => {
    const ca = servers.map((s) => readFileSync(`${s.dataDir}/pki/ca.crt`, 'utf8'));
    assert.equal(new Set(ca).size, 1, 'one cluster CA');
    assert.equal(new Set(servers.map((s) => readFileSync(`${s.dataDir}/pki/sa.pub`, 'utf8'))).size, 1, 'one ServiceAccount key');
    // The first server's admin credential works on each server directly.
    for (const s of servers) {
      const direct = new HttpClient({ ...loadKubeconfig(servers[0].kubeconfig), server: s.url });
      assert.equal((await direct.get(R.namespaces, undefined, NS)).metadata.name, NS);
      direct.close();
    }
    await waitFor('one leader', async () => leaderOf().length === 1, 30_000);
    await waitFor('three kubernetes endpoints', async () => JSON.stringify(await endpointIPs(client)) === JSON.stringify(ADDRESSES), 30_000);
  });

  test('kill -9 of the leader under 100 writes/s: no acknowledged write lost, writes go on, controllers resume within 15 s, its endpoint goes', async () => {
    const leader = leaderOf()[0];
    const others = servers.filter((s) => s !== leader);
    // The load goes to the leader first, so the kill cuts requests in flight.
    const conn = loadKubeconfig(servers[0].kubeconfig);
    const moves: string[] = [];
    const loadClient = new HttpClient({ ...conn, server: leader.url, servers: [leader.url, ...others.map((s) => s.url)] }, { timeoutMs: 20_000, onFailover: (from, to) => moves.push(`${from} -> ${to}`) });
    const deployment = (replicas: number): KubeObject => ({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: NS },
      spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'] }] } } },
    });
    // Reads and the scaling go through a server that stays: a write cut by the kill is failed to its
    // caller (it may have happened), so the shared client is not used across the kill for writes.
    const survivor = new HttpClient({ ...conn, server: others[0].url });
    const pods = async () => (await survivor.list(R.pods, NS, { labelSelector: 'app=web' })).items.filter((p) => !p.metadata.deletionTimestamp).length;
    await survivor.create(DEPLOYMENTS, NS, deployment(2));
    await waitFor('2 pods of the Deployment before the kill', async () => (await pods()) === 2, 30_000);

    const load = writeLoad(loadClient, 'w', 100);
    // Writes acknowledged and in flight when the leader dies (2 s at 100/s: ~200 before the kill).
    await waitFor('writes acknowledged before the kill', async () => load.acked.length >= 150, 20_000);
    const ackedBeforeKill = load.acked.length;
    const killedAt = Date.now();
    await leader.kill9();
    // Scaled right after the kill: only a new leader's ReplicaSet controller makes the 2 more pods.
    await survivor.patch(DEPLOYMENTS, NS, 'web', 'merge', { spec: { replicas: 4 } });
    await waitFor('4 pods after the kill', async () => (await pods()) === 4, 20_000);
    const controllersBack = (Date.now() - killedAt) / 1000;
    await sleep(Math.max(0, 10_000 - (Date.now() - killedAt)));
    await load.stop();
    const ackedAfterKill = load.acked.length - ackedBeforeKill;

    // Every acknowledged write is there, read back through a surviving server.
    const stored = new Set((await survivor.list(R.configmaps, NS)).items.map((c) => c.metadata.name));
    const lost = load.acked.filter((n) => !stored.has(n));
    assert.deepEqual(lost, [], 'acknowledged writes missing after the kill');
    // Writes go on through the other servers (what is checked), not a rate: 400 of 1,000 failed once at load 16 (369).
    assert.ok(ackedAfterKill >= 200, `only ${ackedAfterKill} writes acknowledged in the 10 s after the kill`);
    assert.ok(moves.length >= 1 && moves[0].startsWith(leader.url), `the client moved off the dead server: ${moves.join(', ')}`);
    assert.ok(controllersBack <= 15, `controllers resumed after ${controllersBack.toFixed(1)} s`);
    const newLeader = await waitFor('a new leader', async () => leaderOf()[0], 5000);
    assert.notEqual(newLeader, leader);

    // The dead server's endpoint goes once its Lease (15 s) runs out and a live server writes again.
    const left = others.map((s) => s.url.replace(/^https:\/\/|:\d+$/g, '')).sort();
    await waitFor('the kubernetes Endpoints without the dead server', async () => JSON.stringify(await endpointIPs(survivor)) === JSON.stringify(left), 35_000);
    const endpointGone = (Date.now() - killedAt) / 1000;
    survivor.close();
    loadClient.close();
    process.stdout.write(`# leader kill -9: ${load.sent()} writes sent at 100/s, ${load.acked.length} acknowledged (all present), ${load.failed.length} failed `
      + `(${[...new Set(load.failed.map((f) => f.error.slice(0, 60)))].join(' | ')}); ${ackedAfterKill} acknowledged in the 10 s after the kill; `
      + `scaled Deployment's pods ${controllersBack.toFixed(1)} s after the kill; endpoint dropped after ${endpointGone.toFixed(1)} s\n`);
  });

  test('kill -9 of the etcd leader: writes and a watch go on', async () => {
    // Which member leads (maintenance status answers with this member's id and the leader's).
    let leaderIdx = -1;
    for (const [i, m] of etcd.members.entries()) {
      const res = await fetch(`http://${m.endpoint}/v3/maintenance/status`, { method: 'POST', body: '{}' });
      const st = await res.json() as { header: { member_id: string }; leader: string };
      if (st.header.member_id === st.leader) leaderIdx = i;
    }
    assert.ok(leaderIdx >= 0, 'an etcd leader');
    const live = servers.filter((s) => s.lastExit() === undefined);
    const conn = loadKubeconfig(servers[0].kubeconfig);
    const c = new HttpClient({ ...conn, server: live[0].url, servers: live.map((s) => s.url) }, { timeoutMs: 20_000 });
    const seen = new Set<string>();
    const list = await c.list(R.configmaps, NS);
    // The watch is served by another server than the writes go to: the event crosses etcd.
    const watcher = new HttpClient({ ...conn, server: live[1].url });
    let watch: ClientWatch | undefined = await watcher.watch(R.configmaps, NS, { resourceVersion: list.resourceVersion }, (ev) => { if (ev.type === 'ADDED' && ev.object.metadata.name) seen.add(ev.object.metadata.name); });
    let watchEnded = false;
    void watch.done.then(() => { watchEnded = true; });
    const load = writeLoad(c, 'e', 100);
    await waitFor('writes acknowledged before the kill', async () => load.acked.length >= 100, 20_000);
    const killedAt = Date.now();
    await etcd.members[leaderIdx].kill9();
    await sleep(10_000);
    await load.stop();
    const afterKill = load.acked.length;
    await waitFor('the watch to deliver every acknowledged write', async () => load.acked.every((n) => seen.has(n)), 15_000);
    assert.equal(watchEnded, false, 'the watch stayed open across the etcd leader\'s death');
    const stored = new Set((await c.list(R.configmaps, NS)).items.map((x) => x.metadata.name));
    assert.deepEqual(load.acked.filter((n) => !stored.has(n)), [], 'acknowledged writes missing');
    const failedRatio = load.failed.length / load.sent();
    assert.ok(failedRatio <= 0.05, `${load.failed.length} of ${load.sent()} writes failed: ${load.failed.slice(0, 3).map((f) => f.error).join(' | ')}`);
    const slowest = load.failed.length ? Math.max(...load.failed.map((f) => f.at - killedAt)) / 1000 : 0;
    watch.close();
    watch = undefined;
    watcher.close();
    c.close();
    process.stdout.write(`# etcd leader (member ${etcd.members[leaderIdx].name}) kill -9: ${load.sent()} writes sent at 100/s, ${afterKill} acknowledged, ${load.failed.length} failed`
      + `${load.failed.length ? ` (last ${slowest.toFixed(1)} s after the kill)` : ''}; the watch delivered all ${seen.size} and stayed open\n`);
  });
});
