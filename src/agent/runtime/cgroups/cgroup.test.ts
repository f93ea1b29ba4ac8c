import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Cgroup, cpuQuotaUs, cpuShares, cpuWeight, detectCgroupLayout, hostCgroupLayout, limitFiles, removeCgroupTree } from './index.ts';

test('limit conversions follow the kubelet', () => {
  assert.equal(cpuQuotaUs(500), 50_000);
  assert.equal(cpuQuotaUs(2000), 200_000);
  assert.equal(cpuQuotaUs(1), 1000, 'the kernel minimum');
  assert.equal(cpuShares(undefined), 2);
  assert.equal(cpuShares(1000), 1024);
  assert.equal(cpuShares(250), 256);
  assert.equal(cpuWeight(1000), 39);
  assert.equal(cpuWeight(undefined), 1);
  const v2 = limitFiles('v2', { cpuLimitMillis: 500, memoryLimitBytes: 1 << 20, pidsLimit: 10 });
  assert.deepEqual(
    v2.map((f) => `${f.file}=${f.value}`),
    ['cpu.weight=1', 'cpu.max=50000 100000', 'memory.max=1048576', 'memory.swap.max?=0', 'memory.oom.group?=1', 'pids.max=10'],
  );
  const v1 = limitFiles('v1', { cpuRequestMillis: 100, memoryLimitBytes: 4096 });
  assert.deepEqual(v1.map((f) => `${f.file}=${f.value}`), ['cpu.shares=102', 'memory.limit_in_bytes=4096', 'memory.memsw.limit_in_bytes?=4096']);
});

test('detects v1, hybrid and v2 from the mount table', () => {
  const hybrid = [
    'tmpfs /sys/fs/cgroup tmpfs rw 0 0',
    'cgroup /sys/fs/cgroup/cpu,cpuacct cgroup rw,cpu,cpuacct 0 0',
    'cgroup /sys/fs/cgroup/memory cgroup rw,memory 0 0',
    'cgroup /sys/fs/cgroup/pids cgroup rw,pids 0 0',
    'cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0',
  ].join('\n');
  const h = detectCgroupLayout(hybrid);
  assert.equal(h.mode, 'hybrid');
  assert.equal(h.v1Roots.cpu, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(h.v1Roots.cpuacct, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(new Cgroup(h, 'berth/pod-1/c').dirs.length, 3, 'co-mounted controllers share one directory');
  assert.equal(detectCgroupLayout(hybrid.split('\n').slice(0, 4).join('\n')).mode, 'v1');
  const v2 = detectCgroupLayout('cgroup2 /sys/fs/cgroup cgroup2 rw 0 0');
  assert.equal(v2.mode, 'v2');
  assert.deepEqual(new Cgroup(v2, '/berth/pod-1/c/').dirs, ['/sys/fs/cgroup/berth/pod-1/c']);
  assert.throws(() => new Cgroup(v2, 'berth/../etc'));
});

test('on this machine: create, limit, join, usage, OOM counter, kill, remove', async () => {
  assert.equal(process.getuid?.(), 0, 'needs root to manage cgroups');
  const layout = hostCgroupLayout();
  const parent = `berth-cgtest-${process.pid}`;
  const cg = new Cgroup(layout, `${parent}/pod-x/c`);
  try {
    cg.create({ cpuLimitMillis: 250, cpuRequestMillis: 500, memoryLimitBytes: 64 << 20, pidsLimit: 20 });
    assert.ok(cg.exists());
    const mem = cg.dirFor('memory');
    if (cg.version === 'v1') {
      assert.equal(readFileSync(join(cg.dirFor('cpu'), 'cpu.cfs_quota_us'), 'utf8').trim(), '25000');
      assert.equal(readFileSync(join(cg.dirFor('cpu'), 'cpu.shares'), 'utf8').trim(), '512');
      assert.equal(readFileSync(join(mem, 'memory.limit_in_bytes'), 'utf8').trim(), String(64 << 20));
    } else {
      assert.equal(readFileSync(join(mem, 'cpu.max'), 'utf8').trim(), '25000 100000');
      assert.equal(readFileSync(join(mem, 'memory.max'), 'utf8').trim(), String(64 << 20));
    }
    assert.equal(readFileSync(join(cg.dirFor('pids'), 'pids.max'), 'utf8').trim(), '20');
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = new Promise((r) => child.on('exit', r));
    cg.addPid(child.pid!);
    assert.deepEqual(cg.pids(), [child.pid]);
    assert.ok(cg.usage().memoryBytes >= 0);
    assert.equal(cg.oomKills(), 0);
    await cg.killAll('SIGKILL');
    await exited;
    assert.deepEqual(cg.pids(), []);
    await cg.remove();
    await cg.remove(); // idempotent
    assert.ok(!cg.exists());
  } finally {
    await cg.killAll('SIGKILL').catch(() => {});
    await removeCgroupTree(layout, cg.relPath);
  }
  assert.ok(!existsSync(join(cg.dirs[0], '..', '..')), 'the test parent is gone');
});
