import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { podStrategy } from './pod.ts';

function create(manifest: KubeObject) {
  const obj = structuredClone(manifest);
  podStrategy.defaults!(obj);
  podStrategy.prepareForCreate!(obj);
  return { obj, errs: podStrategy.validate!(obj) };
}

function update(next: KubeObject, old: KubeObject) {
  const obj = structuredClone(next);
  obj.status = structuredClone(old.status);
  podStrategy.defaults!(obj);
  return [...podStrategy.validate!(obj), ...podStrategy.validateUpdate!(obj, old)];
}

const nginx = (): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'nginx', namespace: 'default', labels: { run: 'nginx' } },
  spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '500m', memory: '128Mi' } } }] },
});

test('create: defaults, Pending status with QoS; no tolerations (admission adds those)', () => {
  const { obj, errs } = create(nginx());
  assert.deepEqual(errs, []);
  assert.equal(obj.spec.restartPolicy, 'Always');
  assert.equal(obj.spec.serviceAccountName, 'default');
  assert.equal(obj.spec.enableServiceLinks, true);
  assert.equal(obj.spec.priority, 0);
  assert.equal(obj.spec.tolerations, undefined);
  assert.deepEqual(obj.status, { phase: 'Pending', qosClass: 'Guaranteed' });
});

test('create: client status is replaced; existing tolerations are kept', () => {
  const m = nginx();
  m.status = { phase: 'Running' };
  m.spec.tolerations = [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }];
  m.spec.containers[0].resources = {};
  const { obj } = create(m);
  assert.deepEqual(obj.status, { phase: 'Pending', qosClass: 'BestEffort' });
  assert.equal(obj.spec.tolerations.length, 1);
  assert.equal(obj.spec.tolerations[0].tolerationSeconds, 60);
});

test('create: invalid pod', () => {
  const m = nginx();
  m.spec.containers.push({ name: 'nginx' });
  const { errs } = create(m);
  assert.deepEqual(errs.map((e) => e.field), ['spec.containers[1].name', 'spec.containers[1].image']);
});

test('update: image change allowed, other changes forbidden', () => {
  const { obj: old } = create(nginx());
  const next = structuredClone(old);
  next.spec.containers[0].image = 'nginx:1.28';
  next.metadata.labels = { run: 'nginx', extra: 'yes' };
  assert.deepEqual(update(next, old), []);

  const bad = structuredClone(old);
  bad.spec.containers[0].ports[0].containerPort = 8080;
  const errs = update(bad, old);
  assert.equal(errs.length, 1);
  assert.equal(errs[0].field, 'spec');
  assert.equal(errs[0].type, 'FieldValueForbidden');
  assert.match(errs[0].message, /^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/);
});

test('update: containers may not be added; tolerations only added; activeDeadlineSeconds only lowered', () => {
  const tolerations = ['not-ready', 'unreachable'].map((t) => ({ key: `node.kubernetes.io/${t}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }));
  const { obj: old } = create({ ...nginx(), spec: { ...nginx().spec, activeDeadlineSeconds: 100, tolerations } });
  const more = structuredClone(old);
  more.spec.containers.push({ name: 'side', image: 'busybox' });
  assert.match(update(more, old).find((e) => e.field === 'spec.containers')!.message, /may not add or remove containers/);

  const tol = structuredClone(old);
  tol.spec.tolerations = [tol.spec.tolerations[0], { key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }];
  assert.deepEqual(update(tol, old).map((e) => e.field), ['spec.tolerations']);
  const added = structuredClone(old);
  added.spec.tolerations.push({ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' });
  added.spec.activeDeadlineSeconds = 50;
  assert.deepEqual(update(added, old), []);
  const raised = structuredClone(old);
  raised.spec.activeDeadlineSeconds = 200;
  assert.match(update(raised, old)[0].message, /must be less than or equal to previous value/);
});

test('update: nodeName immutable once set', () => {
  const { obj: old } = create(nginx());
  old.spec.nodeName = 'node-a';
  const next = structuredClone(old);
  next.spec.nodeName = 'node-b';
  const errs = update(next, old);
  assert.deepEqual(errs, [{ type: 'FieldValueInvalid', field: 'spec.nodeName', message: 'Invalid value: "node-b": field is immutable' }]);
});

test('status update: qosClass fixed, terminal phase stays', () => {
  const { obj: old } = create(nginx());
  const next = structuredClone(old);
  next.status = { phase: 'Running', qosClass: 'Guaranteed' };
  assert.deepEqual(podStrategy.validateStatusUpdate!(next, old), []);
  const done = structuredClone(old);
  done.status = { phase: 'Succeeded', qosClass: 'Guaranteed' };
  const back = structuredClone(done);
  back.status = { phase: 'Running', qosClass: 'BestEffort' };
  assert.deepEqual(podStrategy.validateStatusUpdate!(back, done).map((e) => e.field), ['status.qosClass', 'status.phase']);
});
