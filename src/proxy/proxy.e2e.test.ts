/**
 * End to end on real nftables, inside namespaces of our own (see netns-lab.fixture.ts): a real Berth API
 * server (SQLite, service CIDR 10.61.0.0/16) feeds the proxy through informers; the proxy programs
 * the lab's "host" namespace; connections are made from pod namespaces and from the host.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../apis/object.ts';
import { R } from '../client/client.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { LocalClient } from '../client/local-client.ts';
import { startServer, type RunningServer } from '../server/berth-server.ts';
import { createLogger } from '../util/log.ts';
import { serviceObject, sliceObject, type EndpointInput, type ServiceSpecInput } from './service-model.fixture.ts';
import { NetnsLab, NODE_IP, removeStaleNamespaces, type ClientResult } from './netns-lab.fixture.ts';
import { NftRunner } from './nft-runner.ts';
import { startServiceProxy, type RunningServiceProxy } from './service-proxy.ts';
import { servicePortsOf } from './build-model.ts';
import { stateOf } from './desired-table.ts';
import { servicePortFragment } from './service-rules.ts';
import { deleteScript, fullScript } from './transaction.ts';

const PREFIX = 'proxy-test-e2e';
const SERVICE_CIDR = '10.61.0.0/16';
const TABLE = 'proxy-e2e';
const NS = 'default';
const lab = new NetnsLab(PREFIX);
const runner = new NftRunner({ netns: lab.host });
let server: RunningServer;
let dataDir: string;
let client: LocalClient;
let factory: InformerFactory;
let proxy: RunningServiceProxy | undefined;

// Interrupted runs still remove their namespaces.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { lab.destroySync(); process.exit(130); });

before(async () => {
  assert.equal(process.getuid?.(), 0, 'these tests need root (network namespaces, nftables)');
  await removeStaleNamespaces(PREFIX);
  await lab.create(3, SERVICE_CIDR);
  for (let i = 1; i <= 3; i++) await lab.serve(lab.pod(i), `pod${i}`, 8080);
  await lab.serve(lab.pod(3), 'pod3-alt', 9090);
  for (let i = 1; i <= 2; i++) await lab.serveUdp(lab.pod(i), `pod${i}`, 5353);
  dataDir = await mkdtemp(join(tmpdir(), 'berth-proxy-'));
  const log = createLogger({ level: (process.env.BERTH_TEST_LOG as 'debug') || 'error' });
  server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log, serviceCidr: SERVICE_CIDR });
  client = new LocalClient(server.registry);
  factory = new InformerFactory(client);
  // A stale table of the same name must be replaced on start.
  await runner.apply(`add table ip ${TABLE}\nadd chain ip ${TABLE} leftover\n`);
  proxy = await startServiceProxy({ informers: factory, nodeName: 'node-a', serviceCidr: SERVICE_CIDR, table: TABLE, runner, logger: log });
});

after(async () => {
  await proxy?.stop({ cleanup: true }).catch(() => {});
  factory?.stop();
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  await lab.destroy();
});

async function createService(name: string, spec: Omit<ServiceSpecInput, 'ports'> & { ports?: ServiceSpecInput['ports'] }): Promise<KubeObject> {
  return client.create(R.services, NS, serviceObject(NS, name, { ports: [{ name: 'http', port: 80, targetPort: 'web' }], ...spec }));
}
async function setEndpoints(service: string, eps: EndpointInput[], port = 8080): Promise<void> {
  const slice = sliceObject(NS, service, `${service}-1`, [{ name: 'http', port }], eps);
  try {
    const cur = await client.get(R.endpointslices, NS, `${service}-1`);
    await client.update(R.endpointslices, NS, { ...slice, metadata: { ...slice.metadata, resourceVersion: cur.metadata.resourceVersion } });
  } catch {
    await client.create(R.endpointslices, NS, slice);
  }
}
/** Waits until the proxy has applied everything (the informer may still be delivering). */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('proxy did not sync within 5 s')), 5000); });
  try { await Promise.race([proxy!.synced(), timeout]); } finally { clearTimeout(timer); }
}
const ipOf = (svc: KubeObject) => svc.spec!.clusterIP as string;
const nodePortOf = (svc: KubeObject) => (svc.spec!.ports as { nodePort: number }[])[0].nodePort;
const names = (rs: ClientResult[]) => new Set(rs.map((r) => (r.ok ? r.body!.split(' ')[0] : r.code)));
const pods12: EndpointInput[] = [{ ip: lab.podIP(1), nodeName: 'node-a' }, { ip: lab.podIP(2), nodeName: 'node-a' }];

