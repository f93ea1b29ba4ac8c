import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { podFieldSelectors, podTable } from './pods.ts';

const now = new Date('2024-01-01T12:00:00Z');
const created = '2024-01-01T11:00:00Z';

function pod(spec: any, status: any, meta: any = {}): KubeObject {
  return { metadata: { name: 'p', namespace: 'default', creationTimestamp: created, ...meta }, spec, status };
}
const running = (name: string, extra: any = {}) => ({ name, ready: true, restartCount: 0, state: { running: { startedAt: created } }, ...extra });

test('columns: Name first, wide ones last with priority 1', () => {
  assert.deepEqual(podTable.columns.map((c) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age', 'IP', 'Node', 'Nominated Node', 'Readiness Gates']);
  assert.deepEqual(podTable.columns.map((c) => c.priority), [0, 0, 0, 0, 0, 1, 1, 1, 1]);
  assert.equal(podTable.columns[0].format, 'name');
});

test('running pod with wide cells', () => {
  const p = pod(
    { containers: [{ name: 'a' }, { name: 'b' }], nodeName: 'n1', readinessGates: [{ conditionType: 'x/ok' }, { conditionType: 'x/no' }] },
    { phase: 'Running', podIP: '10.0.0.5', podIPs: [{ ip: '10.0.0.5' }], containerStatuses: [running('a'), running('b')], conditions: [{ type: 'x/ok', status: 'True' }, { type: 'x/no', status: 'False' }] },
  );
  assert.deepEqual(podTable.cells(p, now), ['p', '2/2', 'Running', '0', '60m', '10.0.0.5', 'n1', '<none>', '1/2']);
});

test('pending pod without status', () => {
  const p = pod({ containers: [{ name: 'a' }] }, { phase: 'Pending' });
  assert.deepEqual(podTable.cells(p, now), ['p', '0/1', 'Pending', '0', '60m', '<none>', '<none>', '<none>', '<none>']);
});

test('waiting reason and restarts with last termination', () => {
  const p = pod({ containers: [{ name: 'a' }] }, {
    phase: 'Running',
    containerStatuses: [{
      name: 'a', ready: false, restartCount: 4,
      state: { waiting: { reason: 'CrashLoopBackOff' } },
      lastState: { terminated: { exitCode: 1, finishedAt: '2024-01-01T11:55:00Z' } },
    }],
  });
  const cells = podTable.cells(p, now);
  assert.equal(cells[1], '0/1');
  assert.equal(cells[2], 'CrashLoopBackOff');
  assert.equal(cells[3], '4 (5m ago)');
});

test('terminated containers: reason, exit code, signal', () => {
  const t = (terminated: any) => pod({ containers: [{ name: 'a' }] }, { phase: 'Failed', containerStatuses: [{ name: 'a', restartCount: 0, state: { terminated } }] });
  assert.equal(podTable.cells(t({ reason: 'OOMKilled', exitCode: 137 }), now)[2], 'OOMKilled');
  assert.equal(podTable.cells(t({ exitCode: 2 }), now)[2], 'ExitCode:2');
  assert.equal(podTable.cells(t({ exitCode: 0, signal: 9 }), now)[2], 'Signal:9');
});

test('completed pod', () => {
  const p = pod({ containers: [{ name: 'a' }] }, { phase: 'Succeeded', containerStatuses: [{ name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] });
  assert.equal(podTable.cells(p, now)[2], 'Completed');
});

test('init containers: progress, waiting reason, failure', () => {
  const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'a' }] };
  const base = { phase: 'Pending', containerStatuses: [{ name: 'a', restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }] };
  const done = { name: 'i1', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } };
  assert.equal(podTable.cells(pod(spec, { ...base, initContainerStatuses: [done, { name: 'i2', restartCount: 0, state: { running: {} } }] }), now)[2], 'Init:1/2');
  assert.equal(podTable.cells(pod(spec, { ...base, initContainerStatuses: [{ name: 'i1', restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }] }), now)[2], 'Init:0/2');
  assert.equal(podTable.cells(pod(spec, { ...base, initContainerStatuses: [{ name: 'i1', restartCount: 2, state: { waiting: { reason: 'ImagePullBackOff' } } }] }), now)[2], 'Init:ImagePullBackOff');
  const failed = pod(spec, { ...base, initContainerStatuses: [{ name: 'i1', restartCount: 1, state: { terminated: { exitCode: 3 } } }] });
  assert.equal(podTable.cells(failed, now)[2], 'Init:ExitCode:3');
  assert.equal(podTable.cells(failed, now)[3], '1');
});

test('sidecar init container counts as a container', () => {
  const spec = { initContainers: [{ name: 's', restartPolicy: 'Always' }], containers: [{ name: 'a' }] };
  const p = pod(spec, {
    phase: 'Running',
    conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
    initContainerStatuses: [{ name: 's', started: true, ready: true, restartCount: 1, state: { running: {} } }],
    containerStatuses: [running('a')],
  });
  const cells = podTable.cells(p, now);
  assert.equal(cells[1], '2/2');
  assert.equal(cells[2], 'Running');
  assert.equal(cells[3], '1');
});

test('terminating, NodeLost and SchedulingGated', () => {
  const spec = { containers: [{ name: 'a' }] };
  const st = { phase: 'Running', containerStatuses: [running('a')] };
  assert.equal(podTable.cells(pod(spec, st, { deletionTimestamp: '2024-01-01T11:59:00Z' }), now)[2], 'Terminating');
  assert.equal(podTable.cells(pod(spec, { ...st, reason: 'NodeLost' }, { deletionTimestamp: '2024-01-01T11:59:00Z' }), now)[2], 'Unknown');
  // A terminal pod being deleted keeps its phase.
  assert.equal(podTable.cells(pod(spec, { phase: 'Succeeded' }, { deletionTimestamp: '2024-01-01T11:59:00Z' }), now)[2], 'Succeeded');
  assert.equal(podTable.cells(pod(spec, { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] }), now)[2], 'SchedulingGated');
  assert.equal(podTable.cells(pod(spec, { phase: 'Failed', reason: 'Evicted' }), now)[2], 'Evicted');
});

test('completed container alongside a running one', () => {
  const spec = { containers: [{ name: 'a' }, { name: 'b' }] };
  const statuses = [{ name: 'a', restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }, running('b')];
  assert.equal(podTable.cells(pod(spec, { phase: 'Running', containerStatuses: statuses, conditions: [{ type: 'Ready', status: 'True' }] }), now)[2], 'Running');
  assert.equal(podTable.cells(pod(spec, { phase: 'Running', containerStatuses: statuses }), now)[2], 'NotReady');
});

test('field selectors', () => {
  const p = pod({ nodeName: 'n1', restartPolicy: 'Always', schedulerName: 'default-scheduler', serviceAccountName: 'sa', hostNetwork: true },
    { phase: 'Running', podIPs: [{ ip: '10.0.0.9' }], nominatedNodeName: 'n2' });
  const got = Object.fromEntries(Object.entries(podFieldSelectors).map(([k, g]) => [k, g(p)]));
  assert.deepEqual(got, {
    'spec.nodeName': 'n1', 'spec.restartPolicy': 'Always', 'spec.schedulerName': 'default-scheduler',
    'spec.serviceAccountName': 'sa', 'spec.hostNetwork': 'true', 'status.phase': 'Running',
    'status.podIP': '10.0.0.9', 'status.nominatedNodeName': 'n2',
  });
  assert.equal(podFieldSelectors['spec.hostNetwork'](pod({}, {})), 'false');
  assert.equal(podFieldSelectors['spec.nodeName'](pod({}, {})), undefined);
});
