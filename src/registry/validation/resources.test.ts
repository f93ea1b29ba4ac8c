import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QUANTITY_MSG } from '../../apis/quantity.ts';
import { validateResourceRequirements } from './resources.ts';

test('requests above limits are refused with Kubernetes wording', () => {
  const errs = validateResourceRequirements({ requests: { cpu: '2' }, limits: { cpu: '1' } }, 'spec.containers[0].resources');
  assert.deepEqual(errs, [{ type: 'FieldValueInvalid', field: 'spec.containers[0].resources.requests', message: 'Invalid value: "2": must be less than or equal to cpu limit of 1' }]);
});

test('malformed, negative and unknown resources are refused', () => {
  const errs = validateResourceRequirements({ limits: { memory: '1GB', cpu: '-1', gpu: '1' } }, 'r');
  assert.deepEqual(errs.map((e) => e.field), ['r.limits[memory]', 'r.limits[cpu]', 'r.limits[gpu]']);
  assert.match(errs[0].message, new RegExp(QUANTITY_MSG.replace(/[[\]()^$.*+?]/g, '\\$&')));
  assert.match(errs[1].message, /must be greater than or equal to 0/);
  assert.match(errs[2].message, /must be a standard resource for containers/);
});

test('valid requirements pass', () => {
  assert.deepEqual(validateResourceRequirements({ requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m', memory: '128Mi', 'nvidia.com/gpu': 1 } }, 'r'), []);
});
