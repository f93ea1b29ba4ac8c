import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { deploymentStrategy as s } from './deployment.ts';
import { replicaSetStrategy } from './replicaset.ts';

function create(manifest: KubeObject, strategy = s) {
  const obj = structuredClone(manifest);
  strategy.defaults!(obj);
  strategy.prepareForCreate!(obj);
  return { obj, errs: strategy.validate!(obj) };
}

const deploy = (): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
    },
  },
  status: { replicas: 9 },
});

test('defaults and a valid deployment', () => {
  const m = deploy();
  delete m.spec.replicas;
  const { obj, errs } = create(m);
  assert.deepEqual(errs, []);
  assert.equal(obj.spec.replicas, 1);
  assert.deepEqual(obj.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
  assert.equal(obj.spec.revisionHistoryLimit, 10);
  assert.equal(obj.spec.progressDeadlineSeconds, 600);
  assert.equal(obj.spec.template.spec.restartPolicy, 'Always');
  assert.equal(obj.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');
  assert.deepEqual(obj.status, {});
});

test('replicas must be non-negative', () => {
  const m = deploy();
  m.spec.replicas = -1;
  assert.deepEqual(create(m).errs, [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: 'Invalid value: -1: must be greater than or equal to 0' }]);
});

test('selector required, non-empty, matching the template', () => {
  const m = deploy();
  delete m.spec.selector;
  assert.deepEqual(create(m).errs, [{ type: 'FieldValueRequired', field: 'spec.selector', message: 'Required value' }]);
  m.spec.selector = {};
  const empty = create(m).errs;
  assert.equal(empty.length, 1);
  assert.equal(empty[0].field, 'spec.selector');
  assert.match(empty[0].message, /empty selector is invalid for deployment$/);
  m.spec.selector = { matchLabels: { app: 'api' } };
  assert.deepEqual(create(m).errs, [{
    type: 'FieldValueInvalid', field: 'spec.template.metadata.labels',
    message: 'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`',
  }]);
});

test('template rules: containers, restartPolicy, activeDeadlineSeconds', () => {
  const m = deploy();
  m.spec.template.spec = { containers: [], restartPolicy: 'Never', activeDeadlineSeconds: 5 };
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), [
    'spec.template.spec.containers FieldValueRequired',
    'spec.template.spec.restartPolicy FieldValueNotSupported',
    'spec.template.spec.activeDeadlineSeconds FieldValueForbidden',
  ]);
});

test('strategy rules', () => {
  const m = deploy();
  m.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } };
  assert.deepEqual(create(m).errs, [{ type: 'FieldValueInvalid', field: 'spec.strategy.rollingUpdate.maxUnavailable', message: 'Invalid value: 0: may not be 0 when `maxSurge` is 0' }]);
  m.spec.strategy = { type: 'Recreate', rollingUpdate: { maxSurge: 1 } };
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), ['spec.strategy.rollingUpdate FieldValueForbidden']);
  m.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'lots', maxUnavailable: '150%' } };
  assert.deepEqual(create(m).errs.map((e) => e.field), ['spec.strategy.rollingUpdate.maxSurge', 'spec.strategy.rollingUpdate.maxUnavailable']);
  m.spec.strategy = { type: 'BlueGreen' };
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), ['spec.strategy FieldValueNotSupported']);
  m.spec.strategy = { type: 'Recreate' };
  assert.deepEqual(create(m).errs, []);
});

test('progressDeadlineSeconds must exceed minReadySeconds', () => {
  const m = deploy();
  m.spec.minReadySeconds = 700;
  assert.deepEqual(create(m).errs.map((e) => e.field), ['spec.progressDeadlineSeconds']);
});

test('selector is immutable on update', () => {
  const { obj: old } = create(deploy());
  const next = structuredClone(old);
  next.spec.selector = { matchLabels: { app: 'web', v: '2' } };
  next.spec.template.metadata.labels = { app: 'web', v: '2' };
  const errs = s.validateUpdate!(next, old);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'spec.selector');
  assert.match(errs[0].message, /^Invalid value: v1.LabelSelector\{MatchLabels:map\[string\]string\{"app":"web", "v":"2"\}, .*: field is immutable$/);
  const scaled = structuredClone(old);
  scaled.spec.replicas = 5;
  assert.deepEqual(s.validateUpdate!(scaled, old), []);
});

test('status update counts', () => {
  const { obj } = create(deploy());
  const next = structuredClone(obj);
  next.status = { replicas: 2, readyReplicas: 3, availableReplicas: 1, collisionCount: 0 };
  assert.deepEqual(s.validateStatusUpdate!(next, { ...obj, status: { collisionCount: 1 } }).map((e) => e.field), ['status.readyReplicas', 'status.collisionCount']);
});

test('replicaset: defaults, selector rules, immutable selector', () => {
  const rs: KubeObject = { ...deploy(), kind: 'ReplicaSet' };
  delete rs.spec.replicas;
  const { obj, errs } = create(rs, replicaSetStrategy);
  assert.deepEqual(errs, []);
  assert.equal(obj.spec.replicas, 1);
  assert.equal(obj.spec.strategy, undefined);
  const bad = structuredClone(rs);
  bad.spec.selector = {};
  assert.match(create(bad, replicaSetStrategy).errs[0].message, /empty selector is invalid for deployment/);
  const next = structuredClone(obj);
  next.spec.selector = { matchLabels: { app: 'x' } };
  assert.equal(replicaSetStrategy.validateUpdate!(next, obj)[0].field, 'spec.selector');
  next.status = { replicas: 1, fullyLabeledReplicas: 2 };
  assert.deepEqual(replicaSetStrategy.validateStatusUpdate!(next, obj).map((e) => e.field), ['status.fullyLabeledReplicas']);
});
