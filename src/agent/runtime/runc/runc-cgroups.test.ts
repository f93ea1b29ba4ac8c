/** Finding every cgroup hierarchy runc writes to (pure parsing; no root needed). */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { allCgroupRoots, managedRoots, removeEmptyCgroupPath } from './runc-cgroups.ts';

const HYBRID = `sysfs /sys sysfs rw 0 0
tmpfs /sys/fs/cgroup tmpfs rw,mode=755 0 0
cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0
cgroup /sys/fs/cgroup/cpuset cgroup rw,relatime,cpuset 0 0
cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
cgroup /sys/fs/cgroup/systemd cgroup rw,relatime,name=systemd 0 0
cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0
`;

test('allCgroupRoots lists v1 and v2 mounts; managedRoots only the controllers Berth manages', () => {
  assert.deepEqual(allCgroupRoots(HYBRID), ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpuset', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified']);
  const managed = managedRoots({ mode: 'hybrid', unifiedRoot: '/sys/fs/cgroup/unified', v1Roots: { cpu: '/sys/fs/cgroup/cpu', memory: '/sys/fs/cgroup/memory' } });
  assert.deepEqual([...managed].sort(), ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/memory']);
  assert.deepEqual([...managedRoots({ mode: 'v2', unifiedRoot: '/sys/fs/cgroup', v1Roots: {} })], ['/sys/fs/cgroup']);
});

test('removeEmptyCgroupPath removes deepest first and stops at a directory still in use', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-runc-test-cg-'));
  try {
    mkdirSync(join(tmp, 'a/berth/pod-1/ctr'), { recursive: true });
    mkdirSync(join(tmp, 'a/berth/pod-2'), { recursive: true });
    mkdirSync(join(tmp, 'b/berth/pod-1'), { recursive: true });
    removeEmptyCgroupPath([join(tmp, 'a'), join(tmp, 'b')], '/berth/pod-1/ctr');
    assert.ok(!existsSync(join(tmp, 'a/berth/pod-1')) && existsSync(join(tmp, 'a/berth/pod-2')), 'a: stops at berth (pod-2 is in it)');
    assert.ok(!existsSync(join(tmp, 'b/berth')) && existsSync(join(tmp, 'b')), 'b: all the way up, never the root');
    assert.throws(() => removeEmptyCgroupPath([tmp], '../x'), /bad cgroup path/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
