import { test } from 'node:test';
import assert from 'node:assert/strict';
import { conntrackDeleteArgs, staleFlows, udpTargetsOf, type UdpTarget } from './udp-conntrack.ts';
import type { EndpointModel, ServicePortModel } from './model.ts';

const ep = (ip: string, extra: Partial<EndpointModel> = {}): EndpointModel => ({ ip, port: 53, ready: true, serving: true, terminating: false, nodeName: 'n1', ...extra });
const sp = (protocol: 'udp' | 'tcp', endpoints: EndpointModel[], extra: Partial<ServicePortModel> = {}): ServicePortModel => ({
  namespace: 'default', name: 'dns', portName: protocol, protocol, clusterIP: '10.43.0.20', port: 53,
  internalLocal: false, externalLocal: false, endpoints, ...extra,
});
const targets = (...ports: ServicePortModel[]) => udpTargetsOf(ports, 'n1');

test('only UDP ports count; their endpoints are the usable ones (ready, else serving-terminating)', () => {
  const t = targets(sp('udp', [ep('10.42.0.9'), ep('10.42.0.8', { ready: false, serving: false })]), sp('tcp', [ep('10.42.0.7')]));
  assert.deepEqual([...t.values()], [{ clusterIP: '10.43.0.20', port: 53, nodePort: undefined, endpoints: ['10.42.0.9'] }]);
});

test('an endpoint that left: its flows to the cluster IP and the node port go', () => {
  const before = targets(sp('udp', [ep('10.42.0.8'), ep('10.42.0.9')], { nodePort: 30053 }));
  const after = targets(sp('udp', [ep('10.42.0.9')], { nodePort: 30053 }));
  assert.deepEqual(staleFlows(before, after), [
    { origDst: '10.43.0.20', origPortDst: 53, replySrc: '10.42.0.8' },
    { origPortDst: 30053, replySrc: '10.42.0.8' },
  ]);
  assert.deepEqual(staleFlows(after, after), []);
});

test('first endpoints after none: every flow to the service address goes (they were rejected, without NAT)', () => {
  const none = targets(sp('udp', []));
  const some = targets(sp('udp', [ep('10.42.0.9')]));
  assert.deepEqual(staleFlows(none, some), [{ origDst: '10.43.0.20', origPortDst: 53 }]);
  assert.deepEqual(staleFlows(undefined, some), [{ origDst: '10.43.0.20', origPortDst: 53 }]);
  assert.deepEqual(staleFlows(undefined, none), []);
});

test('a Service deleted: the flows DNATed to its endpoints go', () => {
  const before = targets(sp('udp', [ep('10.42.0.9')]));
  assert.deepEqual(staleFlows(before, new Map<string, UdpTarget>()), [{ origDst: '10.43.0.20', origPortDst: 53, replySrc: '10.42.0.9' }]);
});

test('conntrack arguments', () => {
  assert.deepEqual(conntrackDeleteArgs({ origDst: '10.43.0.20', origPortDst: 53, replySrc: '10.42.0.9' }),
    ['-D', '-p', 'udp', '--orig-dst', '10.43.0.20', '--orig-port-dst', '53', '--reply-src', '10.42.0.9']);
  assert.deepEqual(conntrackDeleteArgs({ origPortDst: 30053 }), ['-D', '-p', 'udp', '--orig-port-dst', '30053']);
});
