import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findUnknownFields, pruneUnknownFields } from './unknown-fields.ts';
import { validateTypes } from './type-validation.ts';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web', 'example.com/anything': 'x' }, annotations: { a: 'b' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'a', image: 'nginx', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1', memory: 128 } } },
          { name: 'b', image: 'busybox', imagePullPolicyy: 'Always', env: [{ name: 'X', value: '1', extra: true }] },
        ],
      },
    },
  },
});

test('finds nested typos with Kubernetes-style paths', () => {
  const obj: any = deployment();
  obj.spec.x = 1;
  assert.deepEqual(findUnknownFields('apps/v1', 'Deployment', obj), [
    'spec.template.spec.containers[1].imagePullPolicyy',
    'spec.template.spec.containers[1].env[0].extra',
    'spec.x',
  ]);
});

test('accepts maps, int-or-string, quantities and metadata', () => {
  const obj: any = deployment();
  delete obj.spec.template.spec.containers[1];
  obj.spec.template.spec.containers.length = 1;
  assert.deepEqual(findUnknownFields('apps/v1', 'Deployment', obj), []);
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'any.key': 'v' }, binaryData: { b: 'AA==' } };
  assert.deepEqual(findUnknownFields('v1', 'ConfigMap', cm), []);
  assert.deepEqual(findUnknownFields('v1', 'ConfigMap', { ...cm, dat: {} }), ['dat']);
  assert.deepEqual(findUnknownFields('v1', 'ConfigMap', { ...cm, metadata: { name: 'c', nam: 'x' } }), ['metadata.nam']);
});

test('preserve-unknown-fields (ControllerRevision.data, managedFields) accept anything', () => {
  const cr = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r', managedFields: [{ manager: 'm', fieldsV1: { 'f:spec': {} } }] }, revision: 1, data: { spec: { whatever: 1 } } };
  assert.deepEqual(findUnknownFields('apps/v1', 'ControllerRevision', cr), []);
  assert.deepEqual(findUnknownFields('example.com/v1', 'Widget', { x: 1 }), []);
});

test('pruneUnknownFields drops what findUnknownFields reports', () => {
  const pruned: any = pruneUnknownFields('apps/v1', 'Deployment', deployment());
  assert.deepEqual(findUnknownFields('apps/v1', 'Deployment', pruned), []);
  assert.equal(pruned.spec.template.spec.containers[1].image, 'busybox');
});

test('validateTypes reports wrong JSON types with paths', () => {
  const obj: any = deployment();
  obj.spec.replicas = 'two';
  obj.spec.paused = 'yes';
  obj.spec.template.spec.containers[0].ports[0].containerPort = 80.5;
  obj.metadata.labels.app = 3;
  const errs = validateTypes('apps/v1', 'Deployment', obj);
  assert.deepEqual(errs.map((e) => e.field), [
    'metadata.labels.app',
    'spec.replicas',
    'spec.template.spec.containers[0].ports[0].containerPort',
    'spec.paused', // added last, so last in document order
  ]);
  assert.equal(errs[1].message, 'Invalid value: "string": spec.replicas in body must be of type integer: "string"');
});

test('validateTypes accepts int-or-string, quantities and nulls', () => {
  const obj: any = deployment();
  obj.spec.revisionHistoryLimit = null;
  assert.deepEqual(validateTypes('apps/v1', 'Deployment', obj), []);
  obj.spec.strategy.rollingUpdate.maxSurge = true;
  assert.deepEqual(validateTypes('apps/v1', 'Deployment', obj).map((e) => e.field), ['spec.strategy.rollingUpdate.maxSurge']);
});
