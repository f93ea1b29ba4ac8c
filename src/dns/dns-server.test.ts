/**
 * End to end: a real Berth API server (in-memory process, SQLite in a temp dir), objects written
 * through the client, the DNS server fed by informers, queried over real UDP and TCP sockets on
 * 127.0.0.1 with dns-packet and with dig. Forwarding goes to a private dnsmasq on loopback only.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import dgram from 'node:dgram';
import type { Answer } from 'dns-packet';
import { R } from '../client/client.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { startTestEnv, waitFor, type TestEnv } from '../controllers/control-plane.fixture.ts';
import { startDnsmasq, type RunningDnsmasq } from './dnsmasq.fixture.ts';
import { dnsInformers } from './informer-feed.ts';
import { startDnsServer, type RunningDnsServer } from './server.ts';
import { makeQuery, tcpQueries, udpQuery } from './dns-client.fixture.ts';

const run = promisify(execFile);
const NS = 'default';
const NEG_TTL = 17;

let env: TestEnv;
let factory: InformerFactory;
let dns: RunningDnsServer;
let dnsmasq: RunningDnsmasq;
let silent: dgram.Socket;
let dir: string;
let webIP: string;

const data = (as: Answer[] | undefined, type = 'A') => (as ?? []).filter((a) => a.type === type).map((a) => (a as { data: unknown }).data);
const A = (name: string, type = 'A', edns?: number) => udpQuery(dns.port, makeQuery(name, type, edns));

async function dig(...args: string[]): Promise<string[]> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(dns.port), '+short', '+time=2', '+tries=1', ...args]);
  return stdout.trim().split('\n').filter(Boolean);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-dns-'));
  await chmod(dir, 0o755); // dnsmasq reads the hosts file as nobody
  const hosts = ['192.0.2.10 www.example.test', ...Array.from({ length: 120 }, (_, i) => `198.51.100.${i + 1} big.example.test`)];
  await writeFile(join(dir, 'hosts'), hosts.join('\n') + '\n', { mode: 0o644 });
  dnsmasq = await startDnsmasq({ hostsFile: join(dir, 'hosts') });
  // An upstream that never answers, listed first: forwarding must time out and move on.
  silent = dgram.createSocket('udp4');
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', () => r()));

  env = await startTestEnv();
  factory = new InformerFactory(env.client);
  dns = await startDnsServer({
    informers: dnsInformers(factory), listen: { host: '127.0.0.1', port: 0 }, negativeTtl: NEG_TTL,
    upstreams: [`127.0.0.1:${silent.address().port}`, `127.0.0.1:${dnsmasq.port}`], upstreamTimeoutMs: 400,
  });
  factory.start();
  await factory.waitForSync();

  const web = await env.client.create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: NS }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
  webIP = web.spec.clusterIP;
  assert.match(webIP, /^10\.43\./, 'the API server allocates the ClusterIP');
  for (const name of ['db', 'big']) {
    await env.client.create(R.services, NS, { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: NS }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] } });
  }
  const slice = (name: string, svc: string, endpoints: unknown[]) => env.client.create(R.endpointslices, NS, {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': svc } },
    addressType: 'IPv4', endpoints, ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }],
  });
  await slice('db-abc', 'db', [
    { addresses: ['10.42.0.5'], hostname: 'db-0', conditions: { ready: true } },
    { addresses: ['10.42.0.6'], conditions: { ready: true } },
    { addresses: ['10.42.0.7'], conditions: { ready: false } },
  ]);
  await slice('big-abc', 'big', Array.from({ length: 40 }, (_, i) => ({ addresses: [`10.42.1.${i + 1}`], conditions: { ready: true } })));
  // A StatefulSet-style pod no EndpointSlice lists yet.
  const pod = await env.client.create(R.pods, NS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-1', namespace: NS }, spec: { hostname: 'db-1', subdomain: 'db', containers: [{ name: 'c', image: 'busybox' }] } });
  await env.client.update(R.pods, NS, { ...pod, status: { phase: 'Running', podIP: '10.42.0.9', conditions: [{ type: 'Ready', status: 'True' }] } }, 'status');
  await waitFor(() => dns.index!.podsByHostname(NS, 'db', 'db-1').some((p) => p.ip) && [...dns.index!.slices(NS, 'db')].length === 1 && [...dns.index!.slices(NS, 'big')].length === 1 && dns.index!.service(NS, 'web'), 'the index to see the objects');
});

after(async () => {
  await dns?.close();
  factory?.stop();
  await env?.close();
  await dnsmasq?.stop();
  silent?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('cluster DNS server', () => {
  it('answers a ClusterIP service A over UDP, authoritatively, and with dig', async () => {
    const r = await A('web.default.svc.cluster.local');
    assert.equal(r.rcode, 'NOERROR');
    assert.ok(r.flag_aa && r.flag_ra);
    assert.deepEqual(data(r.answers), [webIP]);
    assert.equal((r.answers![0] as { ttl?: number }).ttl, 5);
    assert.deepEqual(await dig('WEB.Default.svc.cluster.local', 'A'), [webIP]);
  });

  it('answers SRV for a named port, with dig, and the target A as additional data', async () => {
    assert.deepEqual(await dig('_http._tcp.web.default.svc.cluster.local', 'SRV'), ['0 100 80 web.default.svc.cluster.local.']);
    const r = await A('_pg._tcp.db.default.svc.cluster.local', 'SRV');
    assert.deepEqual(data(r.answers, 'SRV').map((d) => (d as { target: string }).target).sort(), ['10-42-0-6.db.default.svc.cluster.local', 'db-0.db.default.svc.cluster.local']);
    assert.deepEqual(data(r.additionals).sort(), ['10.42.0.5', '10.42.0.6']);
  });

  it('answers headless services, endpoint hostnames, dashed IPs and pod hostname/subdomain', async () => {
    assert.deepEqual(data((await A('db.default.svc.cluster.local')).answers).sort(), ['10.42.0.5', '10.42.0.6']);
    assert.deepEqual(data((await A('db-0.db.default.svc.cluster.local')).answers), ['10.42.0.5']);
    assert.deepEqual(data((await A('10-42-0-6.db.default.svc.cluster.local')).answers), ['10.42.0.6']);
    assert.deepEqual(data((await A('db-1.db.default.svc.cluster.local')).answers), ['10.42.0.9'], 'from the pod informer');
    assert.deepEqual(data((await A('10-1-2-3.default.pod.cluster.local')).answers), ['10.1.2.3']);
  });

  it('NXDOMAIN and NODATA carry the SOA with the negative TTL', async () => {
    for (const [name, type, rcode] of [['nope.default.svc.cluster.local', 'A', 'NXDOMAIN'], ['web.default.svc.cluster.local', 'AAAA', 'NOERROR'], ['default.svc.cluster.local', 'A', 'NOERROR'], ['svc.cluster.local', 'A', 'NOERROR']] as const) {
      const r = await A(name, type);
      assert.equal(r.rcode, rcode, `${name} ${type}`);
      assert.deepEqual(r.answers, []);
      const soa = r.authorities?.[0] as Extract<Answer, { type: 'SOA' }>;
      assert.equal(soa?.type, 'SOA', `${name}: SOA in authority`);
      assert.equal(soa.ttl, NEG_TTL);
      assert.equal(soa.data.minimum, NEG_TTL);
    }
  });

  it('answers several queries on one TCP connection', async () => {
    const [a, b, c] = await tcpQueries(dns.port, [makeQuery('web.default.svc.cluster.local', 'A'), makeQuery('db-0.db.default.svc.cluster.local', 'A'), makeQuery('x.default.svc.cluster.local', 'A')]);
    assert.deepEqual(data(a.answers), [webIP]);
    assert.deepEqual(data(b.answers), ['10.42.0.5']);
    assert.equal(c.rcode, 'NXDOMAIN');
  });

  it('truncates big UDP answers (TC) and gives them whole over TCP', async () => {
    const u = await A('big.default.svc.cluster.local');
    assert.ok(u.flag_tc, 'TC set');
    assert.ok(u.size <= 512);
    const [t] = await tcpQueries(dns.port, [makeQuery('big.default.svc.cluster.local', 'A')]);
    assert.ok(!t.flag_tc);
    assert.equal(data(t.answers).length, 40);
    assert.equal((await dig('big.default.svc.cluster.local', '+noedns')).length, 40, 'dig retries over TCP');
  });

  it('forwards names outside the cluster domain to the (loopback) upstream over UDP and TCP', async () => {
    // The first forwarded query: the silent upstream is tried first and times out (400 ms).
    const t0 = Date.now();
    const u = await A('www.example.test');
    assert.ok(Date.now() - t0 >= 350, 'went through the silent upstream first');
    assert.deepEqual(data(u.answers), ['192.0.2.10']);
    assert.equal(u.rcode, 'NOERROR');
    const t1 = Date.now();
    await A('www.example.test');
    assert.ok(Date.now() - t1 < 350, 'then sticks to the upstream that answered');
    const [t] = await tcpQueries(dns.port, [makeQuery('WWW.example.test', 'A')]);
    assert.deepEqual(data(t.answers), ['192.0.2.10']);
    assert.deepEqual(await dig('www.example.test'), ['192.0.2.10']);
  });

  it('falls back to TCP upstream when the upstream truncates', async () => {
    // 120 A records (~2 KB) exceed dnsmasq's 1232-byte EDNS limit: it sets TC, we re-ask over TCP.
    const e = await A('big.example.test', 'A', 4096);
    assert.ok(!e.flag_tc);
    assert.equal(data(e.answers).length, 120);
    // Without EDNS the client's limit is 512: truncated for it, whole over TCP.
    const u = await A('big.example.test');
    assert.ok(u.flag_tc);
    const [t] = await tcpQueries(dns.port, [makeQuery('big.example.test', 'A')]);
    assert.equal(data(t.answers).length, 120);
  });

  it('stops resolving a deleted Service', async () => {
    await env.client.delete(R.services, NS, 'web');
    const r = await waitFor(async () => { const x = await A('web.default.svc.cluster.local'); return x.rcode === 'NXDOMAIN' && x; }, 'web to be NXDOMAIN');
    assert.deepEqual(r.answers, []);
    assert.equal(r.authorities?.[0]?.type, 'SOA');
  });
});
