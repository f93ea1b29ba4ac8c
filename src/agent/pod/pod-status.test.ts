import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { computePodStatus, podPhase, statusEqual, terminatedReason, type ContainerObservation } from './pod-status.ts';

const T0 = '2024-01-01T00:00:00Z';
const T1 = '2024-01-01T00:01:00Z';

function podOf(spec: Record<string, any>, status?: Record<string, any>): KubeObject {
  return { metadata: { name: 'p', namespace: 'ns', uid: 'u' }, spec: { restartPolicy: 'Always', ...spec }, ...(status ? { status } : {}) };
}
const running = (name: string, ready = true): ContainerObservation => ({ name, state: { running: { startedAt: T0 } }, restartCount: 0, ready, started: true, image: 'img' });
const exited = (name: string, exitCode: number): ContainerObservation => ({
  name,
  state: { terminated: { exitCode, reason: terminatedReason(exitCode), startedAt: T0, finishedAt: T1 } },
  restartCount: 0,
  ready: false,
  started: false,
  image: 'img',
});
const crashLooping = (name: string, exitCode: number): ContainerObservation => ({
  name,
  state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s' } },
  lastState: { terminated: { exitCode, reason: 'Error' } },
  restartCount: 3,
  ready: false,
  image: 'img',
});
const base = { hostIP: '10.0.0.1', startTime: T0, now: T1 };
const cond = (s: Record<string, any>, type: string) => s.conditions.find((c: any) => c.type === type);

