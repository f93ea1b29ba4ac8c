import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeMetrics, podMetrics } from './metrics-objects.ts';
import { SummaryReader, type Summary } from './node-summaries.ts';

const T = '2026-12-06T12:00:00Z';
const summary: Summary = {
  node: { nodeName: 'n1', cpu: { time: T, usageNanoCores: 250_000_000 }, memory: { time: T, workingSetBytes: 512 * 1024 * 1024 } },
  pods: [{
    podRef: { name: 'web', namespace: 'default', uid: 'u1' }, cpu: { time: T, usageNanoCores: 1_500_000 },
    containers: [{ name: 'app', cpu: { time: T, usageNanoCores: 1_500_000 }, memory: { time: T, workingSetBytes: 3 * 1024 * 1024 } }],
  }],
};

test('NodeMetrics and PodMetrics as metrics-server writes them: nanocores, Ki, window, labels', () => {
  const node = nodeMetrics({ metadata: { name: 'n1', labels: { zone: 'a' } } }, summary, T)!;
  assert.deepEqual(node.usage, { cpu: '250000000n', memory: '524288Ki' });
  assert.equal(node.window, '10s');
  assert.deepEqual(node.metadata.labels, { zone: 'a' });
  const pod = podMetrics({ metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } } }, summary.pods[0], T)!;
  assert.deepEqual(pod.containers, [{ name: 'app', usage: { cpu: '1500000n', memory: '3072Ki' } }]);
  assert.equal(pod.metadata.namespace, 'default');
});

test('no figures yet: no object (a node that did not answer, a container sampled once)', () => {
  assert.equal(nodeMetrics({ metadata: { name: 'n1' } }, undefined, T), undefined);
  const first = { ...summary.pods[0], containers: [{ name: 'app', cpu: { time: T }, memory: { time: T, workingSetBytes: 1 } }] };
  assert.equal(podMetrics({ metadata: { name: 'web' } }, first, T), undefined);
});

test('summaries are cached per node for a short while; a failing node is no summary', async () => {
  let now = 0;
  let calls = 0;
  const reader = new SummaryReader({ cacheMs: 5000, now: () => now, fetch: async (url) => { calls++; if (url.includes('bad')) throw new Error('down'); return summary; } });
  assert.equal((await reader.read('n1', 'https://n1'))?.node.nodeName, 'n1');
  await reader.read('n1', 'https://n1');
  assert.equal(calls, 1);
  now = 6000;
  await reader.read('n1', 'https://n1');
  assert.equal(calls, 2);
  assert.equal(await reader.read('n2', 'https://bad'), undefined);
});