test('start replaced the stale table', async () => {
  const listed = (await runner.listTable(TABLE))!;
  assert.doesNotMatch(listed, /leftover/);
  assert.match(listed, /chain nat-prerouting/);
});

test('cluster IP balances over endpoints, from a pod and from the host; named target port', async () => {
  const svc = await createService('web', {});
  await setEndpoints('web', pods12);
  await settle();
  const fromPod = await lab.connect(lab.pod(3), ipOf(svc), 80, 32);
  assert.ok(fromPod.every((r) => r.ok), JSON.stringify(fromPod));
  assert.deepEqual(names(fromPod), new Set(['pod1', 'pod2']));
  // The pod's own address is kept (no masquerade for pod → pod).
  assert.ok(fromPod.every((r) => r.body!.endsWith(` ${lab.podIP(3)}`)), JSON.stringify(fromPod));
  const fromHost = await lab.connect(lab.host, ipOf(svc), 80, 32);
  assert.ok(fromHost.every((r) => r.ok), JSON.stringify(fromHost));
  assert.equal(names(fromHost).size, 2);
});

test('a service with no endpoints, an unused port and an unallocated IP are refused at once', async () => {
  const empty = await createService('empty', {});
  await settle();
  for (const ns of [lab.pod(1), lab.host]) {
    const [r] = await lab.connect(ns, ipOf(empty), 80);
    assert.equal(r.code, 'ECONNREFUSED', `${ns}: ${JSON.stringify(r)}`);
    assert.ok(r.ms < 1000);
    const [wrongPort] = await lab.connect(ns, ipOf(empty), 81);
    assert.equal(wrongPort.code, 'ECONNREFUSED');
    const [unknown] = await lab.connect(ns, '10.61.255.254', 80);
    assert.equal(unknown.code, 'ECONNREFUSED', `${ns}: ${JSON.stringify(unknown)}`);
    assert.ok(unknown.ms < 1000);
  }
});

test('hairpin: a pod reaching itself through its service gets an answer (masqueraded)', async () => {
  const svc = await createService('self', {});
  await setEndpoints('self', [{ ip: lab.podIP(1), nodeName: 'node-a' }]);
  await settle();
  const rs = await lab.connect(lab.pod(1), ipOf(svc), 80, 3);
  assert.ok(rs.every((r) => r.ok && r.body === `pod1 ${NODE_IP}`), JSON.stringify(rs));
});

test('node port: on the node address from a pod and the host, and on 127.0.0.1 from the host', async () => {
  const svc = await createService('np', { type: 'NodePort' });
  await setEndpoints('np', pods12);
  await settle();
  const port = nodePortOf(svc);
  for (const [ns, host] of [[lab.pod(3), NODE_IP], [lab.host, NODE_IP], [lab.host, '127.0.0.1']]) {
    const rs = await lab.connect(ns, host, port, 32);
    assert.ok(rs.every((r) => r.ok), `${ns} → ${host}: ${JSON.stringify(rs)}`);
    assert.equal(names(rs).size, 2, `${ns} → ${host}`);
  }
  const empty = await createService('np-empty', { type: 'NodePort' });
  await settle();
  const [r] = await lab.connect(lab.host, '127.0.0.1', nodePortOf(empty));
  assert.equal(r.code, 'ECONNREFUSED');
});

