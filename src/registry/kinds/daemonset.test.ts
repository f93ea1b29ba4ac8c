import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { daemonSetStrategy as s } from './daemonset.ts';

function create(manifest: KubeObject) {
  const obj = structuredClone(manifest);
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return { obj, errs: s.validate!(obj) };
}

const ds = (): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'fluentd', namespace: 'kube-system' },
  spec: {
    selector: { matchLabels: { name: 'fluentd' } },
    template: {
      metadata: { labels: { name: 'fluentd' } },
      spec: {
        tolerations: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
        containers: [{ name: 'fluentd', image: 'quay.io/fluentd_elasticsearch/fluentd:v2.5.2', resources: { limits: { memory: '200Mi' }, requests: { cpu: '100m', memory: '200Mi' } }, volumeMounts: [{ name: 'varlog', mountPath: '/var/log' }] }],
        volumes: [{ name: 'varlog', hostPath: { path: '/var/log' } }],
      },
    },
  },
});

test('defaults and a valid daemonset', () => {
  const { obj, errs } = create(ds());
  assert.deepEqual(errs, []);
  assert.deepEqual(obj.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  assert.equal(obj.spec.revisionHistoryLimit, 10);
  assert.equal(obj.spec.template.spec.volumes[0].hostPath.type, '');
});

test('selector and template errors', () => {
  const m = ds();
  m.spec.selector = {};
  assert.match(create(m).errs[0].message, /empty selector is invalid for daemonset/);
  m.spec.selector = { matchLabels: { name: 'other' } };
  assert.deepEqual(create(m).errs.map((e) => e.field), ['spec.template.metadata.labels']);
  delete m.spec.selector;
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), ['spec.selector FieldValueRequired']);
  const r = ds();
  r.spec.template.spec.restartPolicy = 'OnFailure';
  assert.deepEqual(create(r).errs.map((e) => `${e.field} ${e.type}`), ['spec.template.spec.restartPolicy FieldValueNotSupported']);
});

test('rolling update rules', () => {
  const m = ds();
  m.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 0 } };
  assert.deepEqual(create(m).errs, [{ type: 'FieldValueRequired', field: 'spec.updateStrategy.rollingUpdate.maxUnavailable', message: 'Required value: cannot be 0 when maxSurge is 0' }]);
  m.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: '10%' } };
  assert.deepEqual(create(m).errs.map((e) => e.message), ['Invalid value: 10%: may not be set when maxUnavailable is non-zero']);
  m.spec.updateStrategy = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '200%' } };
  assert.deepEqual(create(m).errs.map((e) => e.field), ['spec.updateStrategy.rollingUpdate.maxSurge']);
  m.spec.updateStrategy = { type: 'OnDelete' };
  assert.deepEqual(create(m).errs, []);
  m.spec.updateStrategy = { type: 'Sometimes' };
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), ['spec.updateStrategy FieldValueNotSupported']);
});

test('selector immutable on update', () => {
  const { obj: old } = create(ds());
  const next = structuredClone(old);
  next.spec.selector = { matchLabels: { name: 'fluentd', v: '2' } };
  assert.deepEqual(s.validateUpdate!(next, old).map((e) => e.field), ['spec.selector']);
  const img = structuredClone(old);
  img.spec.template.spec.containers[0].image = 'fluentd:v3';
  assert.deepEqual(s.validateUpdate!(img, old), []);
});
