import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { persistentvolumeclaimStrategy as s } from './persistentvolumeclaim.ts';

const pvc = (spec: any, status?: any): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'd' }, spec, ...(status ? { status } : {}) });
const f = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);
const good = () => pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'standard' });

test('defaults and Pending on create', () => {
  const o = good(); s.defaults!(o); s.prepareForCreate!(o);
  assert.equal(o.spec.volumeMode, 'Filesystem');
  assert.deepEqual(o.status, { phase: 'Pending' });
  assert.deepEqual(s.validate!(o), []);
});

test('access modes and storage request required', () => {
  const errs = s.validate!(pvc({}));
  assert.deepEqual(f(errs), ['spec.accessModes:FieldValueRequired', 'spec.resources[storage]:FieldValueRequired']);
  assert.equal(errs[0].message, 'Required value: at least 1 access mode is required');
  assert.deepEqual(f(s.validate!(pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '-1Gi' } }, storageClassName: 'Bad_Class' }))),
    ['spec.resources[storage]:FieldValueInvalid', 'spec.storageClassName:FieldValueInvalid']);
});

test('update: spec immutable except volumeName once and expansion when bound', () => {
  const old = good(); s.defaults!(old);
  const bind = structuredClone(old); bind.spec.volumeName = 'pv1';
  assert.deepEqual(s.validateUpdate!(bind, old), []);
  const rebind = structuredClone(bind); rebind.spec.volumeName = 'pv2';
  const errs = s.validateUpdate!(rebind, bind);
  assert.deepEqual(f(errs), ['spec:FieldValueForbidden']);
  assert.match(errs[0].message, /^Forbidden: spec is immutable after creation except resources\.requests and volumeAttributesClassName for bound claims/);

  const growUnbound = structuredClone(old); growUnbound.spec.resources.requests.storage = '2Gi';
  assert.deepEqual(f(s.validateUpdate!(growUnbound, old)), ['spec:FieldValueForbidden']);
  const boundOld = structuredClone(bind); boundOld.status = { phase: 'Bound' };
  const grow = structuredClone(boundOld); grow.spec.resources.requests.storage = '2Gi';
  assert.deepEqual(s.validateUpdate!(grow, boundOld), []);
  const shrink = structuredClone(boundOld); shrink.spec.resources.requests.storage = '512Mi';
  assert.deepEqual(f(s.validateUpdate!(shrink, boundOld)), ['spec.resources.requests.storage:FieldValueForbidden']);
  const modes = structuredClone(old); modes.spec.accessModes = ['ReadWriteMany'];
  assert.deepEqual(f(s.validateUpdate!(modes, old)), ['spec:FieldValueForbidden']);
});

test('update: a class may be set on an unbound claim that had none', () => {
  const old = pvc({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } });
  const upd = structuredClone(old); upd.spec.storageClassName = 'standard';
  assert.deepEqual(s.validateUpdate!(upd, old), []);
});
