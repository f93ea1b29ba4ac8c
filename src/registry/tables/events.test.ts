import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { eventFieldSelectors, eventsV1FieldSelectors, eventsV1Table, eventTable } from './events.ts';

const now = new Date('2024-01-01T12:00:00Z');
const involved = { kind: 'Pod', namespace: 'default', name: 'web-1', uid: 'u1', apiVersion: 'v1', resourceVersion: '42', fieldPath: 'spec.containers{nginx}' };

test('columns follow printers.go (Name last, wide)', () => {
  assert.deepEqual(eventTable.columns.map((c) => [c.name, c.priority]), [
    ['Last Seen', 0], ['Type', 0], ['Reason', 0], ['Object', 0], ['Subobject', 1], ['Source', 1], ['Message', 0],
    ['First Seen', 1], ['Count', 1], ['Name', 1],
  ]);
  assert.equal(eventTable.columns[9].format, 'name');
});

test('core event with counts and source', () => {
  const ev: KubeObject = {
    metadata: { name: 'web-1.17a', namespace: 'default' },
    involvedObject: involved, reason: 'Pulled', type: 'Normal', message: ' Successfully pulled image \n',
    firstTimestamp: '2024-01-01T11:00:00Z', lastTimestamp: '2024-01-01T11:58:00Z', count: 3,
    source: { component: 'kubelet', host: 'node-1' },
  };
  assert.deepEqual(eventTable.cells(ev, now), ['2m', 'Normal', 'Pulled', 'pod/web-1', 'spec.containers{nginx}', 'kubelet, node-1', 'Successfully pulled image', '60m', 3, 'web-1.17a']);
});

test('new-style core event: eventTime, series, reportingComponent', () => {
  const ev: KubeObject = {
    metadata: { name: 'e2' }, involvedObject: { kind: 'Node', name: '' }, reason: 'Starting', type: 'Normal', message: 'm',
    eventTime: '2024-01-01T11:50:00.000000Z', reportingComponent: 'berth', reportingInstance: 'b-1',
  };
  assert.deepEqual(eventTable.cells(ev, now), ['10m', 'Normal', 'Starting', 'node', '', 'berth, b-1', 'm', '10m', 1, 'e2']);
  const series = { ...ev, series: { count: 7, lastObservedTime: '2024-01-01T11:59:00.000000Z' } };
  const cells = eventTable.cells(series, now);
  assert.equal(cells[0], '60s');
  assert.equal(cells[8], 7);
  assert.equal(eventTable.cells({ metadata: { name: 'e3' } }, now)[0], '<unknown>');
});

test('events.k8s.io event', () => {
  const ev: KubeObject = {
    metadata: { name: 'e4' }, regarding: involved, reason: 'BackOff', type: 'Warning', note: 'Back-off restarting',
    eventTime: '2024-01-01T11:30:00.000000Z', reportingController: 'kubelet', reportingInstance: 'node-1',
    series: { count: 5, lastObservedTime: '2024-01-01T11:57:00.000000Z' }, deprecatedSource: {},
  };
  assert.deepEqual(eventsV1Table.cells(ev, now), ['3m', 'Warning', 'BackOff', 'pod/web-1', 'spec.containers{nginx}', 'kubelet, node-1', 'Back-off restarting', '30m', 5, 'e4']);
  assert.equal(eventsV1FieldSelectors['regarding.name'](ev), 'web-1');
  assert.equal(eventsV1FieldSelectors['regarding.fieldPath'](ev), 'spec.containers{nginx}');
  assert.equal(eventsV1FieldSelectors.reportingController(ev), 'kubelet');
  assert.equal(eventsV1FieldSelectors.source(ev), 'kubelet');
  assert.equal(eventsV1FieldSelectors.type(ev), 'Warning');
  assert.equal(eventsV1FieldSelectors['involvedObject.name'], undefined);
});

test('core event field selectors', () => {
  const ev: KubeObject = { metadata: { name: 'e' }, involvedObject: involved, reason: 'Killing', type: 'Normal', source: { component: 'kubelet' }, reportingComponent: 'kubelet-rc' };
  const got = Object.fromEntries(Object.entries(eventFieldSelectors).map(([k, g]) => [k, g(ev)]));
  assert.deepEqual(got, {
    'involvedObject.kind': 'Pod', 'involvedObject.namespace': 'default', 'involvedObject.name': 'web-1',
    'involvedObject.uid': 'u1', 'involvedObject.apiVersion': 'v1', 'involvedObject.resourceVersion': '42',
    'involvedObject.fieldPath': 'spec.containers{nginx}', reason: 'Killing', reportingComponent: 'kubelet-rc',
    source: 'kubelet', type: 'Normal',
  });
  assert.equal(eventFieldSelectors.source({ metadata: {}, reportingComponent: 'berth' }), 'berth');
});
