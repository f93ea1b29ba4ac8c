import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { findTargetPort, podEndpoint, serviceEndpoints, type PodEndpoint } from './endpoint-build.ts';
import { planSlices } from './slice-plan.ts';

const svc = (spec: any, name = 'web'): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'ns', uid: 'svc-uid' }, spec });
const pod = (name: string, opts: { ip?: string; ready?: boolean; labels?: any; ports?: any[]; deleting?: boolean; phase?: string; hostname?: string; subdomain?: string } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels: opts.labels ?? { app: 'web' }, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { nodeName: 'n1', hostname: opts.hostname, subdomain: opts.subdomain, containers: [{ name: 'c', ports: opts.ports ?? [] }] },
  status: { phase: opts.phase ?? 'Running', podIP: opts.ip === undefined ? `10.1.0.${name.replace(/\D/g, '') || 1}` : opts.ip, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
});

test('target ports: numbers as given, names resolved per pod and protocol', () => {
  const p = pod('p1', { ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 5353, protocol: 'UDP' }] });
  assert.equal(findTargetPort({ port: 80, targetPort: 9000 }, p), 9000);
  assert.equal(findTargetPort({ port: 80, targetPort: 'http' }, p), 8080);
  assert.equal(findTargetPort({ port: 53, targetPort: 'dns', protocol: 'UDP' }, p), 5353);
  assert.equal(findTargetPort({ port: 53, targetPort: 'dns', protocol: 'TCP' }, p), undefined);
  assert.equal(findTargetPort({ port: 80 }, p), 80);
});

test('endpoint conditions: ready, not ready, terminating, publishNotReadyAddresses; finished and IP-less pods left out', () => {
  const s = svc({ selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }] });
  assert.deepEqual(podEndpoint(s, pod('p1'))!.endpoint.conditions, { ready: true, serving: true, terminating: false });
  assert.deepEqual(podEndpoint(s, pod('p2', { ready: false }))!.endpoint.conditions, { ready: false, serving: false, terminating: false });
  assert.deepEqual(podEndpoint(s, pod('p3', { deleting: true }))!.endpoint.conditions, { ready: false, serving: true, terminating: true });
  assert.equal(podEndpoint(s, pod('p3', { deleting: true }), false), undefined);
  assert.equal(podEndpoint(s, pod('p4', { phase: 'Succeeded' })), undefined);
  assert.equal(podEndpoint(s, pod('p5', { ip: '' })), undefined);
  const pub = svc({ ...s.spec, publishNotReadyAddresses: true });
  assert.equal(podEndpoint(pub, pod('p2', { ready: false }))!.endpoint.conditions.ready, true);
  const withHost = podEndpoint(s, pod('p6', { hostname: 'db-0', subdomain: 'web' }))!.endpoint;
  assert.equal(withHost.hostname, 'db-0');
  assert.equal(withHost.nodeName, 'n1');
  assert.equal(podEndpoint(s, pod('p7', { hostname: 'x', subdomain: 'other' }))!.endpoint.hostname, undefined);
  const eps = serviceEndpoints(s, [pod('p1'), pod('p9', { labels: { app: 'other' } })]);
  assert.deepEqual(eps.map((e) => e.endpoint.targetRef.name), ['p1']);
});

const eps = (n: number, from = 0): PodEndpoint[] => {
  const s = svc({ selector: { app: 'web' }, ports: [{ name: '', port: 80, targetPort: 80, protocol: 'TCP' }] });
  return Array.from({ length: n }, (_, i) => podEndpoint(s, pod(`p${from + i}`, { ip: `10.1.${(from + i) >> 8}.${(from + i) & 255}` }))!);
};
const asSlice = (name: string, c: { ports: any[]; endpoints: any[] }): KubeObject => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'ns' }, ...structuredClone(c) });

test('slices hold at most 100 endpoints; a stable set changes nothing', () => {
  const first = planSlices(eps(250), []);
  assert.deepEqual(first.create.map((c) => c.endpoints.length), [100, 100, 50]);
  const existing = first.create.map((c, i) => asSlice(`web-${i}`, c));
  const again = planSlices(eps(250), existing);
  assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0]);
});

test('churn is minimal: a removed endpoint rewrites one slice; new ones fill free room first', () => {
  const existing = planSlices(eps(150), []).create.map((c, i) => asSlice(`web-${i}`, c));
  const fewer = eps(150).filter((e) => e.endpoint.targetRef.name !== 'p3');
  const p1 = planSlices(fewer, existing);
  assert.deepEqual([p1.create.length, p1.update.length, p1.delete.length], [0, 1, 0]);
  assert.equal(p1.update[0]!.slice.metadata.name, 'web-0');
  const more = [...eps(150), ...eps(30, 150)];
  const p2 = planSlices(more, existing);
  assert.equal(p2.create.length, 0, 'room in web-1 (50 of 100) takes the 30 new ones');
  assert.deepEqual(p2.update.map((u) => [u.slice.metadata.name, u.content.endpoints.length]), [['web-1', 80]]);
  // A readiness change updates the endpoint in place, in its slice.
  const flipped = eps(150).map((e) => e.endpoint.targetRef.name === 'p120' ? { ...e, endpoint: { ...e.endpoint, conditions: { ready: false, serving: false, terminating: false } } } : e);
  const p3 = planSlices(flipped, existing);
  assert.deepEqual(p3.update.map((u) => u.slice.metadata.name), ['web-1']);
});

test('no endpoints: one empty placeholder slice, reused rather than recreated', () => {
  const p = planSlices([], []);
  assert.deepEqual(p.create, [{ ports: [], endpoints: [] }]);
  const placeholder = asSlice('web-x', { ports: [], endpoints: [] });
  const again = planSlices([], [placeholder]);
  assert.deepEqual([again.create.length, again.update.length, again.delete.length], [0, 0, 0]);
  const full = planSlices(eps(3), [placeholder]);
  assert.deepEqual([full.create.length, full.delete.map((s) => s.metadata.name)], [1, ['web-x']]);
  const existing = [asSlice('a', { ports: eps(1)[0]!.ports, endpoints: eps(2).map((e) => e.endpoint) })];
  const emptied = planSlices([], existing);
  assert.deepEqual(emptied.update.map((u) => [u.slice.metadata.name, u.content.endpoints.length]), [['a', 0]]);
  assert.equal(emptied.delete.length, 0);
});
