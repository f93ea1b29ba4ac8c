import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { eventsV1Strategy as s } from './event-v1.ts';

const ev = (extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'web.1', namespace: 'default' },
  eventTime: '2024-01-01T00:00:00.000000Z', reportingController: 'berth.dev/scheduler', reportingInstance: 'berth-1',
  action: 'Binding', reason: 'Scheduled', note: 'assigned', type: 'Normal', regarding: { kind: 'Pod', name: 'web', namespace: 'default' }, ...extra,
});
const f = (o: KubeObject) => s.validate!(o).map((e) => e.field);

test('a complete events.k8s.io event passes', () => {
  assert.deepEqual(f(ev()), []);
});

test('required fields for the new API', () => {
  const errs = s.validate!(ev({ eventTime: undefined, reportingController: '', reportingInstance: undefined, action: '' }));
  assert.deepEqual(errs.map((e) => e.field), ['reportingController', 'reportingInstance', 'action', 'eventTime']);
  assert.ok(errs.every((e) => e.type === 'FieldValueRequired'));
});

test('type, deprecated fields, series, note length', () => {
  assert.deepEqual(f(ev({ type: 'Info' })), ['type']);
  assert.deepEqual(f(ev({ deprecatedCount: 3, deprecatedSource: { component: 'x' } })), ['deprecatedCount', 'deprecatedSource']);
  assert.deepEqual(f(ev({ series: { count: 1 } })), ['series.count', 'series.lastObservedTime']);
  assert.deepEqual(f(ev({ note: 'n'.repeat(1025) })), ['note']);
});

test('update: only series may change', () => {
  const old = ev();
  assert.deepEqual(s.validateUpdate!(ev({ series: { count: 2, lastObservedTime: '2024-01-01T00:01:00.000000Z' } }), old), []);
  assert.deepEqual(s.validateUpdate!(ev({ reason: 'Other' }), old).map((e) => e.field), ['reason']);
});
