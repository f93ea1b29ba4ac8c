import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servicePortsOf } from './build-model.ts';
import { serviceObject, sliceObject, type EndpointInput, type ServiceSpecInput } from './service-model.fixture.ts';
import type { ProxyContext } from './model.ts';
import { servicePortFragment } from './service-rules.ts';
import type { Fragment } from './table-state.ts';

const ctx: ProxyContext = { nodeName: 'n1', serviceCidr: '10.61.0.0/16' };

function fragment(spec: Partial<ServiceSpecInput>, eps: EndpointInput[], c = ctx): Fragment {
  const svc = serviceObject('ns', 'web', { clusterIP: '10.61.0.10', ports: [{ name: 'http', port: 80 }], ...spec });
  const [sp] = servicePortsOf(svc, [sliceObject('ns', 'web', 'web-1', [{ name: 'http', port: 8080 }], eps)]);
  return servicePortFragment(sp, c);
}
const chain = (f: Fragment, prefix: string) => f.chains.find(([n]) => n.startsWith(prefix));
const elems = (f: Fragment, map: string) => f.elements.filter(([m]) => m === map).map(([, k, v]) => `${k} : ${v}`);

test('cluster IP: map element → one service chain DNATing to a random ready endpoint; hairpin pairs', () => {
  const f = fragment({}, [{ ip: '10.60.1.2' }, { ip: '10.60.1.3' }, { ip: '10.60.1.4', ready: false }]);
  const [svcName, svcRules] = chain(f, 'service-')!;
  assert.match(svcName, /^service-[0-9A-F]{12}-ns\/web\/tcp\/http$/);
  assert.deepEqual(elems(f, 'service-ips'), [`10.61.0.10 . tcp . 80 : goto ${svcName}`]);
  assert.deepEqual(elems(f, 'cluster-ips'), ['10.61.0.10 : ']);
  assert.deepEqual(svcRules, ['meta l4proto tcp dnat ip addr . port to numgen random mod 2 map { 0 : 10.60.1.2 . 8080, 1 : 10.60.1.3 . 8080 }']);
  assert.equal(f.chains.length, 1, 'no per-endpoint chains without affinity');
  assert.deepEqual(elems(f, 'hairpin'), ['10.60.1.2 . 10.60.1.2 : ', '10.60.1.3 . 10.60.1.3 : ']);
  assert.equal(elems(f, 'no-endpoint-services').length, 0);
  assert.equal(f.sets.length, 0);
  const [, single] = chain(fragment({}, [{ ip: '10.60.1.2' }]), 'service-')!;
  assert.deepEqual(single, ['meta l4proto tcp dnat to 10.60.1.2:8080']);
});

test('no ready endpoint: reject element, no chains', () => {
  const f = fragment({}, [{ ip: '10.60.1.2', ready: false }]);
  assert.deepEqual(elems(f, 'no-endpoint-services'), ['10.61.0.10 . tcp . 80 : goto reject-chain']);
  assert.equal(f.chains.length, 0);
  assert.equal(elems(f, 'service-ips').length, 0);
});

test('node port with policy Cluster: external chain marks for masquerade and goes to the service chain', () => {
  const f = fragment({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }, [{ ip: '10.60.1.2' }]);
  const [ext, rules] = chain(f, 'external-')!;
  const [svc] = chain(f, 'service-')!;
  assert.deepEqual(elems(f, 'service-nodeports'), [`tcp . 30080 : goto ${ext}`]);
  assert.deepEqual(rules, ['jump mark-for-masquerade', `goto ${svc}`]);
  const none = fragment({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }, []);
  assert.deepEqual(elems(none, 'no-endpoint-nodeports'), ['tcp . 30080 : goto reject-chain']);
});

test('externalTrafficPolicy Local: host traffic short-circuits to all endpoints, others to local ones; none local → drop', () => {
  const spec: Partial<ServiceSpecInput> = { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }], externalTrafficPolicy: 'Local' };
  const f = fragment(spec, [{ ip: '10.60.1.2', nodeName: 'n1' }, { ip: '10.60.1.3', nodeName: 'n2' }], { ...ctx, clusterCidr: '10.60.0.0/16' });
  const [svc, svcRules] = chain(f, 'service-')!;
  const [local, localRules] = chain(f, 'local-')!;
  const [, ext] = chain(f, 'external-')!;
  assert.deepEqual(ext, ['fib saddr type local jump mark-for-masquerade', `fib saddr type local goto ${svc}`, `ip saddr 10.60.0.0/16 goto ${svc}`, `goto ${local}`]);
  assert.deepEqual(localRules, ['meta l4proto tcp dnat to 10.60.1.2:8080']);
  // With a cluster CIDR, cluster-IP traffic from outside the pod network is masqueraded.
  assert.equal(svcRules[0], 'ip daddr 10.61.0.10 tcp dport 80 ip saddr != 10.60.0.0/16 jump mark-for-masquerade');
  const remote = fragment(spec, [{ ip: '10.60.1.3', nodeName: 'n2' }]);
  assert.deepEqual(elems(remote, 'no-endpoint-nodeports'), ['tcp . 30080 : drop']);
  assert.equal(elems(remote, 'service-ips').length, 1, 'cluster IP still reaches the remote endpoint');
});

test('internalTrafficPolicy Local: cluster IP goes to the local chain; none local → drop', () => {
  const f = fragment({ internalTrafficPolicy: 'Local' }, [{ ip: '10.60.1.2', nodeName: 'n1' }, { ip: '10.60.1.3', nodeName: 'n2' }]);
  const [local] = chain(f, 'local-')!;
  assert.deepEqual(elems(f, 'service-ips'), [`10.61.0.10 . tcp . 80 : goto ${local}`]);
  const remote = fragment({ internalTrafficPolicy: 'Local' }, [{ ip: '10.60.1.3', nodeName: 'n2' }]);
  assert.deepEqual(elems(remote, 'no-endpoint-services'), ['10.61.0.10 . tcp . 80 : drop']);
});

test('ClientIP affinity: one timed set per endpoint, checked before numgen, updated in the endpoint chain', () => {
  const f = fragment({ sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 300 }, [{ ip: '10.60.1.2' }, { ip: '10.60.1.3' }]);
  assert.equal(f.sets.length, 2);
  for (const [, decl] of f.sets) assert.equal(decl, '{ type ipv4_addr; flags dynamic,timeout; timeout 300s; }');
  const [, svcRules] = chain(f, 'service-')!;
  assert.equal(svcRules.length, 3);
  assert.match(svcRules[0], new RegExp(`^ip saddr @${f.sets[0][0]} goto endpoint-`));
  assert.match(svcRules[2], /^numgen random mod 2 vmap \{ 0 : goto endpoint-\S+__10\.60\.1\.2\/8080, 1 : goto endpoint-\S+__10\.60\.1\.3\/8080 \}$/);
  const [, epRules] = chain(f, 'endpoint-')!;
  assert.deepEqual(epRules, [`update @${f.sets[0][0]} { ip saddr }`, 'meta l4proto tcp dnat to 10.60.1.2:8080']);
  // A new timeout is a new set (sets cannot change timeout in place).
  const g = fragment({ sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 301 }, [{ ip: '10.60.1.2' }, { ip: '10.60.1.3' }]);
  assert.notEqual(g.sets[0][0], f.sets[0][0]);
});
