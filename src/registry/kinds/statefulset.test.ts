import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { statefulSetStrategy as s, STS_UPDATE_FORBIDDEN } from './statefulset.ts';

function create(manifest: KubeObject) {
  const obj = structuredClone(manifest);
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return { obj, errs: s.validate!(obj) };
}

const sts = (): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default' },
  spec: {
    serviceName: 'nginx',
    selector: { matchLabels: { app: 'nginx' } },
    template: {
      metadata: { labels: { app: 'nginx' } },
      spec: { containers: [{ name: 'nginx', image: 'registry.k8s.io/nginx-slim:0.8', ports: [{ containerPort: 80, name: 'web' }], volumeMounts: [{ name: 'www', mountPath: '/usr/share/nginx/html' }] }] },
    },
    volumeClaimTemplates: [{ metadata: { name: 'www' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
  },
});

test('defaults and the documentation example are valid', () => {
  const { obj, errs } = create(sts());
  assert.deepEqual(errs, []);
  assert.equal(obj.spec.replicas, 1);
  assert.equal(obj.spec.podManagementPolicy, 'OrderedReady');
  assert.deepEqual(obj.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
  assert.equal(obj.spec.revisionHistoryLimit, 10);
  assert.deepEqual(obj.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
  assert.equal(obj.spec.volumeClaimTemplates[0].spec.volumeMode, 'Filesystem');
  assert.deepEqual(obj.spec.volumeClaimTemplates[0].status, { phase: 'Pending' });
  assert.deepEqual(obj.status, {});
});

test('serviceName is optional; OnDelete keeps no rollingUpdate default', () => {
  const m = sts();
  delete m.spec.serviceName;
  m.spec.updateStrategy = { type: 'OnDelete' };
  const { obj, errs } = create(m);
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.spec.updateStrategy, { type: 'OnDelete' });
});

test('validation errors', () => {
  const m = sts();
  m.spec.replicas = -2;
  m.spec.podManagementPolicy = 'Random';
  m.spec.updateStrategy = { type: 'OnDelete', rollingUpdate: { partition: 1 } };
  m.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Keep', whenScaled: 'Retain' };
  m.spec.selector = {};
  m.spec.volumeClaimTemplates[0].spec.accessModes = [];
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), [
    'spec.podManagementPolicy FieldValueInvalid',
    'spec.updateStrategy.rollingUpdate FieldValueInvalid',
    'spec.persistentVolumeClaimRetentionPolicy.whenDeleted FieldValueNotSupported',
    'spec.replicas FieldValueInvalid',
    'spec.selector FieldValueInvalid',
    'spec.volumeClaimTemplates[0].spec.accessModes FieldValueRequired',
  ]);
});

test('volume mounts may name claim templates but nothing else', () => {
  const m = sts();
  m.spec.template.spec.containers[0].volumeMounts.push({ name: 'logs', mountPath: '/logs' });
  assert.deepEqual(create(m).errs.map((e) => e.field), ['spec.template.spec.containers[0].volumeMounts[1].name']);
});

test('selector mismatch and missing selector', () => {
  const m = sts();
  m.spec.selector = { matchLabels: { app: 'web' } };
  assert.equal(create(m).errs[0].field, 'spec.template.metadata.labels');
  delete m.spec.selector;
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), ['spec.selector FieldValueRequired']);
});

test('updates limited to the mutable fields', () => {
  const { obj: old } = create(sts());
  const ok = structuredClone(old);
  ok.spec.replicas = 3;
  ok.spec.template.spec.containers[0].image = 'nginx:1.27';
  ok.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { partition: 2 } };
  ok.spec.minReadySeconds = 10;
  ok.spec.persistentVolumeClaimRetentionPolicy = { whenDeleted: 'Delete', whenScaled: 'Retain' };
  assert.deepEqual(s.validateUpdate!(ok, old), []);
  const bad = structuredClone(old);
  bad.spec.volumeClaimTemplates[0].spec.resources.requests.storage = '2Gi';
  assert.deepEqual(s.validateUpdate!(bad, old), [{ type: 'FieldValueForbidden', field: 'spec', message: `Forbidden: ${STS_UPDATE_FORBIDDEN}` }]);
  const sel = structuredClone(old);
  sel.spec.selector = { matchLabels: { app: 'nginx', x: 'y' } };
  assert.equal(s.validateUpdate!(sel, old).length, 1);
});

test('status counts', () => {
  const { obj } = create(sts());
  const next = structuredClone(obj);
  next.status = { replicas: 1, readyReplicas: 1, availableReplicas: 2, currentReplicas: -1 };
  assert.deepEqual(s.validateStatusUpdate!(next, obj).map((e) => e.field), ['status.currentReplicas', 'status.availableReplicas', 'status.availableReplicas']);
});
