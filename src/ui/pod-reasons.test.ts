import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Obj } from './object-store.ts';
import { podProblem, podProblems, podStatusWord, workloadProblem } from './pod-reasons.ts';

const pod = (name: string, status: any, spec: any = {}): Obj => ({ metadata: { name, namespace: 'app' }, spec, status });
const ev = (name: string, reason: string, message: string, t: string, type = 'Warning'): Obj =>
  ({ metadata: { name: `${name}.${reason}`, namespace: 'app' }, type, reason, message, lastTimestamp: t, involvedObject: { kind: 'Pod', namespace: 'app', name } } as Obj);

test('image pull errors and crash loops, with the container, exit code and restarts', () => {
  const bad = pod('bad', { phase: 'Pending', containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "nope:1"' } } }] });
  assert.deepEqual(podProblem(bad), { kind: 'Pod', namespace: 'app', name: 'bad', reason: 'ImagePullBackOff', message: 'container c: Back-off pulling image "nope:1"', severity: 0, container: undefined });
  const crash = pod('crash', { phase: 'Running', containerStatuses: [{ name: 'main', restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s restarting failed container' } }, lastState: { terminated: { exitCode: 3, reason: 'Error' } } }] });
  const p = podProblem(crash)!;
  assert.equal(p.reason, 'CrashLoopBackOff');
  assert.equal(p.message, 'container main: exit code 3 (Error), 4 restarts: back-off 40s restarting failed container');
  assert.equal(p.container, 'main');
  assert.equal(podStatusWord(crash), 'CrashLoopBackOff');
});

test('unschedulable pods take the latest FailedScheduling message; healthy and starting pods are fine', () => {
  const pending = pod('p', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'old' }] });
  const events = [ev('p', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.', '2026-12-06T10:00:00Z'), ev('p', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient memory.', '2026-12-06T10:01:00Z')];
  assert.deepEqual(podProblems([pending], events).map((x) => `${x.reason}: ${x.message}`), ['Unschedulable: 0/3 nodes are available: 3 Insufficient memory.']);
  assert.equal(podProblem(pod('ok', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] })), undefined);
  assert.equal(podProblem(pod('new', { phase: 'Pending', containerStatuses: [{ name: 'c', state: { waiting: { reason: 'ContainerCreating' } } }] })), undefined);
});

test('a running pod that is not ready because a probe fails; a failed pod; most urgent first', () => {
  const unready = pod('u', { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] });
  const events = [ev('u', 'Unhealthy', 'Readiness probe failed: HTTP probe failed with statuscode: 500', new Date().toISOString())];
  const failed = pod('f', { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' });
  const crash = pod('c', { phase: 'Running', containerStatuses: [{ name: 'x', state: { waiting: { reason: 'CrashLoopBackOff' } } }] });
  assert.deepEqual(podProblems([unready, failed, crash], events).map((x) => `${x.name} ${x.reason}`), ['c CrashLoopBackOff', 'f Evicted', 'u Unhealthy']);
});

test('workloads short of ready replicas', () => {
  const d: Obj = { metadata: { name: 'web', namespace: 'app' }, spec: { replicas: 3 }, status: { readyReplicas: 1, conditions: [{ type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.' }] } };
  assert.equal(workloadProblem('Deployment', d)?.message, '1/3 ready: Deployment does not have minimum availability.');
  assert.equal(workloadProblem('Deployment', { ...d, status: { readyReplicas: 3 } }), undefined);
});

test('stateful members: not moved off a lost node (condition), moved (the fencing controller\'s event, recent)', () => {
  const stuck = pod('db-0', { phase: 'Running', conditions: [{ type: 'MemberNotMoved', status: 'True', reason: 'NodeNotFenced', message: 'stays on node-2: its fence was not confirmed' }] });
  assert.equal(podProblem(stuck)?.reason, 'NodeNotFenced');
  const moved = pod('db-1', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] });
  const events = [ev('db-1', 'MemberMoved', 'Member app/db-1 moved from lost node node-2 to node-3', new Date().toISOString(), 'Normal')];
  const p = podProblems([moved], events)[0];
  assert.equal(`${p.reason} ${p.severity}`, 'MemberMoved 3');
});
