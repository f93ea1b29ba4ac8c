// The fencing half of the replicated-volume contract: fenceAfter's bounds, the Fence value, and
// which pods are stateful (they self-fence and are moved; others are not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FENCE_AFTER_SECONDS, isStatefulPod, parseFence, validateFenceAfter } from './replicated.ts';

test('fenceAfter: at least two renewals, at most the grace minus the margin; the default fits the default grace', () => {
  assert.equal(validateFenceAfter(DEFAULT_FENCE_AFTER_SECONDS, 2, 8), 5);
  assert.equal(validateFenceAfter(4, 2, 8), 4);
  assert.equal(validateFenceAfter(6, 2, 8), 6);
  assert.throws(() => validateFenceAfter(3, 2, 8), /too short: .* every 2 s, so under 4 s/);
  assert.throws(() => validateFenceAfter(7, 2, 8), /too long: .* after 8 s .* use at most 6/);
  assert.throws(() => validateFenceAfter(Number.NaN, 2, 8), /positive number/);
  assert.throws(() => validateFenceAfter(-1, 2, 8), /positive number/);
});

test('parseFence: node and a non-negative integer generation required; pod and at kept; junk is no fence', () => {
  assert.deepEqual(parseFence('{"node":"n1","generation":2,"pod":"u","at":"t","x":1}'), { node: 'n1', generation: 2, pod: 'u', at: 't' });
  assert.deepEqual(parseFence('{"node":"n1","generation":0}'), { node: 'n1', generation: 0 });
  for (const bad of [undefined, '', 'nope', '{"node":"n1"}', '{"generation":1}', '{"node":"","generation":1}', '{"node":"n","generation":1.5}', '{"node":"n","generation":-1}']) assert.equal(parseFence(bad), undefined, String(bad));
});

test('isStatefulPod: StatefulSet members (controller ref) and pods with claims; not a Deployment pod, not a non-controller StatefulSet ref', () => {
  const ref = (kind: string, controller = true) => ({ metadata: { ownerReferences: [{ kind, controller }] } });
  assert.equal(isStatefulPod(ref('StatefulSet')), true);
  assert.equal(isStatefulPod(ref('StatefulSet', false)), false);
  assert.equal(isStatefulPod(ref('ReplicaSet')), false);
  assert.equal(isStatefulPod({ metadata: {}, spec: { volumes: [{ persistentVolumeClaim: { claimName: 'x' } }] } }), true);
  assert.equal(isStatefulPod({ metadata: {}, spec: { volumes: [{ emptyDir: {} } as never] } }), false);
});
