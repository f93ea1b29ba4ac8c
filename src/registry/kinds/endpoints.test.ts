import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { endpointsStrategy as s, validateEndpointIP } from './endpoints.ts';

const ep = (subsets: any[]): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'd' }, subsets });
const f = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);

test('valid endpoints; protocol defaults to TCP', () => {
  const o = ep([{ addresses: [{ ip: '10.244.0.5', nodeName: 'n1', targetRef: { kind: 'Pod', name: 'web-1' } }], notReadyAddresses: [{ ip: 'fd00::5' }], ports: [{ port: 8080 }] }]);
  s.defaults!(o);
  assert.equal(o.subsets[0].ports[0].protocol, 'TCP');
  assert.deepEqual(s.validate!(o), []);
  assert.deepEqual(s.validate!(ep([])), []);
});

test('special and invalid IPs are rejected', () => {
  assert.equal(validateEndpointIP('127.0.0.1', 'x')[0].message, 'Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)');
  assert.equal(validateEndpointIP('0.0.0.0', 'x').length, 1);
  assert.equal(validateEndpointIP('169.254.1.1', 'x').length, 1);
  assert.equal(validateEndpointIP('224.0.0.251', 'x').length, 1);
  assert.equal(validateEndpointIP('::1', 'x').length, 1);
  assert.equal(validateEndpointIP('fe80::1', 'x').length, 1);
  assert.equal(validateEndpointIP('::ffff:127.0.0.1', 'x').length, 1);
  assert.equal(validateEndpointIP('10.1.2', 'x')[0].message, 'Invalid value: "10.1.2": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
  assert.deepEqual(validateEndpointIP('2001:db8::1', 'x'), []);
});

test('subset and port errors', () => {
  const errs = s.validate!(ep([
    {},
    { addresses: [{ ip: 'nope', hostname: 'Bad_Host' }], ports: [{ port: 80, protocol: 'TCP' }, { name: 'b', port: 0, protocol: 'HTTP' }] },
  ]));
  assert.deepEqual(f(errs), [
    'subsets[0]:FieldValueRequired', 'subsets[1].addresses[0].ip:FieldValueInvalid', 'subsets[1].addresses[0].hostname:FieldValueInvalid',
    'subsets[1].ports[0].name:FieldValueRequired', 'subsets[1].ports[1].port:FieldValueInvalid', 'subsets[1].ports[1].protocol:FieldValueNotSupported',
  ]);
  assert.equal(errs[0].message, 'Required value: must specify `addresses` or `notReadyAddresses`');
});
