import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { applyMergePatch } from '../apis/patch/merge-patch.ts';
import { checkFields, type FieldValidation } from './field-validation.ts';

/** A stored pod: what checkFields leaves of a body (typed, pruned, no null items). */
const storedPod = () => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: {
    name: 'p', namespace: 'w', uid: 'u-1', labels: { app: 'web' }, annotations: { a: 'b' },
    managedFields: [{ manager: 'kubectl', operation: 'Update', apiVersion: 'v1', time: '2026-12-07T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:spec': { 'f:containers': {} } } }],
  },
  spec: {
    nodeName: 'n-1', containers: [{ name: 'c', image: 'host', command: ['sleep', '1'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
    tolerations: [{ key: 'k', operator: 'Exists' }],
  },
  status: {
    phase: 'Pending', hostIP: '10.0.0.1',
    conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: '2026-12-07T00:00:00Z' }],
  },
});

/** The outcome of checking `obj`: its warnings and what is left of it, or the error a client sees. */
function outcome(obj: any, mode: FieldValidation, patch?: Record<string, unknown>): unknown {
  try {
    const warnings = checkFields(obj, 'v1', 'Pod', mode, undefined, patch);
    return { warnings, obj };
  } catch (err) {
    return { error: (err as Error).message, causes: (err as { details?: unknown }).details };
  }
}

// Keys a patch may carry: the pod's own, ones it does not have yet, and ones no schema knows.
const KEYS = ['metadata', 'labels', 'annotations', 'name', 'spec', 'containers', 'image', 'command', 'resources', 'requests', 'cpu',
  'status', 'phase', 'conditions', 'type', 'containerStatuses', 'ready', 'restartCount', 'state', 'running', 'startedAt',
  'podIP', 'podIPs', 'ip', 'hostIP', 'nodeName', 'tolerations', 'bogus', 'typo', 'finalizers', 'startTime'];

const value: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown; o: Record<string, unknown> }>((tie) => ({
  v: fc.oneof({ depthSize: 'small', withCrossShrink: true },
    fc.constant(null), fc.boolean(), fc.integer({ min: -3, max: 3 }), fc.constantFrom('x', '10m', '2026-12-07T00:00:00Z'),
    fc.array(tie('v'), { maxLength: 3 }), tie('o')),
  o: fc.dictionary(fc.constantFrom(...KEYS), tie('v'), { maxKeys: 4 }),
})).v;

/** A merge patch shaped like the API's (status, spec, metadata at the top) with anything below. */
const patchArb = fc.record({
  status: fc.option(fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 4 }), { nil: undefined }),
  spec: fc.option(fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 3 }), { nil: undefined }),
  metadata: fc.option(fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 3 }), { nil: undefined }),
  extra: fc.option(fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 2 }), { nil: undefined }),
}, { requiredKeys: [] }).map((r) => {
  const p: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined) p[k === 'extra' ? 'bogus' : k] = v;
  return p;
});

test('a stored pod passes the full check unchanged (the premise of checking only what a patch carries)', () => {
  const pod = storedPod();
  assert.deepEqual(outcome(pod, 'Strict'), { warnings: [], obj: storedPod() });
});

test('a merge patch checked by what it carries: the same warnings, errors and result as checking the whole patched object', () => {
  fc.assert(fc.property(patchArb, fc.constantFrom<FieldValidation>('Strict', 'Warn', 'Ignore'), (patch, mode) => {
    const whole = outcome(applyMergePatch(storedPod(), patch), mode);
    const carried = outcome(applyMergePatch(storedPod(), patch), mode, patch);
    assert.deepEqual(carried, whole);
  }), { numRuns: 3000 });
});

test('a status patch is not charged for the spec: the spec is not walked', () => {
  const pod: any = storedPod();
  // Were the spec walked, this (a stored value no schema allows) would be a type error.
  pod.spec.containers = 'not a list';
  const patch = { status: { phase: 'Running', podIP: '10.1.0.2', conditions: [{ type: 'Ready', status: 'True', bogus: 1 }] } };
  const patched = applyMergePatch(pod, patch);
  assert.deepEqual(checkFields(patched, 'v1', 'Pod', 'Warn', undefined, patch), ['unknown field "status.conditions[0].bogus"']);
  assert.equal((patched as any).status.conditions[0].bogus, undefined);
  assert.throws(() => checkFields(applyMergePatch(pod, patch), 'v1', 'Pod', 'Warn'), /spec\.containers/);
  assert.throws(() => checkFields(applyMergePatch(pod, patch), 'v1', 'Pod', 'Strict', undefined, patch), /strict decoding error: unknown field "status.conditions\[0\].bogus"/);
});
