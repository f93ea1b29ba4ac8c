import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { serviceStrategy as s } from './service.ts';

const svc = (spec: any): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec });
const create = (o: KubeObject) => { s.defaults!(o); s.prepareForCreate!(o); return s.validate!(o); };
const fields = (errs: { field: string }[]) => errs.map((e) => e.field);

test('defaults for a ClusterIP service', () => {
  const o = svc({ selector: { app: 'web' }, ports: [{ port: 80 }] });
  assert.deepEqual(create(o), []);
  assert.equal(o.spec.type, 'ClusterIP');
  assert.equal(o.spec.sessionAffinity, 'None');
  assert.deepEqual(o.spec.ports[0], { port: 80, protocol: 'TCP', targetPort: 80 });
  assert.equal(o.spec.ipFamilyPolicy, 'SingleStack');
  assert.deepEqual(o.spec.ipFamilies, ['IPv4']);
  assert.equal(o.spec.internalTrafficPolicy, 'Cluster');
  assert.equal(o.spec.externalTrafficPolicy, undefined);
  assert.equal(o.spec.clusterIP, undefined, 'no allocation here');
  assert.deepEqual(o.status, { loadBalancer: {} });
});

test('NodePort and LoadBalancer defaults', () => {
  const np = svc({ type: 'NodePort', ports: [{ port: 80, targetPort: 'http', nodePort: 30080 }] });
  assert.deepEqual(create(np), []);
  assert.equal(np.spec.externalTrafficPolicy, 'Cluster');
  assert.equal(np.spec.ports[0].targetPort, 'http');
  const lb = svc({ type: 'LoadBalancer', ports: [{ port: 443 }] });
  assert.deepEqual(create(lb), []);
  assert.equal(lb.spec.allocateLoadBalancerNodePorts, true);
  const ca = svc({ ports: [{ port: 80 }], sessionAffinity: 'ClientIP' });
  assert.deepEqual(create(ca), []);
  assert.equal(ca.spec.sessionAffinityConfig.clientIP.timeoutSeconds, 10800);
});

test('ports required unless headless or ExternalName', () => {
  const errs = create(svc({}));
  assert.deepEqual(fields(errs), ['spec.ports']);
  assert.equal(errs[0].message, 'Required value');
  assert.deepEqual(create(svc({ clusterIP: 'None', selector: { app: 'db' } })), []);
  const ext = svc({ type: 'ExternalName', externalName: 'db.example.com.' });
  assert.deepEqual(create(ext), []);
  assert.equal(ext.spec.ipFamilies, undefined);
  assert.deepEqual(fields(create(svc({ type: 'ExternalName' }))), ['spec.externalName']);
});

test('port errors: range, names, duplicates, protocol, targetPort', () => {
  const errs = create(svc({ ports: [{ port: 0 }, { name: 'b', port: 70000, protocol: 'ICMP', targetPort: 'Bad_Name' }, { name: 'b', port: 81 }] }));
  assert.ok(fields(errs).includes('spec.ports[0].name'));
  assert.ok(fields(errs).includes('spec.ports[0].port'));
  assert.ok(fields(errs).includes('spec.ports[1].port'));
  const proto = errs.find((e) => e.field === 'spec.ports[1].protocol')!;
  assert.equal(proto.type, 'FieldValueNotSupported');
  assert.equal(proto.message, 'Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"');
  assert.ok(fields(errs).includes('spec.ports[1].targetPort'));
  assert.equal(errs.find((e) => e.field === 'spec.ports[2].name')!.type, 'FieldValueDuplicate');
  const dup = create(svc({ ports: [{ name: 'a', port: 80 }, { name: 'b', port: 80 }] }));
  assert.deepEqual(fields(dup), ['spec.ports[1]']);
});

test('type, clusterIP, nodePort and selector checks', () => {
  assert.equal(create(svc({ type: 'Weird', ports: [{ port: 1 }] }))[0].type, 'FieldValueNotSupported');
  assert.deepEqual(fields(create(svc({ clusterIP: '10.0.0.300', ports: [{ port: 1 }] }))), ['spec.clusterIPs[0]']);
  assert.deepEqual(create(svc({ clusterIP: '10.96.0.10', ports: [{ port: 1 }] })), []);
  assert.deepEqual(fields(create(svc({ ports: [{ port: 1, nodePort: 30001 }] }))), ['spec.ports[0].nodePort']);
  assert.deepEqual(fields(create(svc({ type: 'NodePort', ports: [{ port: 1, nodePort: 70000 }] }))), ['spec.ports[0].nodePort']);
  assert.deepEqual(fields(create(svc({ type: 'LoadBalancer', clusterIP: 'None', ports: [{ port: 1 }] }))), ['spec.clusterIPs[0]']);
  assert.deepEqual(fields(create(svc({ selector: { 'a b': 'x' }, ports: [{ port: 1 }] }))), ['spec.selector']);
  assert.deepEqual(fields(create(svc({ externalTrafficPolicy: 'Local', ports: [{ port: 1 }] }))), ['spec.externalTrafficPolicy']);
  assert.deepEqual(fields(create(svc({ ipFamilies: ['IPv6'], ports: [{ port: 1 }] }))), ['spec.ipFamilies']);
});

test('update: clusterIP may not change once set, but is kept when omitted', () => {
  const old = svc({ clusterIP: '10.96.0.10', ports: [{ port: 80 }] });
  s.defaults!(old);
  const changed = svc({ clusterIP: '10.96.0.11', ports: [{ port: 80 }] });
  s.defaults!(changed); s.prepareForUpdate!(changed, old);
  const errs = s.validateUpdate!(changed, old);
  assert.deepEqual(fields(errs), ['spec.clusterIPs[0]']);
  assert.match(errs[0].message, /may not change once set$/);

  const omitted = svc({ ports: [{ port: 80 }] });
  s.defaults!(omitted); s.prepareForUpdate!(omitted, old);
  assert.equal(omitted.spec.clusterIP, '10.96.0.10');
  assert.deepEqual(omitted.spec.clusterIPs, ['10.96.0.10']);
  assert.deepEqual(s.validateUpdate!(omitted, old), []);
});

test('update: nodePorts carried over; switching to ClusterIP drops them', () => {
  const old = svc({ type: 'NodePort', clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30080 }] });
  s.defaults!(old);
  const again = svc({ type: 'NodePort', ports: [{ port: 80 }] });
  s.defaults!(again); s.prepareForUpdate!(again, old);
  assert.equal(again.spec.ports[0].nodePort, 30080);
  const toCIP = structuredClone(old);
  toCIP.spec.type = 'ClusterIP';
  s.prepareForUpdate!(toCIP, old);
  assert.equal(toCIP.spec.ports[0].nodePort, undefined);
  assert.equal(toCIP.spec.externalTrafficPolicy, undefined);
  assert.deepEqual(s.validateUpdate!(toCIP, old), []);
  const toExt = structuredClone(old);
  toExt.spec.type = 'ExternalName'; toExt.spec.externalName = 'x.example.com';
  s.prepareForUpdate!(toExt, old);
  assert.deepEqual(s.validateUpdate!(toExt, old), []);
});
