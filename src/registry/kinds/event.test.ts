import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { eventStrategy as s } from './event.ts';

const ev = (extra: Partial<KubeObject>, ns = 'default'): KubeObject => ({
  apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.17a', namespace: ns },
  involvedObject: { kind: 'Pod', name: 'web', namespace: ns }, reason: 'Scheduled', message: 'ok', type: 'Normal',
  firstTimestamp: '2024-01-01T00:00:00Z', lastTimestamp: '2024-01-01T00:00:01Z', count: 1, source: { component: 'scheduler' }, ...extra,
});
const f = (o: KubeObject) => s.validate!(o).map((e) => e.field);

test('legacy event as the recorder writes it passes', () => {
  assert.deepEqual(f(ev({})), []);
  assert.deepEqual(f(ev({ involvedObject: { kind: 'Node', name: 'n1' } })), []);
});

test('involvedObject required and namespace must match', () => {
  assert.deepEqual(f(ev({ involvedObject: undefined })), ['involvedObject']);
  const errs = s.validate!(ev({ involvedObject: { kind: 'Pod', name: 'x', namespace: 'other' } }));
  assert.deepEqual(errs.map((e) => e.field), ['involvedObject.namespace']);
  assert.equal(errs[0].message, 'Invalid value: "other": does not match event.namespace');
  assert.deepEqual(f(ev({ involvedObject: { kind: 'Node', name: 'n1' } }, 'kube-public')), ['involvedObject.namespace']);
});

test('events with eventTime need reporting fields, within limits', () => {
  const base = { eventTime: '2024-01-01T00:00:00.000000Z', firstTimestamp: undefined, lastTimestamp: undefined };
  assert.deepEqual(f(ev({ ...base })), ['reportingComponent', 'reportingInstance', 'action']);
  assert.deepEqual(f(ev({ ...base, reportingComponent: 'kubelet', reportingInstance: 'n1', action: 'Pull', reason: 'r'.repeat(129), message: 'm'.repeat(1025) })), ['reason', 'message']);
  assert.deepEqual(f(ev({ ...base, reportingComponent: 'kubelet', reportingInstance: 'n1', action: 'Pull' })), []);
});

test('timestamps and count stay consistent', () => {
  assert.deepEqual(f(ev({ lastTimestamp: '2023-01-01T00:00:00Z' })), ['lastTimestamp']);
  assert.deepEqual(f(ev({ count: -1 })), ['count']);
});