test('ClientIP affinity sticks to one endpoint', async () => {
  const svc = await createService('sticky', { sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 60 });
  await setEndpoints('sticky', [...pods12, { ip: lab.podIP(3), nodeName: 'node-a' }]);
  await settle();
  for (const ns of [lab.pod(1), lab.host]) {
    const rs = await lab.connect(ns, ipOf(svc), 80, 10);
    assert.ok(rs.every((r) => r.ok), JSON.stringify(rs));
    assert.equal(names(rs).size, 1, `${ns}: ${JSON.stringify(rs)}`);
  }
});

test('externalTrafficPolicy Local with no local endpoint drops node-port traffic from pods', async () => {
  const svc = await createService('etp', { type: 'NodePort', externalTrafficPolicy: 'Local' });
  await setEndpoints('etp', [{ ip: lab.podIP(1), nodeName: 'node-b' }]);
  await settle();
  const [dropped] = await lab.connect(lab.pod(2), NODE_IP, nodePortOf(svc), 1, 400);
  assert.equal(dropped.code, 'TIMEOUT', JSON.stringify(dropped));
  // The cluster IP still reaches the remote endpoint (policy Cluster for internal traffic).
  const [ok] = await lab.connect(lab.pod(2), ipOf(svc), 80);
  assert.equal(ok.body?.split(' ')[0], 'pod1');
});

test('an endpoint change is routed by an incremental sync that rewrites only that service (time printed; the 100 ms target is bench proxy\'s)', async (t) => {
  const svc = await createService('move', {});
  await setEndpoints('move', [{ ip: lab.podIP(1) }]);
  await settle();
  assert.deepEqual(names(await lab.connect(lab.pod(2), ipOf(svc), 80, 3)), new Set(['pod1']));
  const t0 = performance.now();
  await setEndpoints('move', [{ ip: lab.podIP(3) }], 9090); // a new address and a new port
  // Poll the kernel's table from here: the rule is in when the new endpoint chain is listed.
  let routedMs = NaN;
  while (performance.now() - t0 < 2000) {
    if ((await runner.listTable(TABLE))!.includes(`${lab.podIP(3)}:9090`)) { routedMs = performance.now() - t0; break; }
  }
  await proxy!.synced();
  t.diagnostic(`API write → rules in the kernel: ${routedMs.toFixed(1)} ms; last sync ${proxy!.stats().lastSyncMs.toFixed(1)} ms, ${proxy!.stats().lastScriptLines} lines`);
  // Timing is not asserted here (CI runs suites side by side on 2 cores): `npm run bench -- proxy`
  // measures the 100 ms target. Here the rule must appear at all, within the 2 s poll.
  assert.ok(Number.isFinite(routedMs), 'the new endpoint never reached the kernel table');
  assert.ok(proxy!.stats().lastScriptLines < 20, `incremental script of ${proxy!.stats().lastScriptLines} lines`);
  const rs = await lab.connect(lab.pod(2), ipOf(svc), 80, 3);
  assert.ok(rs.every((r) => r.body === `pod3-alt ${lab.podIP(2)}`), JSON.stringify(rs));
});

