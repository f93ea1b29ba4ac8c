/** Looking up the command inside a rootfs from the host: symlinks stay inside, volumes map out. */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { hostPathInRootfs, resolveExecutableInRootfs } from './rootfs-path.ts';

const tmp = mkdtempSync(join(tmpdir(), 'berth-runc-test-rootfs-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const root = join(tmp, 'rootfs');
const vol = join(tmp, 'vol');
for (const d of ['bin', 'usr/bin', 'opt/app']) mkdirSync(join(root, d), { recursive: true });
mkdirSync(vol);
writeFileSync(join(root, 'bin/busybox'), '');
chmodSync(join(root, 'bin/busybox'), 0o755);
symlinkSync('busybox', join(root, 'bin/sh'));
// An absolute link must resolve inside the rootfs, not on the host.
symlinkSync('/bin/busybox', join(root, 'usr/bin/env'));
symlinkSync('/usr/bin', join(root, 'opt/app/bin'));
writeFileSync(join(root, 'opt/app/data.txt'), 'not executable');
writeFileSync(join(vol, 'tool'), '');
chmodSync(join(vol, 'tool'), 0o755);
symlinkSync('loop', join(root, 'bin/loop'));
const mounts = [{ hostPath: vol, containerPath: '/mnt/tools' }];

test('hostPathInRootfs follows relative and absolute links inside the rootfs and maps volumes', () => {
  assert.equal(hostPathInRootfs(root, '/bin/sh', []), join(root, 'bin/busybox'));
  assert.equal(hostPathInRootfs(root, '/usr/bin/env', []), join(root, 'bin/busybox'));
  assert.equal(hostPathInRootfs(root, '/opt/app/bin/env', []), join(root, 'bin/busybox'));
  assert.equal(hostPathInRootfs(root, '/mnt/tools/tool', mounts), join(vol, 'tool'));
  assert.equal(hostPathInRootfs(root, '/bin/loop', []), undefined);
});

test('resolveExecutableInRootfs: PATH search, absolute and relative commands, the runtimes wording', () => {
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin' };
  assert.equal(resolveExecutableInRootfs(root, 'sh', env, undefined, []), '/bin/sh');
  assert.equal(resolveExecutableInRootfs(root, 'env', env, undefined, []), '/usr/bin/env');
  assert.equal(resolveExecutableInRootfs(root, 'tool', { PATH: '/mnt/tools' }, undefined, mounts), '/mnt/tools/tool');
  assert.equal(resolveExecutableInRootfs(root, './bin/env', env, '/opt/app', []), '/opt/app/bin/env');
  assert.throws(() => resolveExecutableInRootfs(root, 'nope', env, undefined, []), /exec: "nope": executable file not found in \$PATH/);
  assert.throws(() => resolveExecutableInRootfs(root, '/opt/app/data.txt', env, undefined, []), /no such file or not executable/);
  assert.throws(() => resolveExecutableInRootfs(root, 'loop', { PATH: '/bin' }, undefined, []), /not found/);
});
