import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { endpointSliceTable, endpointsTable, serviceTable } from './network.ts';

const now = new Date('2024-01-01T12:00:00Z');
const obj = (o: any): KubeObject => ({ metadata: { name: 'svc', namespace: 'default', creationTimestamp: '2024-01-01T11:58:00Z' }, ...o });

test('service columns', () => {
  assert.deepEqual(serviceTable.columns.map((c) => [c.name, c.priority]), [
    ['Name', 0], ['Type', 0], ['Cluster-IP', 0], ['External-IP', 0], ['Port(s)', 0], ['Age', 0], ['Selector', 1],
  ]);
});

test('NodePort service', () => {
  const svc = obj({ spec: {
    type: 'NodePort', clusterIP: '10.96.0.10', clusterIPs: ['10.96.0.10'], selector: { app: 'web', tier: 'fe' },
    ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }, { port: 53, protocol: 'UDP' }],
  } });
  assert.deepEqual(serviceTable.cells(svc, now), ['svc', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP,53/UDP', '2m', 'app=web,tier=fe']);
});

test('ClusterIP, headless, LoadBalancer, ExternalName', () => {
  const c = (spec: any, status: any = {}) => serviceTable.cells(obj({ spec, status }), now);
  assert.deepEqual(c({ type: 'ClusterIP', clusterIPs: ['None'] }).slice(1, 5), ['ClusterIP', 'None', '<none>', '<none>']);
  assert.equal(c({ type: 'ClusterIP', externalIPs: ['1.2.3.4', '5.6.7.8'], ports: [{ port: 443, protocol: 'TCP' }] })[3], '1.2.3.4,5.6.7.8');
  assert.equal(c({ type: 'LoadBalancer', ports: [{ port: 80, nodePort: 31000, protocol: 'TCP' }] })[3], '<pending>');
  assert.equal(c({ type: 'LoadBalancer' }, { loadBalancer: { ingress: [{ ip: '203.0.113.9' }, { hostname: 'lb.example.com' }] } })[3], '203.0.113.9,lb.example.com');
  assert.equal(c({ type: 'LoadBalancer', externalIPs: ['9.9.9.9'] }, { loadBalancer: { ingress: [{ ip: '1.1.1.1' }] } })[3], '1.1.1.1,9.9.9.9');
  assert.deepEqual(c({ type: 'ExternalName', externalName: 'db.example.com' }).slice(1, 5), ['ExternalName', '<none>', 'db.example.com', '<none>']);
  assert.equal(c({})[6], '<none>');
});

test('endpoints', () => {
  const ep = (subsets: any) => endpointsTable.cells(obj({ subsets }), now)[1];
  assert.equal(ep(undefined), '<none>');
  assert.equal(ep([{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }] }]), '10.0.0.1:80,10.0.0.2:80');
  assert.equal(ep([{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }], ports: [{ port: 80 }, { port: 443 }] }]),
    '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 3 more...');
  assert.equal(ep([{ addresses: [{ ip: '10.0.0.1' }] }]), '10.0.0.1');
  assert.equal(ep([{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }]), '[fd00::1]:80');
  assert.deepEqual(endpointsTable.columns.map((c) => c.name), ['Name', 'Endpoints', 'Age']);
});

test('endpointslices', () => {
  assert.deepEqual(endpointSliceTable.columns.map((c) => c.name), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  const es = obj({
    addressType: 'IPv4', ports: [{ port: 80 }, { name: 'metrics' }, {}],
    endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2', '10.0.0.3'] }, { addresses: ['10.0.0.4'] }],
  });
  assert.deepEqual(endpointSliceTable.cells(es, now), ['svc', 'IPv4', '80,metrics,*', '10.0.0.1,10.0.0.2,10.0.0.3 + 1 more...', '2m']);
  assert.deepEqual(endpointSliceTable.cells(obj({ addressType: 'IPv6' }), now).slice(2, 4), ['<unset>', '<unset>']);
});
