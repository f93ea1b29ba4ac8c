import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { jobStrategy as s } from './job.ts';

const UID = '7f1c2b9e-0000-4000-8000-000000000001';

function create(manifest: KubeObject) {
  const obj = structuredClone(manifest);
  obj.metadata.uid = UID;
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return { obj, errs: s.validate!(obj) };
}

const pi = (): KubeObject => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi', namespace: 'default' },
  spec: {
    backoffLimit: 4,
    template: { spec: { containers: [{ name: 'pi', image: 'perl:5.34.0', command: ['perl', '-Mbignum=bpi', '-wle', 'print bpi(2000)'] }], restartPolicy: 'Never' } },
  },
});

test('defaults and generated selector', () => {
  const { obj, errs } = create(pi());
  assert.deepEqual(errs, []);
  assert.equal(obj.spec.completions, 1);
  assert.equal(obj.spec.parallelism, 1);
  assert.equal(obj.spec.backoffLimit, 4);
  assert.equal(obj.spec.completionMode, 'NonIndexed');
  assert.equal(obj.spec.suspend, false);
  assert.equal(obj.spec.podReplacementPolicy, 'TerminatingOrFailed');
  assert.deepEqual(obj.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } });
  assert.deepEqual(obj.spec.template.metadata.labels, {
    'job-name': 'pi', 'batch.kubernetes.io/job-name': 'pi', 'controller-uid': UID, 'batch.kubernetes.io/controller-uid': UID,
  });
  assert.deepEqual(obj.metadata.labels, obj.spec.template.metadata.labels);
  assert.deepEqual(obj.status, {});
});

test('parallelism alone leaves completions unset; backoffLimit defaults to 6', () => {
  const m = pi();
  m.spec.parallelism = 3;
  delete m.spec.backoffLimit;
  const { obj } = create(m);
  assert.equal(obj.spec.completions, undefined);
  assert.equal(obj.spec.backoffLimit, 6);
});

test('restartPolicy must be OnFailure or Never', () => {
  const m = pi();
  delete m.spec.template.spec.restartPolicy;
  assert.deepEqual(create(m).errs, [{ type: 'FieldValueRequired', field: 'spec.template.spec.restartPolicy', message: 'Required value: valid values: "OnFailure", "Never"' }]);
});

test('counts must be non-negative', () => {
  const m = pi();
  Object.assign(m.spec, { parallelism: -1, completions: -1, backoffLimit: -1, activeDeadlineSeconds: -1 });
  assert.deepEqual(create(m).errs.map((e) => e.field), ['spec.parallelism', 'spec.completions', 'spec.activeDeadlineSeconds', 'spec.backoffLimit']);
});

test('a user selector without manualSelector is rejected; manualSelector needs a matching one', () => {
  const m = pi();
  m.spec.selector = { matchLabels: { app: 'pi' } };
  m.spec.template.metadata = { labels: { app: 'pi' } };
  assert.ok(create(m).errs.some((e) => e.field === 'spec.selector' && e.message.endsWith('`selector` not auto-generated')));
  m.spec.manualSelector = true;
  assert.deepEqual(create(m).errs, []);
  m.spec.selector = { matchLabels: { app: 'other' } };
  assert.deepEqual(create(m).errs.map((e) => e.field), ['spec.template.metadata.labels']);
  delete m.spec.selector;
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), ['spec.selector FieldValueRequired']);
});

test('indexed jobs need completions', () => {
  const m = pi();
  m.spec.completionMode = 'Indexed';
  m.spec.parallelism = 2;
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), ['spec.completions FieldValueRequired']);
});

test('template immutable, except scheduling directives of a suspended job that never started', () => {
  const { obj: old } = create(pi());
  const next = structuredClone(old);
  next.spec.template.spec.containers[0].image = 'perl:5.36';
  const errs = s.validateUpdate!(next, old);
  assert.deepEqual(errs.map((e) => `${e.field} ${e.type}`), ['spec.template FieldValueInvalid']);
  assert.match(errs[0].message, /field is immutable$/);

  const suspended = structuredClone(old);
  suspended.spec.suspend = true;
  const moved = structuredClone(suspended);
  moved.spec.template.spec.nodeSelector = { zone: 'b' };
  assert.deepEqual(s.validateUpdate!(moved, suspended), []);

  const scaled = structuredClone(old);
  scaled.spec.parallelism = 5;
  scaled.spec.completions = 5;
  assert.deepEqual(s.validateUpdate!(scaled, old).map((e) => e.field), ['spec.completions']);
  const sel = structuredClone(old);
  sel.spec.selector = { matchLabels: { x: 'y' } };
  assert.deepEqual(s.validateUpdate!(sel, old).map((e) => e.field), ['spec.selector']);
});
