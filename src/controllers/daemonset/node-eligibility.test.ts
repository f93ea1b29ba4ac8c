import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { daemonPodAffinity, daemonTolerations, nodeShouldRunDaemonPod, targetNodeOf } from './node-eligibility.ts';

const node = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []): KubeObject => ({ metadata: { name, labels }, spec: { taints } });

test('default daemon tolerations, network-unavailable only with hostNetwork', () => {
  const keys = daemonTolerations({}).map((t) => `${t.key}:${t.effect}`);
  assert.deepEqual(keys, [
    'node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/disk-pressure:NoSchedule',
    'node.kubernetes.io/memory-pressure:NoSchedule', 'node.kubernetes.io/pid-pressure:NoSchedule', 'node.kubernetes.io/unschedulable:NoSchedule',
  ]);
  assert.ok(daemonTolerations({}).every((t) => t.tolerationSeconds == null));
  assert.ok(daemonTolerations({ hostNetwork: true }).some((t) => t.key === 'node.kubernetes.io/network-unavailable'));
});

test('nodeSelector and required affinity', () => {
  assert.equal(nodeShouldRunDaemonPod(node('a', { disk: 'ssd' }), { nodeSelector: { disk: 'ssd' } }).shouldRun, true);
  assert.equal(nodeShouldRunDaemonPod(node('a'), { nodeSelector: { disk: 'ssd' } }).shouldRun, false);
  const aff = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }] } } };
  assert.equal(nodeShouldRunDaemonPod(node('a', { zone: 'x' }), { affinity: aff }).shouldRun, true);
  assert.equal(nodeShouldRunDaemonPod(node('a', { zone: 'y' }), { affinity: aff }).shouldRun, false);
});

test('taints: NoSchedule keeps new pods off, NoExecute evicts, defaults tolerate node conditions', () => {
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'k', effect: 'NoSchedule' }]), {}), { shouldRun: false, shouldContinueRunning: true });
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'k', effect: 'NoExecute' }]), {}), { shouldRun: false, shouldContinueRunning: false });
  assert.deepEqual(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'k', effect: 'NoExecute' }]), { tolerations: [{ key: 'k', operator: 'Exists' }] }), { shouldRun: true, shouldContinueRunning: true });
  const sick = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }];
  assert.equal(nodeShouldRunDaemonPod(node('a', {}, sick), {}).shouldRun, true);
  assert.equal(nodeShouldRunDaemonPod(node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), {}).shouldRun, false);
});

test('daemon pod affinity pins the node and is read back', () => {
  const a = daemonPodAffinity({ nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [] } }, 'n1');
  assert.ok(a.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution);
  assert.equal(targetNodeOf({ metadata: {}, spec: { affinity: a } }), 'n1');
  assert.equal(targetNodeOf({ metadata: {}, spec: { nodeName: 'n2', affinity: a } }), 'n2');
});
