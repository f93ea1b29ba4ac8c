import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { CrashLoopBackoff } from '../pod/backoff.ts';
import { backoffKey, crashLoopDelay } from './crash-loop.ts';
import { newInstance } from './instance.ts';

const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'c' }] } };

test('crashLoopDelay: none before a second exit; then CrashLoopBackOff with the kubelet message, one BackOff event per wait', () => {
  const events: string[] = [];
  const deps = { backoff: new CrashLoopBackoff({ baseMs: 10_000 }), recorder: { event: async (_o: unknown, _t: string, reason: string, message: string) => { events.push(`${reason}: ${message}`); } } as any };
  const inst = newInstance(pod, { name: 'c' }, false);
  assert.deepEqual(inst.state, { waiting: { reason: 'ContainerCreating' } });
  assert.equal(crashLoopDelay(pod, inst, deps), undefined);
  inst.lastTerminated = { terminated: { exitCode: 1, reason: 'Error' } } as any;
  deps.backoff.recordExit(backoffKey('u1', 'c'), new Date()); // the first crash restarts at once, as the kubelet's
  assert.equal(crashLoopDelay(pod, inst, deps), undefined);
  deps.backoff.recordExit(backoffKey('u1', 'c'), new Date());
  const delay = crashLoopDelay(pod, inst, deps)!;
  assert.ok(delay > 9_000 && delay <= 10_000, `delay ${delay}`);
  assert.deepEqual(inst.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=c pod=web_ns(u1)' } });
  assert.deepEqual(inst.lastState, inst.lastTerminated);
  assert.ok(crashLoopDelay(pod, inst, deps)! > 0);
  assert.deepEqual(events, ['BackOff: Back-off restarting failed container c in pod web_ns(u1)']);
});

test('newInstance: PodInitializing for regular containers while the pod has init containers', () => {
  const withInit: KubeObject = { ...pod, spec: { initContainers: [{ name: 'i' }], containers: [{ name: 'c' }] } };
  assert.equal((newInstance(withInit, { name: 'i' }, true).state as any).waiting.reason, 'ContainerCreating');
  assert.equal((newInstance(withInit, { name: 'c' }, false).state as any).waiting.reason, 'PodInitializing');
});
