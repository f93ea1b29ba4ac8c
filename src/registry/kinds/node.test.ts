import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { nodeStrategy as s } from './node.ts';

const node = (spec: any, status?: any): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec, ...(status ? { status } : {}) });

test('valid node with taints and podCIDR; defaults mirror podCIDR and allocatable', () => {
  const o = node({ podCIDR: '10.244.1.0/24', taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }] }, { capacity: { cpu: '4' } });
  s.defaults!(o);
  assert.deepEqual(o.spec.podCIDRs, ['10.244.1.0/24']);
  assert.deepEqual(o.status.allocatable, { cpu: '4' });
  assert.deepEqual(s.validate!(o), []);
});

test('taint errors', () => {
  const errs = s.validate!(node({ taints: [
    { key: 'bad key', value: 'v', effect: 'NoSchedule' },
    { key: 'k', effect: 'Sometimes' },
    { key: 'k', value: 'x y', effect: '' },
    { key: 'dup', effect: 'NoExecute' }, { key: 'dup', value: 'other', effect: 'NoExecute' },
  ] }));
  const f = errs.map((e) => `${e.field}:${e.type}`);
  assert.deepEqual(f, [
    'spec.taints[0].key:FieldValueInvalid', 'spec.taints[1].effect:FieldValueNotSupported',
    'spec.taints[2].value:FieldValueInvalid', 'spec.taints[2].effect:FieldValueRequired', 'spec.taints[4]:FieldValueDuplicate',
  ]);
  assert.equal(errs[1].message, 'Unsupported value: "Sometimes": supported values: "NoSchedule", "PreferNoSchedule", "NoExecute"');
  assert.match(errs[4].message, /taints must be unique by key and effect pair$/);
});

test('podCIDR: valid CIDRs; only from unset to set', () => {
  assert.deepEqual(s.validate!(node({ podCIDRs: ['10.0.0.0/33'] })).map((e) => e.field), ['spec.podCIDRs[0]']);
  const unset = node({});
  const set = node({ podCIDRs: ['10.244.0.0/24'] });
  assert.deepEqual(s.validateUpdate!(set, unset), []);
  const errs = s.validateUpdate!(node({ podCIDRs: ['10.244.9.0/24'] }), set);
  assert.deepEqual(errs.map((e) => e.field), ['spec.podCIDRs']);
  assert.equal(errs[0].type, 'FieldValueForbidden');
  assert.deepEqual(s.validateUpdate!(node({ providerID: 'b' }), node({ providerID: 'a' })).map((e) => e.field), ['spec.providerID']);
  assert.deepEqual(s.validateStatusUpdate!(node({}, { addresses: [{ type: 'InternalIP', address: '1.2.3.4' }, { type: 'InternalIP', address: '1.2.3.4' }] }), unset)
    .map((e) => e.field), ['status.addresses[1]']);
});
