import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MetricsSampler, type PodRef } from './sampler.ts';
import { CgroupTree, netDevText } from './cgroup-tree.fixture.ts';
import { resourceMetricsText } from './resource-metrics.ts';
import { cadvisorText } from './cadvisor-metrics.ts';
import { statsHistory, statsSummary } from './stats-summary.ts';

const UID = '0b3c1a2e-0000-4000-8000-000000000001';

function setup(mode: 'v1' | 'v2') {
  const tree = new CgroupTree(mode);
  const procRoot = tree.proc({ cpuJiffies: [100, 0, 100, 1000, 0, 0, 0, 0], memTotalKb: 1000, memAvailableKb: 400, netdev: { self: netDevText({ lo: [1, 1], eth0: [10, 20], vethabc: [99, 99] }), 4242: netDevText({ lo: [9, 9], eth0: [300, 400] }) } });
  const pods: PodRef[] = [{
    uid: UID, namespace: 'ns', name: 'burner', cgroupPath: `berth/pod-${UID}`, hostNetwork: false,
    containers: [{ name: 'main', id: `${UID}_main_0`, image: 'host', running: true, runtime: 'process' }, { name: 'idle', image: 'host', running: false }],
  }];
  let now = 1_000_000;
  const sampler = new MetricsSampler({ layout: tree.layout, dataDir: tree.dir, pods: () => pods, now: () => now, procRoot, historyMs: 60_000 });
  return { tree, sampler, pods, advance: (ms: number) => { now += ms; } };
}

for (const mode of ['v1', 'v2'] as const) {
  test(`sampler (${mode}): rates between samples, pod network from a member's namespace, history ages out`, () => {
    const { tree, sampler, advance } = setup(mode);
    try {
      tree.set(`berth/pod-${UID}`, { cpuNs: 1e9, usage: 3e6, inactiveFile: 1e6 });
      tree.set(`berth/pod-${UID}/${UID}_main_0`, { cpuNs: 1e9, usage: 3e6, inactiveFile: 1e6, pids: [4242] });
      const first = sampler.sampleOnce();
      assert.equal(first.pods.length, 1);
      assert.equal(first.pods[0].usageNanoCores, undefined, 'no rate before a second sample');
      assert.equal(first.pods[0].containers.length, 1, 'a container that never started is not sampled');
      assert.equal(first.pods[0].network?.rxBytes, 300, 'loopback left out');
      assert.equal(first.node.network.rxBytes, 10, 'pod veths are not the node\'s traffic');
      assert.equal(first.node.memory.workingSetBytes, 600 * 1024);

      advance(10_000);
      // 5 s of CPU in 10 s: half a core.
      tree.set(`berth/pod-${UID}`, { cpuNs: 6e9, usage: 4e6, inactiveFile: 1e6 });
      tree.set(`berth/pod-${UID}/${UID}_main_0`, { cpuNs: 6e9, usage: 4e6, inactiveFile: 1e6, pids: [4242] });
      const second = sampler.sampleOnce();
      assert.equal(second.pods[0].usageNanoCores, 500_000_000);
      assert.equal(second.pods[0].containers[0].usageNanoCores, 500_000_000);
      assert.equal(second.pods[0].memoryWorkingSetBytes, 3e6);
      assert.equal(second.windowMs, 10_000);

      const summary = statsSummary(second, 'n1', 0) as { pods: Array<{ cpu: { usageNanoCores: number }; containers: Array<{ name: string; memory: { workingSetBytes: number } }> }> };
      assert.equal(summary.pods[0].cpu.usageNanoCores, 500_000_000);
      assert.equal(summary.pods[0].containers[0].memory.workingSetBytes, 3e6);
      const text = resourceMetricsText(second);
      assert.match(text, /^container_cpu_usage_seconds_total\{container="main",namespace="ns",pod="burner"\} 6 1010000$/m);
      assert.match(text, /^pod_memory_working_set_bytes\{namespace="ns",pod="burner"\} 3000000 1010000$/m);
      const cadvisor = cadvisorText(second, { cores: 2 });
      assert.match(cadvisor, new RegExp(`^container_memory_working_set_bytes\\{container="main",id="/berth/pod-${UID}/${UID}_main_0",image="host",name="${UID}_main_0",namespace="ns",pod="burner"\\} 3000000`, 'm'));
      assert.match(cadvisor, /^container_network_receive_bytes_total\{container="",.*interface="eth0"\} 300/m);

      assert.equal(sampler.history(`ns/burner`).length, 2);
      advance(61_000);
      tree.set(`berth/pod-${UID}`, { cpuNs: 7e9, usage: 4e6, inactiveFile: 1e6 });
      sampler.sampleOnce();
      assert.equal(sampler.history('ns/burner').length, 1, 'points older than the history window are dropped');
      const h = statsHistory(sampler, new URLSearchParams('namespace=ns&pod=burner')) as { pods: Record<string, unknown[]> };
      assert.equal(h.pods['ns/burner'].length, 1);
    } finally {
      tree.remove();
    }
  });
}

test('sampler: a pod whose cgroup is gone is left out; no snapshot yet reports a scrape error', () => {
  const { tree, sampler } = setup('v2');
  try {
    assert.equal(sampler.sampleOnce().pods.length, 0);
    assert.match(resourceMetricsText(undefined), /^resource_scrape_error 1$/m);
  } finally {
    tree.remove();
  }
});

test('sampler: a container\'s log bytes follow its files as they grow, and a restart\'s new log file counts from its first sample', () => {
  const { tree, sampler, pods } = setup('v2');
  try {
    const dir = join(tree.dir, 'pods', UID, 'main');
    mkdirSync(dir, { recursive: true });
    tree.set(`berth/pod-${UID}`, { cpuNs: 1e9, usage: 3e6, inactiveFile: 1e6 });
    tree.set(`berth/pod-${UID}/${UID}_main_0`, { cpuNs: 1e9, usage: 3e6, inactiveFile: 1e6, pids: [4242] });
    tree.set(`berth/pod-${UID}/${UID}_main_1`, { cpuNs: 1e9, usage: 3e6, inactiveFile: 1e6, pids: [4242] });
    assert.equal(sampler.sampleOnce().pods[0].containers[0].logsBytes, 0, 'no log file yet');
    writeFileSync(join(dir, '0.log'), 'x'.repeat(100));
    assert.equal(sampler.sampleOnce().pods[0].containers[0].logsBytes, 100, 'a log file written after the first sample');
    appendFileSync(join(dir, '0.log'), 'y'.repeat(50));
    assert.equal(sampler.sampleOnce().pods[0].containers[0].logsBytes, 150);
    writeFileSync(join(dir, '1.log'), 'z'.repeat(7));
    pods[0].containers[0].id = `${UID}_main_1`;
    assert.equal(sampler.sampleOnce().pods[0].containers[0].logsBytes, 157, 'restarted: the new file counts at once');
  } finally {
    tree.remove();
  }
});
