import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { namespaceStrategy as s } from './namespace.ts';

const ns = (name: string, extra: Partial<KubeObject> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name }, ...extra });

test('create: Active, kubernetes finalizer, name label', () => {
  const o = ns('team-a', { metadata: { name: 'team-a', labels: { env: 'dev' } }, status: { phase: 'Terminating' } });
  s.defaults!(o); s.prepareForCreate!(o);
  assert.deepEqual(o.spec.finalizers, ['kubernetes']);
  assert.deepEqual(o.status, { phase: 'Active' });
  assert.deepEqual(o.metadata.labels, { env: 'dev', 'kubernetes.io/metadata.name': 'team-a' });
  assert.deepEqual(s.validate!(o), []);
  const withOwn = ns('b', { spec: { finalizers: ['example.com/x'] } });
  s.prepareForCreate!(withOwn);
  assert.deepEqual(withOwn.spec.finalizers, ['example.com/x', 'kubernetes']);
});

test('update: label restored, finalizers kept from old', () => {
  const old = ns('a'); s.defaults!(old); s.prepareForCreate!(old);
  const upd = ns('a', { metadata: { name: 'a', labels: { 'kubernetes.io/metadata.name': 'other' } }, spec: { finalizers: [] } });
  s.defaults!(upd); s.prepareForUpdate!(upd, old);
  assert.equal(upd.metadata.labels!['kubernetes.io/metadata.name'], 'a');
  assert.deepEqual(upd.spec.finalizers, ['kubernetes']);
});

test('spec.finalizers must be qualified or standard', () => {
  const errs = s.validate!(ns('a', { spec: { finalizers: ['custom'] } }));
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'spec.finalizers');
  assert.match(errs[0].message, /neither a standard finalizer name nor is it fully qualified/);
});

test('status phase must agree with deletionTimestamp', () => {
  const o = ns('a', { status: { phase: 'Terminating' } });
  assert.equal(s.validateStatusUpdate!(o, o)[0].field, 'status.Phase');
  const d = ns('a', { metadata: { name: 'a', deletionTimestamp: '2024-01-01T00:00:00Z' }, status: { phase: 'Terminating' } });
  assert.deepEqual(s.validateStatusUpdate!(d, d), []);
});
