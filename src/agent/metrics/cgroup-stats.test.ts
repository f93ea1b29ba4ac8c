import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroupFiles, cgroupPids, firstPid, keyedValue, leadingNumber, readCgroupStats, statsOf } from './cgroup-stats.ts';
import { KeptFiles } from './kept-files.ts';
import { CgroupTree } from './cgroup-tree.fixture.ts';

for (const mode of ['v1', 'hybrid', 'v2'] as const) {
  test(`cgroup stats (${mode}): cpu, usage, working set = usage − inactive_file, rss, faults, pids`, () => {
    const tree = new CgroupTree(mode);
    try {
      tree.set('berth/pod-a/c1', { cpuNs: 2_500_000_000, usage: 50_000_000, inactiveFile: 20_000_000, rss: 25_000_000, pids: [42, 43] });
      const s = readCgroupStats(tree.layout, 'berth/pod-a/c1')!;
      assert.equal(s.cpuUsageNs, 2_500_000_000);
      assert.equal(s.memoryUsageBytes, 50_000_000);
      assert.equal(s.memoryWorkingSetBytes, 30_000_000);
      assert.equal(s.memoryRssBytes, 25_000_000);
      assert.equal(s.pageFaults, 7);
      assert.equal(s.majorPageFaults, 1);
      assert.deepEqual(cgroupPids(tree.layout, '/berth/pod-a/c1'), [42, 43]);
      // More inactive file pages than usage (a race between the two reads): floored at 0, as cAdvisor.
      tree.set('berth/pod-a/c2', { cpuNs: 0, usage: 10, inactiveFile: 20 });
      assert.equal(readCgroupStats(tree.layout, 'berth/pod-a/c2')!.memoryWorkingSetBytes, 0);
      assert.equal(readCgroupStats(tree.layout, 'berth/pod-a/gone'), undefined);
      assert.deepEqual(cgroupPids(tree.layout, 'berth/pod-a/gone'), []);
      // The sampler's way: paths joined once, bytes from one reused buffer, each file parsed before the next read.
      const kept = new KeptFiles();
      const files = cgroupFiles(tree.layout, 'berth/pod-a/c1');
      assert.deepEqual(statsOf(files, (p) => kept.bytes(p)), s);
      assert.equal(firstPid(files, (p) => kept.bytes(p)), 42);
      assert.equal(firstPid(cgroupFiles(tree.layout, 'berth/pod-a/c2'), (p) => kept.bytes(p)), undefined, 'no process');
      assert.equal(statsOf(cgroupFiles(tree.layout, 'berth/pod-a/gone'), (p) => kept.bytes(p)), undefined);
      kept.close();
    } finally {
      tree.remove();
    }
  });
}

test('keyedValue finds a whole key at a line start, not a longer key or one inside another', () => {
  const stat = 'rss_huge 5\nrss 7\nmapped_file 1\ntotal_rss 9\ntotal_rss_huge 11\nhierarchical_memory_limit 9223372036854771712\n';
  assert.equal(keyedValue(stat, 'rss'), 7);
  assert.equal(keyedValue(stat, 'total_rss'), 9);
  assert.equal(keyedValue(stat, 'rss_huge'), 5);
  assert.equal(keyedValue(stat, 'file'), undefined);
  assert.equal(keyedValue(stat, 'total_inactive_file'), undefined);
  assert.equal(keyedValue('usage_usec 123\nuser_usec 100', 'usage_usec'), 123);
  assert.equal(keyedValue('usage_usec \n', 'usage_usec'), undefined);
  // The same on bytes, as the sampler reads them.
  const bytes = Buffer.from(stat, 'latin1');
  assert.equal(keyedValue(bytes, 'rss'), 7);
  assert.equal(keyedValue(bytes, 'total_rss'), 9);
  assert.equal(keyedValue(bytes, 'file'), undefined);
  assert.equal(leadingNumber(Buffer.from('  123456789012\n')), 123456789012);
  assert.equal(leadingNumber('\n'), 0);
});
