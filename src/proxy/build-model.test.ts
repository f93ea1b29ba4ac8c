import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servicePortsOf } from './build-model.ts';
import { chooseEndpoints } from './endpoint-select.ts';
import { serviceObject, sliceObject } from './service-model.fixture.ts';

test('named ports take the number each slice carries; other names and protocols are ignored', () => {
  const svc = serviceObject('ns', 'web', { clusterIP: '10.61.0.5', ports: [{ name: 'http', port: 80, targetPort: 'web' }, { name: 'dns', port: 53, protocol: 'UDP' }] });
  const a = sliceObject('ns', 'web', 'web-a', [{ name: 'http', port: 8080 }, { name: 'dns', port: 5353, protocol: 'UDP' }], [{ ip: '10.60.1.2' }]);
  const b = sliceObject('ns', 'web', 'web-b', [{ name: 'http', port: 9090 }, { name: 'other', port: 1 }], [{ ip: '10.60.1.3' }]);
  const [http, dns] = servicePortsOf(svc, [a, b]);
  assert.deepEqual(http.endpoints.map((e) => `${e.ip}:${e.port}`), ['10.60.1.2:8080', '10.60.1.3:9090']);
  assert.equal(http.protocol, 'tcp');
  assert.deepEqual(dns.endpoints.map((e) => `${e.ip}:${e.port}`), ['10.60.1.2:5353']);
  assert.equal(dns.protocol, 'udp');
});

test('headless, ExternalName and unallocated Services give no ports', () => {
  const ports = [{ port: 80 }];
  assert.equal(servicePortsOf(serviceObject('ns', 'h', { clusterIP: 'None', ports }), []).length, 0);
  assert.equal(servicePortsOf(serviceObject('ns', 'x', { type: 'ExternalName', ports }), []).length, 0);
  assert.equal(servicePortsOf(serviceObject('ns', 'u', { ports }), []).length, 0);
});

test('node ports only for NodePort/LoadBalancer; affinity defaults to 10800 s; policies', () => {
  const ports = [{ port: 80, nodePort: 30080 }];
  const [cip] = servicePortsOf(serviceObject('ns', 'a', { clusterIP: '10.61.0.1', ports, sessionAffinity: 'ClientIP' }), []);
  assert.equal(cip.nodePort, undefined);
  assert.equal(cip.affinitySeconds, 10800);
  const [np] = servicePortsOf(serviceObject('ns', 'b', { clusterIP: '10.61.0.2', type: 'NodePort', ports, sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 60, externalTrafficPolicy: 'Local', internalTrafficPolicy: 'Local' }), []);
  assert.equal(np.nodePort, 30080);
  assert.equal(np.affinitySeconds, 60);
  assert.ok(np.externalLocal && np.internalLocal);
  assert.equal(servicePortsOf(serviceObject('ns', 'c', { clusterIP: '10.61.0.3', type: 'LoadBalancer', ports }), [])[0].nodePort, 30080);
});

test('duplicate addresses across slices keep the ready copy; IPv6 slices are skipped', () => {
  const svc = serviceObject('ns', 'd', { clusterIP: '10.61.0.4', ports: [{ port: 80 }] });
  const a = sliceObject('ns', 'd', 'd-a', [{ port: 80 }], [{ ip: '10.60.1.9', ready: false }]);
  const b = sliceObject('ns', 'd', 'd-b', [{ port: 80 }], [{ ip: '10.60.1.9' }]);
  const v6 = { ...sliceObject('ns', 'd', 'd-6', [{ port: 80 }], [{ ip: 'fd00::1' }]), addressType: 'IPv6' };
  const [p] = servicePortsOf(svc, [a, b, v6]);
  assert.deepEqual(p.endpoints.map((e) => [e.ip, e.ready]), [['10.60.1.9', true]]);
});

test('endpoint choice: ready first, serving-terminating as fallback, local for Local policies', () => {
  const svc = serviceObject('ns', 'e', { clusterIP: '10.61.0.6', type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }], internalTrafficPolicy: 'Local' });
  const slice = sliceObject('ns', 'e', 'e-a', [{ port: 80 }], [
    { ip: '10.60.1.1', nodeName: 'n1' },
    { ip: '10.60.1.2', nodeName: 'n2' },
    { ip: '10.60.1.3', nodeName: 'n1', ready: false, serving: true, terminating: true },
    { ip: '10.60.1.4', nodeName: 'n3', ready: false, serving: false, terminating: true },
  ]);
  const [p] = servicePortsOf(svc, [slice]);
  const ips = (eps: { ip: string }[]) => eps.map((e) => e.ip);
  const c1 = chooseEndpoints(p, 'n1');
  assert.deepEqual(ips(c1.all), ['10.60.1.1', '10.60.1.2']);
  assert.deepEqual(ips(c1.internal), ['10.60.1.1']);
  assert.deepEqual(ips(c1.external), ['10.60.1.1', '10.60.1.2']);
  // n3 has only a terminating, not-serving endpoint: nothing local.
  assert.deepEqual(ips(chooseEndpoints(p, 'n3').internal), []);
  // No ready endpoint anywhere: the serving-terminating one is used.
  const [q] = servicePortsOf(svc, [sliceObject('ns', 'e', 'e-a', [{ port: 80 }], [
    { ip: '10.60.1.3', nodeName: 'n1', ready: false, serving: true, terminating: true },
    { ip: '10.60.1.5', nodeName: 'n1', ready: false },
  ])]);
  assert.deepEqual(ips(chooseEndpoints(q, 'n1').all), ['10.60.1.3']);
});