test('deleting a Service removes its rules; its IP is then refused', async () => {
  const svc = await createService('gone', {});
  await setEndpoints('gone', pods12);
  await settle();
  assert.match((await runner.listTable(TABLE))!, /default\/gone\//);
  await client.delete(R.services, NS, 'gone');
  await settle();
  assert.doesNotMatch((await runner.listTable(TABLE))!, /default\/gone\//);
  const [r] = await lab.connect(lab.pod(1), ipOf(svc), 80);
  assert.equal(r.code, 'ECONNREFUSED');
});

test('headless Services get no rules; a failed sync is retried with a full resync', async () => {
  await createService('headless', { clusterIP: 'None' });
  await setEndpoints('headless', pods12);
  await settle();
  assert.doesNotMatch((await runner.listTable(TABLE))!, /default\/headless\//);
  // Someone deletes the table behind the proxy's back: the next incremental sync fails, the retry rebuilds.
  await runner.apply(`delete table ip ${TABLE}\n`);
  const before = proxy!.stats();
  await createService('after-loss', {});
  for (let i = 0; i < 100 && proxy!.stats().fullSyncs === before.fullSyncs; i++) await settle();
  const st = proxy!.stats();
  assert.ok(st.failures > before.failures && st.fullSyncs > before.fullSyncs, JSON.stringify(st));
  assert.match((await runner.listTable(TABLE))!, /chain nat-prerouting/);
});

test('every rule shape (UDP, SCTP, both Local policies, affinity, cluster CIDR) is accepted by the kernel', async () => {
  const ctx = { nodeName: 'node-a', serviceCidr: SERVICE_CIDR, clusterCidr: '10.60.0.0/16' };
  const eps: EndpointInput[] = [{ ip: lab.podIP(1), nodeName: 'node-a' }, { ip: lab.podIP(2), nodeName: 'node-b' }];
  const ports = [{ name: 'a', port: 53, protocol: 'UDP', nodePort: 30053 }, { name: 'b', port: 80, protocol: 'SCTP', nodePort: 30080 }, { name: 'c', port: 81, nodePort: 30081 }];
  const frags = [
    { internalTrafficPolicy: 'Local' as const, externalTrafficPolicy: 'Local' as const, sessionAffinity: 'ClientIP' as const },
    { externalTrafficPolicy: 'Local' as const },
    { internalTrafficPolicy: 'Local' as const },
  ].map((spec, i) => servicePortsOf(
    serviceObject(NS, `shape${i}`, { clusterIP: `10.61.250.${i + 1}`, type: 'NodePort', ports: ports.map((p) => ({ ...p, nodePort: p.nodePort + i * 100 })), ...spec }),
    [sliceObject(NS, `shape${i}`, 'x', ports.map(({ name, port, protocol }) => ({ name, port, protocol })), eps)],
  ).map((p) => servicePortFragment(p, ctx)));
  const table = `${TABLE}-shapes`;
  try {
    await runner.apply(fullScript(table, ctx, stateOf(frags)));
    assert.match((await runner.listTable(table))!, /sctp/);
  } finally {
    await runner.apply(deleteScript(table));
  }
});

test('UDP: after an endpoint change, a client that keeps its source port reaches the new endpoint (stale conntrack entries deleted)', async () => {
  const svc = await client.create(R.services, NS, serviceObject(NS, 'udp', { ports: [{ name: 'dns', port: 53, targetPort: 5353, protocol: 'UDP' }] }));
  const udpSlice = (ip: string) => sliceObject(NS, 'udp', 'udp-1', [{ name: 'dns', port: 5353, protocol: 'UDP' }], [{ ip, nodeName: 'node-a' }]);
  await client.create(R.endpointslices, NS, udpSlice(lab.podIP(1)));
  await settle();
  // One conntrack entry (fixed source port), kept alive by the traffic, DNATed to pod1.
  assert.deepEqual(await lab.udpExchange(lab.pod(3), ipOf(svc), 53, 3, 40053), ['pod1', 'pod1', 'pod1']);
  const cur = await client.get(R.endpointslices, NS, 'udp-1');
  const next = udpSlice(lab.podIP(2));
  await client.update(R.endpointslices, NS, { ...next, metadata: { ...next.metadata, resourceVersion: cur.metadata.resourceVersion } });
  await settle();
  // pod1 still answers on 5353: without the cleanup the same flow would stay with it.
  assert.deepEqual(await lab.udpExchange(lab.pod(3), ipOf(svc), 53, 3, 40053), ['pod2', 'pod2', 'pod2']);
});

test('stop({ cleanup: true }) leaves no table', async () => {
  await proxy!.stop({ cleanup: true });
  proxy = undefined;
  assert.equal(await runner.listTable(TABLE), undefined);
});
