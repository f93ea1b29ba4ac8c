import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { endpointSliceStrategy as s } from './endpointslice.ts';

const slice = (extra: any): KubeObject => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-abc', namespace: 'd' }, ...extra });
const f = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);

test('valid slice; port defaults', () => {
  const o = slice({ addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.7'], conditions: { ready: true }, nodeName: 'n1' }], ports: [{ port: 80 }] });
  s.defaults!(o);
  assert.deepEqual(o.ports[0], { port: 80, name: '', protocol: 'TCP' });
  assert.deepEqual(s.validate!(o), []);
  assert.deepEqual(s.validate!(slice({ addressType: 'FQDN', endpoints: [{ addresses: ['db.example.com'] }] })), []);
});

test('addressType required and supported', () => {
  assert.deepEqual(f(s.validate!(slice({}))), ['addressType:FieldValueRequired']);
  const errs = s.validate!(slice({ addressType: 'IPv5' }));
  assert.equal(errs[0].message, 'Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6"');
});

test('endpoint address rules', () => {
  const errs = s.validate!(slice({ addressType: 'IPv4', endpoints: [
    { addresses: [] }, { addresses: ['fd00::1'] }, { addresses: Array(101).fill('10.0.0.1') }, { addresses: ['127.0.0.1'] },
  ] }));
  assert.deepEqual(f(errs), [
    'endpoints[0].addresses:FieldValueRequired', 'endpoints[1].addresses[0]:FieldValueInvalid',
    'endpoints[2].addresses:FieldValueTooMany', 'endpoints[3].addresses[0]:FieldValueInvalid',
  ]);
  assert.equal(errs[1].message, 'Invalid value: "fd00::1": must be an IPv4 address');
  const many = s.validate!(slice({ addressType: 'IPv4', endpoints: Array(1001).fill({ addresses: ['10.0.0.1'] }) }));
  assert.deepEqual(f(many), ['endpoints:FieldValueTooMany']);
});

test('ports: names unique, protocol valid', () => {
  const errs = s.validate!(slice({ addressType: 'IPv4', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'http', port: 81, protocol: 'TCP' }, { name: 'Bad', protocol: 'X' }] }));
  assert.deepEqual(f(errs), ['ports[1].name:FieldValueDuplicate', 'ports[2].name:FieldValueInvalid', 'ports[2].protocol:FieldValueNotSupported']);
});

test('addressType immutable', () => {
  const errs = s.validateUpdate!(slice({ addressType: 'IPv6' }), slice({ addressType: 'IPv4' }));
  assert.deepEqual(f(errs), ['addressType:FieldValueInvalid']);
  assert.equal(errs[0].message, 'Invalid value: "IPv6": field is immutable');
});
