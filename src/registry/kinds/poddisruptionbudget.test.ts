import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { podDisruptionBudgetStrategy as s } from './poddisruptionbudget.ts';

const pdb = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default' }, spec });
const errs = (spec: Record<string, unknown>) => s.validate!(pdb(spec)).map((e) => `${e.field}: ${e.message}`);

test('a new budget starts with its four counts at 0, whatever the client sent', () => {
  const obj = pdb({ maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } });
  obj.status = { disruptionsAllowed: 5, disruptedPods: { x: '2024-01-01T00:00:00Z' } };
  s.prepareForCreate!(obj);
  assert.deepEqual(obj.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
});

test('minAvailable or maxUnavailable: an integer >= 0 or a percentage <= 100%, not both', () => {
  for (const ok of [{ minAvailable: 2 }, { minAvailable: '50%' }, { maxUnavailable: 0 }, { maxUnavailable: '100%' }, {}]) {
    assert.deepEqual(errs({ ...ok, selector: { matchLabels: { app: 'web' } } }), [], JSON.stringify(ok));
  }
  assert.match(errs({ minAvailable: 1, maxUnavailable: 1 })[0], /^spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set$/);
  assert.deepEqual(errs({ minAvailable: -1 }), ['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
  assert.deepEqual(errs({ maxUnavailable: '101%' }), ['spec.maxUnavailable: Invalid value: 101%: must not be greater than 100%']);
  assert.deepEqual(errs({ maxUnavailable: 'one' }), ["spec.maxUnavailable: Invalid value: one: a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')"]);
});

test('the selector is validated as a LabelSelector; the eviction policy is one of two', () => {
  assert.deepEqual(errs({ selector: { matchExpressions: [{ key: 'app', operator: 'Maybe' }] } }), ['spec.selector.matchExpressions[0].operator: Invalid value: "Maybe": not a valid selector operator']);
  assert.deepEqual(errs({ unhealthyPodEvictionPolicy: 'AlwaysAllow' }), []);
  assert.deepEqual(errs({ unhealthyPodEvictionPolicy: 'Never' }), ['spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"']);
});

test('status updates: non-negative counts and valid metav1 conditions', () => {
  const old = pdb({ maxUnavailable: 1 });
  const good = { ...old, status: { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, observedGeneration: 1, conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '', lastTransitionTime: '2024-01-01T00:00:00Z', observedGeneration: 1 }] } };
  assert.deepEqual(s.validateStatusUpdate!(good, old), []);
  const bad = { ...old, status: { disruptionsAllowed: -1, conditions: [good.status.conditions[0], { type: 'DisruptionAllowed', status: 'Maybe', reason: '', message: '' }] } };
  assert.deepEqual(s.validateStatusUpdate!(bad, old).map((e) => `${e.field}: ${e.message}`), [
    'status.conditions[1].type: Duplicate value: "DisruptionAllowed"',
    'status.conditions[1].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
    'status.conditions[1].lastTransitionTime: Required value: must be set',
    'status.conditions[1].reason: Required value: must be set',
    'status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0',
  ]);
});
