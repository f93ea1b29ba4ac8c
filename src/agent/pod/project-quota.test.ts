import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyProjectQuota, mountOf, projectId, quotaMode } from './project-quota.ts';

const MOUNTINFO = [
  '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard',
  '40 22 254:16 / /srv/quota rw,relatime shared:2 - ext4 /dev/vdb rw,prjquota',
  '41 22 254:32 / /srv/xfs rw,relatime shared:3 - xfs /dev/vdc rw,attr2,inode64,prjquota',
  '42 22 0:50 / /srv/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

test('the mount of a path is the longest mount point above it', () => {
  assert.equal(mountOf('/var/lib/berth/storage', MOUNTINFO)?.mountPoint, '/');
  assert.equal(mountOf('/srv/quota/berth/pvc-1', MOUNTINFO)?.fsType, 'ext4');
  assert.equal(mountOf('/srv/with space/x', MOUNTINFO)?.mountPoint, '/srv/with space');
});

test('project quotas need the mount option and the tools', () => {
  assert.equal(quotaMode('/var/lib/berth/storage', MOUNTINFO, () => true), 'none');
  assert.equal(quotaMode('/srv/quota/storage', MOUNTINFO, () => true), 'project');
  assert.equal(quotaMode('/srv/quota/storage', MOUNTINFO, (t) => t !== 'setquota'), 'none');
  assert.equal(quotaMode('/srv/xfs/storage', MOUNTINFO, (t) => t === 'xfs_quota'), 'project');
  // This machine's own root file system answers too (whatever it is).
  assert.match(quotaMode('/'), /^(project|none)$/);
});

test('the limit is set with the file system tools, on a stable project id', async () => {
  const calls: string[] = [];
  const run = async (cmd: string, args: string[]) => { calls.push([cmd, ...args].join(' ')); };
  const id = projectId('pvc-1');
  assert.equal(projectId('pvc-1'), id);
  assert.ok(id >= 1_000_000);
  await applyProjectQuota('/srv/quota/s/pvc-1_ns_data', 'pvc-1', 2 * 1024 ** 3, mountOf('/srv/quota/s', MOUNTINFO)!, run);
  await applyProjectQuota('/srv/xfs/s/pvc-1_ns_data', 'pvc-1', 1024 ** 3, mountOf('/srv/xfs/s', MOUNTINFO)!, run);
  assert.deepEqual(calls, [
    `chattr +P -p ${id} /srv/quota/s/pvc-1_ns_data`,
    `setquota -P ${id} 0 2097152 0 0 /srv/quota`,
    `xfs_quota -x -c project -s -p /srv/xfs/s/pvc-1_ns_data ${id} /srv/xfs`,
    `xfs_quota -x -c limit -p bhard=1073741824 ${id} /srv/xfs`,
  ]);
});
