import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { replicationControllerStrategy as s } from './replicationcontroller.ts';

const container = { name: 'c', image: 'nginx', imagePullPolicy: 'Always', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };
const rc = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'x' }, spec });
const f = (errs: { field: string; type: string }[]) => errs.map((e) => `${e.field}:${e.type}`);

test('defaults: selector and the RC\'s labels from the template labels, replicas 1; a given selector is kept', () => {
  const o = rc({ template: { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [container] } } });
  s.defaults!(o);
  assert.deepEqual(o.spec.selector, { app: 'web', tier: 'fe' });
  assert.deepEqual(o.metadata.labels, { app: 'web', tier: 'fe' });
  assert.equal(o.spec.replicas, 1);
  const kept = rc({ selector: { app: 'web' }, replicas: 0, template: { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [container] } } });
  s.defaults!(kept);
  assert.deepEqual(kept.spec.selector, { app: 'web' });
  assert.equal(kept.spec.replicas, 0);
  assert.deepEqual(f(s.validate!(kept)), []);
});

test('validation: selector required and matched by the template, restartPolicy Always, no negative replicas', () => {
  assert.deepEqual(f(s.validate!(rc({ replicas: -1, selector: {}, template: { spec: { containers: [container] } } }))).slice(0, 2), ['spec.replicas:FieldValueInvalid', 'spec.selector:FieldValueRequired']);
  const mismatch = s.validate!(rc({ selector: { app: 'a' }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [container], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } } }));
  assert.ok(f(mismatch).includes('spec.template.metadata.labels:FieldValueInvalid'), JSON.stringify(mismatch));
  const never = s.validate!(rc({ selector: { app: 'a' }, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [container], restartPolicy: 'Never', dnsPolicy: 'ClusterFirst' } } }));
  assert.ok(f(never).includes('spec.template.spec.restartPolicy:FieldValueNotSupported'), JSON.stringify(never));
  assert.deepEqual(f(s.validate!(rc({ selector: ['app'] }))), ['spec.selector:FieldValueInvalid']);
  assert.deepEqual(f(s.validate!(rc({ selector: { app: 'a' } }))), ['spec.template:FieldValueRequired']);
});

test('the selector may change (core/v1, unlike apps/v1)', () => {
  assert.equal(s.validateUpdate, undefined);
});

test('the scale subresource reads the map selector as a selector string', () => {
  const o = rc({ replicas: 2, selector: { tier: 'fe', app: 'web' } });
  o.status = { replicas: 1 };
  assert.deepEqual(s.scale!.read(o), { replicas: 2, statusReplicas: 1, selector: 'app=web,tier=fe' });
  s.scale!.write(o, 5);
  assert.equal(o.spec.replicas, 5);
});
