import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Answer } from 'dns-packet';
import type { KubeObject } from '../apis/object.ts';
import { DnsIndex } from './record-index.ts';
import { resolve, type Answered, type ResolverConfig } from './resolver.ts';

const cfg: ResolverConfig = { zone: 'cluster.local', ttl: 7, negativeTtl: 11 };

function svc(ns: string, name: string, spec: Record<string, unknown>): KubeObject {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec };
}

function slice(ns: string, name: string, service: string, endpoints: unknown[], ports: unknown[] = [], addressType = 'IPv4'): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', addressType, endpoints, ports,
    metadata: { name, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  };
}

function pod(ns: string, name: string, ip: string, extra: { hostname?: string; subdomain?: string; ready?: boolean } = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns },
    spec: { hostname: extra.hostname, subdomain: extra.subdomain, containers: [] },
    status: { podIP: ip, conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True' }] },
  };
}

const ep = (ip: string, opts: { hostname?: string; ready?: boolean } = {}) => ({ addresses: [ip], hostname: opts.hostname, conditions: { ready: opts.ready ?? true } });

function fixture(): DnsIndex {
  const idx = new DnsIndex();
  idx.upsertService(svc('default', 'web', { clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 9000 }] }));
  idx.upsertService(svc('default', 'db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432 }] }));
  idx.upsertSlice(slice('default', 'db-a', 'db', [ep('10.42.0.5', { hostname: 'db-0' }), ep('10.42.0.6'), ep('10.42.0.7', { ready: false })], [{ name: 'pg', port: 15432, protocol: 'TCP' }]));
  idx.upsertService(svc('default', 'ext', { type: 'ExternalName', externalName: 'Example.COM.' }));
  idx.upsertService(svc('default', 'alias', { type: 'ExternalName', externalName: 'web.default.svc.cluster.local' }));
  idx.upsertService(svc('kube-system', 'kube-dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] }));
  return idx;
}

function ask(idx: DnsIndex, name: string, type: string): Answered {
  const r = resolve({ name, type }, idx, cfg);
  assert.equal(r.kind, 'answer', `${name} ${type} should be answered, not forwarded`);
  return r as Answered;
}

const data = (as: Answer[], type?: string) => as.filter((a) => !type || a.type === type).map((a) => (a as { data: unknown }).data);

function assertNegative(r: Answered, rcode: 'NXDOMAIN' | 'NOERROR') {
  assert.equal(r.rcode, rcode);
  assert.deepEqual(r.answers, []);
  assert.equal(r.authorities.length, 1);
  const soa = r.authorities[0] as Extract<Answer, { type: 'SOA' }>;
  assert.equal(soa.type, 'SOA');
  assert.equal(soa.name, 'cluster.local');
  assert.equal(soa.ttl, 11, 'SOA TTL is the negative TTL');
  assert.equal(soa.data.minimum, 11, 'SOA MINIMUM is the negative TTL (RFC 2308)');
  assert.equal(soa.data.mname, 'ns.dns.cluster.local');
  assert.equal(soa.data.rname, 'hostmaster.cluster.local');
  assert.ok((soa.data.serial ?? 0) > 1_600_000_000);
}

test('ClusterIP service: A with the configured TTL, name echoed as asked, AAAA is NODATA', () => {
  const idx = fixture();
  const r = ask(idx, 'Web.Default.SVC.cluster.local', 'A');
  assert.equal(r.rcode, 'NOERROR');
  assert.deepEqual(r.answers, [{ type: 'A', name: 'Web.Default.SVC.cluster.local', ttl: 7, data: '10.43.0.20' }]);
  assert.deepEqual(r.authorities, []);
  assertNegative(ask(idx, 'web.default.svc.cluster.local.', 'AAAA'), 'NOERROR');
  assertNegative(ask(idx, 'web.default.svc.cluster.local', 'MX'), 'NOERROR');
});

test('headless service: one A per ready endpoint; publishNotReadyAddresses adds the rest', () => {
  const idx = fixture();
  assert.deepEqual(data(ask(idx, 'db.default.svc.cluster.local', 'A').answers).sort(), ['10.42.0.5', '10.42.0.6']);
  idx.upsertSlice(slice('default', 'db-b', 'db', [ep('10.42.0.8'), ep('10.42.0.5', { hostname: 'db-0' })]));
  assert.deepEqual(data(ask(idx, 'db.default.svc.cluster.local', 'A').answers).sort(), ['10.42.0.5', '10.42.0.6', '10.42.0.8'], 'slices merge, addresses dedupe');
  idx.upsertService(svc('default', 'db', { clusterIP: 'None', publishNotReadyAddresses: true, ports: [{ name: 'pg', port: 5432 }] }));
  assert.deepEqual(data(ask(idx, 'db.default.svc.cluster.local', 'A').answers).sort(), ['10.42.0.5', '10.42.0.6', '10.42.0.7', '10.42.0.8']);
  // IPv6 slices are not served as A records.
  idx.upsertSlice(slice('default', 'db-v6', 'db', [{ addresses: ['fd00::1'] }], [], 'IPv6'));
  assert.equal(ask(idx, 'db.default.svc.cluster.local', 'A').answers.length, 4);
});

test('headless service with no ready endpoints exists: NODATA, not NXDOMAIN', () => {
  const idx = fixture();
  idx.upsertService(svc('default', 'empty', { clusterIP: 'None' }));
  assertNegative(ask(idx, 'empty.default.svc.cluster.local', 'A'), 'NOERROR');
});

test('ExternalName: CNAME only for outside targets, chased inside the cluster domain', () => {
  const idx = fixture();
  const out = ask(idx, 'ext.default.svc.cluster.local', 'A');
  assert.equal(out.rcode, 'NOERROR');
  assert.deepEqual(out.answers, [{ type: 'CNAME', name: 'ext.default.svc.cluster.local', ttl: 7, data: 'example.com' }]);
  assert.deepEqual(out.authorities, [], 'a CNAME to the outside is a complete answer');
  const inside = ask(idx, 'alias.default.svc.cluster.local', 'A');
  assert.deepEqual(inside.answers.map((a) => [a.type, a.name, (a as { data: unknown }).data]), [
    ['CNAME', 'alias.default.svc.cluster.local', 'web.default.svc.cluster.local'],
    ['A', 'web.default.svc.cluster.local', '10.43.0.20'],
  ]);
  const nodata = ask(idx, 'alias.default.svc.cluster.local', 'AAAA');
  assert.equal(nodata.answers.length, 1);
  assert.equal(nodata.authorities[0]?.type, 'SOA', 'chain ending without data carries the SOA');
  idx.upsertService(svc('default', 'dangling', { type: 'ExternalName', externalName: 'gone.default.svc.cluster.local' }));
  assert.equal(ask(idx, 'dangling.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'rcode follows the last name in the chain');
  idx.upsertService(svc('default', 'loop', { type: 'ExternalName', externalName: 'loop.default.svc.cluster.local' }));
  assert.equal(ask(idx, 'loop.default.svc.cluster.local', 'A').answers.length, 9, 'loops stop');
});

test('SRV for a ClusterIP service: named port → the service name, A as additional; bare name → every port', () => {
  const idx = fixture();
  const r = ask(idx, '_http._tcp.web.default.svc.cluster.local', 'SRV');
  assert.deepEqual(r.answers, [{ type: 'SRV', name: '_http._tcp.web.default.svc.cluster.local', ttl: 7, data: { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' } }]);
  assert.deepEqual(r.additionals, [{ type: 'A', name: 'web.default.svc.cluster.local', ttl: 7, data: '10.43.0.20' }]);
  assert.deepEqual(data(ask(idx, '_dns._udp.web.default.svc.cluster.local', 'SRV').answers), [{ priority: 0, weight: 100, port: 53, target: 'web.default.svc.cluster.local' }]);
  assert.equal(ask(idx, '_dns._tcp.web.default.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN', 'protocol must match');
  assert.equal(ask(idx, '_nope._tcp.web.default.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN');
  const all = ask(idx, 'web.default.svc.cluster.local', 'SRV');
  assert.deepEqual(data(all.answers).map((d) => (d as { port: number }).port).sort(), [53, 80, 9000]);
  assertNegative(ask(idx, '_http._tcp.web.default.svc.cluster.local', 'A'), 'NOERROR');
  assertNegative(ask(idx, '_tcp.web.default.svc.cluster.local', 'SRV'), 'NOERROR');
  assert.equal(ask(idx, '_sctp.web.default.svc.cluster.local', 'SRV').rcode, 'NXDOMAIN');
});

test('SRV for a headless service: one per ready endpoint, hostname or dashed address, slice port', () => {
  const idx = fixture();
  const r = ask(idx, '_pg._tcp.db.default.svc.cluster.local', 'SRV');
  assert.deepEqual(data(r.answers).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))), [
    { priority: 0, weight: 50, port: 15432, target: '10-42-0-6.db.default.svc.cluster.local' },
    { priority: 0, weight: 50, port: 15432, target: 'db-0.db.default.svc.cluster.local' },
  ]);
  assert.deepEqual(r.additionals.map((a) => [a.name, (a as { data: unknown }).data]).sort(), [
    ['10-42-0-6.db.default.svc.cluster.local', '10.42.0.6'],
    ['db-0.db.default.svc.cluster.local', '10.42.0.5'],
  ]);
  assert.equal(ask(idx, 'db.default.svc.cluster.local', 'SRV').answers.length, 2);
});

test('endpoint names of a headless service: hostname and dashed address; not-ready and ClusterIP are NXDOMAIN', () => {
  const idx = fixture();
  assert.deepEqual(data(ask(idx, 'DB-0.db.default.svc.cluster.local', 'A').answers), ['10.42.0.5']);
  assert.deepEqual(data(ask(idx, '10-42-0-6.db.default.svc.cluster.local', 'A').answers), ['10.42.0.6']);
  assertNegative(ask(idx, 'db-0.db.default.svc.cluster.local', 'AAAA'), 'NOERROR');
  assertNegative(ask(idx, '10-42-0-7.db.default.svc.cluster.local', 'A'), 'NXDOMAIN');
  assertNegative(ask(idx, 'db-9.db.default.svc.cluster.local', 'A'), 'NXDOMAIN');
  assertNegative(ask(idx, '10-43-0-20.web.default.svc.cluster.local', 'A'), 'NXDOMAIN');
});

test('pod hostname + subdomain answers before the EndpointSlice knows it, and only then', () => {
  const idx = fixture();
  idx.upsertService(svc('default', 'nodes', { clusterIP: 'None' }));
  idx.upsertPod(pod('default', 'nodes-0', '10.42.1.1', { hostname: 'nodes-0', subdomain: 'nodes' }));
  idx.upsertPod(pod('default', 'nodes-1', '10.42.1.2', { hostname: 'nodes-1', subdomain: 'nodes', ready: false }));
  idx.upsertPod(pod('default', 'lone', '10.42.1.3', { hostname: 'lone', subdomain: 'missing' }));
  assert.deepEqual(data(ask(idx, 'nodes-0.nodes.default.svc.cluster.local', 'A').answers), ['10.42.1.1']);
  assert.equal(ask(idx, 'nodes-1.nodes.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'a not-ready pod is not published');
  assert.equal(ask(idx, 'lone.missing.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'needs the headless service');
  // Once a slice names the endpoint, the slice decides (here: not ready).
  idx.upsertSlice(slice('default', 'nodes-x', 'nodes', [ep('10.42.1.1', { hostname: 'nodes-0', ready: false })]));
  assert.equal(ask(idx, 'nodes-0.nodes.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
  idx.deleteSlice(slice('default', 'nodes-x', 'nodes', []));
  idx.deletePod(pod('default', 'nodes-0', ''));
  assert.equal(ask(idx, 'nodes-0.nodes.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'deleted pod is gone');
  // Not on a ClusterIP service.
  idx.upsertPod(pod('default', 'w', '10.42.1.4', { hostname: 'w', subdomain: 'web' }));
  assert.equal(ask(idx, 'w.web.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
});

test('pod A records: the address in the name (pods insecure)', () => {
  const idx = fixture();
  assert.deepEqual(ask(idx, '10-42-3-4.any.pod.cluster.local', 'A').answers, [{ type: 'A', name: '10-42-3-4.any.pod.cluster.local', ttl: 7, data: '10.42.3.4' }]);
  assertNegative(ask(idx, '10-42-3-4.any.pod.cluster.local', 'AAAA'), 'NOERROR');
  assertNegative(ask(idx, '10-42-3-256.any.pod.cluster.local', 'A'), 'NXDOMAIN');
  assertNegative(ask(idx, 'web.any.pod.cluster.local', 'A'), 'NXDOMAIN');
  assertNegative(ask(idx, 'x.10-42-3-4.any.pod.cluster.local', 'A'), 'NXDOMAIN');
  assertNegative(ask(idx, 'any.pod.cluster.local', 'A'), 'NOERROR');
});

test('intermediate names are NODATA; names under nothing are NXDOMAIN', () => {
  const idx = fixture();
  for (const n of ['cluster.local', 'svc.cluster.local', 'default.svc.cluster.local', 'pod.cluster.local', 'dns.cluster.local']) {
    assertNegative(ask(idx, n, 'A'), 'NOERROR');
  }
  for (const n of ['nowhere.svc.cluster.local', 'x.nowhere.svc.cluster.local', 'nope.default.svc.cluster.local', 'foo.cluster.local', 'a.b.c.d.e.default.svc.cluster.local', 'google.com.default.svc.cluster.local']) {
    assertNegative(ask(idx, n, 'A'), 'NXDOMAIN');
  }
});

test('zone apex SOA and NS, ns.dns A, dns-version TXT', () => {
  const idx = fixture();
  const s = ask(idx, 'cluster.local', 'SOA');
  assert.equal(s.answers[0].type, 'SOA');
  assert.equal(s.answers[0].ttl, 7);
  const ns = ask(idx, 'cluster.local', 'NS');
  assert.deepEqual(data(ns.answers), ['ns.dns.cluster.local']);
  assert.deepEqual(data(ns.additionals), ['10.43.0.10']);
  assert.deepEqual(data(ask(idx, 'ns.dns.cluster.local', 'A').answers), ['10.43.0.10']);
  assert.deepEqual(data(ask(idx, 'dns-version.cluster.local', 'TXT').answers), ['1.1.0']);
});

test('outside the zone: forwarded, except PTRs of ClusterIPs and headless endpoints', () => {
  const idx = fixture();
  assert.deepEqual(resolve({ name: 'example.com', type: 'A' }, idx, cfg), { kind: 'forward' });
  assert.deepEqual(resolve({ name: 'cluster.localx', type: 'A' }, idx, cfg), { kind: 'forward' });
  assert.deepEqual(data(ask(idx, '20.0.43.10.in-addr.arpa', 'PTR').answers), ['web.default.svc.cluster.local']);
  assert.deepEqual(data(ask(idx, '5.0.42.10.in-addr.arpa', 'PTR').answers), ['db-0.db.default.svc.cluster.local']);
  assert.deepEqual(resolve({ name: '7.0.42.10.in-addr.arpa', type: 'PTR' }, idx, cfg), { kind: 'forward' }, 'not-ready endpoint');
  assert.deepEqual(resolve({ name: '1.1.168.192.in-addr.arpa', type: 'PTR' }, idx, cfg), { kind: 'forward' });
});

test('deletes and changes take effect: service, slice, relabelled slice', () => {
  const idx = fixture();
  const before = idx.serial();
  idx.deleteService(svc('default', 'web', {}));
  assert.equal(ask(idx, 'web.default.svc.cluster.local', 'A').rcode, 'NXDOMAIN');
  assert.deepEqual(resolve({ name: '20.0.43.10.in-addr.arpa', type: 'PTR' }, idx, cfg), { kind: 'forward' });
  assert.ok(idx.serial() >= before);
  idx.deleteSlice(slice('default', 'db-a', 'db', []));
  assertNegative(ask(idx, 'db.default.svc.cluster.local', 'A'), 'NOERROR');
  idx.upsertService(svc('default', 'other', { clusterIP: 'None' }));
  idx.upsertSlice(slice('default', 'moving', 'db', [ep('10.42.9.9')]));
  assert.deepEqual(data(ask(idx, 'db.default.svc.cluster.local', 'A').answers), ['10.42.9.9']);
  idx.upsertSlice(slice('default', 'moving', 'other', [ep('10.42.9.9')]));
  assert.equal(ask(idx, 'db.default.svc.cluster.local', 'A').answers.length, 0);
  assert.deepEqual(data(ask(idx, 'other.default.svc.cluster.local', 'A').answers), ['10.42.9.9']);
  idx.deleteService(svc('default', 'db', {}));
  idx.deleteService(svc('default', 'ext', {}));
  idx.deleteService(svc('default', 'alias', {}));
  idx.deleteService(svc('default', 'other', {}));
  assert.equal(ask(idx, 'default.svc.cluster.local', 'A').rcode, 'NXDOMAIN', 'a namespace without services has no name');
});

test('other cluster domains', () => {
  const idx = fixture();
  const r = resolve({ name: 'web.default.svc.corp.internal', type: 'A' }, idx, { ...cfg, zone: 'corp.internal' }) as Answered;
  assert.deepEqual(data(r.answers), ['10.43.0.20']);
  assert.deepEqual(resolve({ name: 'web.default.svc.cluster.local', type: 'A' }, idx, { ...cfg, zone: 'corp.internal' }), { kind: 'forward' });
});