test('no observations yet: Pending with ContainerCreating / PodInitializing defaults', () => {
  const s = computePodStatus(podOf({ containers: [{ name: 'a', image: 'x' }] }), { ...base, init: [], containers: [] });
  assert.equal(s.phase, 'Pending');
  assert.deepEqual(s.containerStatuses[0].state, { waiting: { reason: 'ContainerCreating' } });
  assert.equal(s.containerStatuses[0].image, 'x');
  assert.deepEqual(s.containerStatuses[0].lastState, {});
  const withInit = computePodStatus(podOf({ initContainers: [{ name: 'i' }], containers: [{ name: 'a' }] }), { ...base, init: [running('i', false)], containers: [] });
  assert.equal(withInit.phase, 'Pending');
  assert.equal(withInit.containerStatuses[0].state.waiting.reason, 'PodInitializing');
  assert.deepEqual(cond(withInit, 'Initialized'), { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [i]', lastProbeTime: null, lastTransitionTime: T1 });
  assert.equal(cond(withInit, 'Ready').message, 'containers with unready status: [a]');
});

test('Running, ready conditions, IPs, QoS', () => {
  const pod = podOf({ initContainers: [{ name: 'i' }], containers: [{ name: 'a' }, { name: 'b' }] });
  const s = computePodStatus(pod, { ...base, podIP: '10.88.0.2', init: [exited('i', 0)], containers: [running('a'), running('b', false)] });
  assert.equal(s.phase, 'Running');
  assert.equal(s.initContainerStatuses[0].ready, true);
  assert.equal(cond(s, 'Initialized').status, 'True');
  assert.equal(cond(s, 'ContainersReady').message, 'containers with unready status: [b]');
  assert.equal(cond(s, 'Ready').reason, 'ContainersNotReady');
  assert.equal(cond(s, 'PodScheduled').status, 'True');
  assert.equal(cond(s, 'PodReadyToStartContainers').status, 'True');
  assert.deepEqual(s.conditions.map((c) => c.type), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  assert.deepEqual(s.podIPs, [{ ip: '10.88.0.2' }]);
  assert.equal(s.podIP, '10.88.0.2');
  assert.deepEqual(s.hostIPs, [{ ip: '10.0.0.1' }]);
  assert.equal(s.qosClass, 'BestEffort');
  const all = computePodStatus(pod, { ...base, init: [exited('i', 0)], containers: [running('a'), running('b')] });
  assert.equal(cond(all, 'Ready').status, 'True');
});

test('phase rules by restart policy (getPhase)', () => {
  const two = (policy: string) => podOf({ restartPolicy: policy, containers: [{ name: 'a' }, { name: 'b' }] });
  assert.equal(podPhase(two('Never'), [], [exited('a', 0), exited('b', 0)]), 'Succeeded');
  assert.equal(podPhase(two('OnFailure'), [], [exited('a', 0), exited('b', 0)]), 'Succeeded');
  assert.equal(podPhase(two('Always'), [], [exited('a', 0), exited('b', 0)]), 'Running');
  assert.equal(podPhase(two('Never'), [], [exited('a', 0), exited('b', 1)]), 'Failed');
  assert.equal(podPhase(two('OnFailure'), [], [exited('a', 0), exited('b', 1)]), 'Running');
  assert.equal(podPhase(two('OnFailure'), [], [exited('a', 0), crashLooping('b', 1)]), 'Running');
  assert.equal(podPhase(two('Never'), [], [running('a'), exited('b', 1)]), 'Running');
  assert.equal(podPhase(two('Always'), [], [exited('a', 0), exited('b', 1)], true), 'Failed');
  assert.equal(podPhase(two('Always'), [], [running('a')]), 'Pending');
  const withInit = (policy: string) => podOf({ restartPolicy: policy, initContainers: [{ name: 'i' }], containers: [{ name: 'a' }] });
  assert.equal(podPhase(withInit('Never'), [exited('i', 2)], []), 'Failed');
  assert.equal(podPhase(withInit('OnFailure'), [crashLooping('i', 2)], []), 'Pending');
  assert.equal(podPhase(withInit('Always'), [running('i')], [running('a')]), 'Pending');
});

test('terminal phases: conditions PodCompleted / PodFailed, and a terminal phase sticks', () => {
  const pod = podOf({ restartPolicy: 'Never', containers: [{ name: 'a' }] });
  const done = computePodStatus(pod, { ...base, init: [], containers: [exited('a', 0)] });
  assert.equal(done.phase, 'Succeeded');
  assert.equal(cond(done, 'Ready').reason, 'PodCompleted');
  assert.equal(done.containerStatuses[0].state.terminated.reason, 'Completed');
  const failed = computePodStatus(pod, { ...base, init: [], containers: [exited('a', 137)] });
  assert.equal(failed.phase, 'Failed');
  assert.equal(cond(failed, 'ContainersReady').reason, 'PodFailed');
  const after = computePodStatus({ ...pod, status: failed }, { ...base, init: [], containers: [running('a')] });
  assert.equal(after.phase, 'Failed');
  assert.equal(terminatedReason(137, true), 'OOMKilled');
  assert.equal(terminatedReason(1), 'Error');
});

test('lastTransitionTime is kept while a condition holds; foreign conditions and qosClass are preserved', () => {
  const pod = podOf({ containers: [{ name: 'a', resources: { limits: { cpu: '1', memory: '1Gi' } } }], readinessGates: [{ conditionType: 'example.com/lb' }] });
  const first = computePodStatus(pod, { ...base, now: T0, init: [], containers: [running('a')] });
  assert.equal(cond(first, 'Ready').reason, 'ReadinessGatesNotReady');
  assert.equal(first.qosClass, 'Burstable');
  const gated = { ...first, conditions: [...first.conditions, { type: 'example.com/lb', status: 'True' }], qosClass: 'Guaranteed' };
  const second = computePodStatus({ ...pod, status: gated }, { ...base, now: T1, init: [], containers: [running('a')] });
  assert.equal(cond(second, 'ContainersReady').lastTransitionTime, T0);
  assert.equal(cond(second, 'Ready').status, 'True');
  assert.equal(cond(second, 'Ready').lastTransitionTime, T1);
  assert.deepEqual(cond(second, 'example.com/lb'), { type: 'example.com/lb', status: 'True' });
  assert.equal(second.qosClass, 'Guaranteed');
  assert.equal(second.startTime, T0);
});

test('statusEqual ignores moved condition times and sub-second precision, not real changes', () => {
  const pod = podOf({ containers: [{ name: 'a' }] });
  const a = computePodStatus(pod, { ...base, now: T0, init: [], containers: [running('a')] });
  const b = computePodStatus(pod, { ...base, now: T1, init: [], containers: [{ ...running('a'), state: { running: { startedAt: '2024-01-01T00:00:00.123Z' } } }] });
  assert.notDeepEqual(a, b);
  assert.ok(statusEqual(a, b));
  assert.ok(statusEqual({ ...a, conditions: [...a.conditions].reverse() }, a));
  const c = computePodStatus(pod, { ...base, now: T1, init: [], containers: [running('a', false)] });
  assert.ok(!statusEqual(a, c));
  assert.ok(!statusEqual(a, { ...a, podIP: '1.2.3.4' }));
});
