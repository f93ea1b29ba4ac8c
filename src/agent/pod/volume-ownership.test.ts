import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, stat, symlink, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { requiresPermissionChange, setVolumeOwnership } from './volume-ownership.ts';

const root = process.getuid?.() === 0;

test('fsGroup: group, group rw and setgid directories below the volume; symlinks keep their mode', { skip: !root && 'chown to another group needs root' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-fsgroup-'));
  try {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'f'), 'x', { mode: 0o600 });
    await writeFile(join(dir, 'target'), 'y', { mode: 0o600 });
    await symlink('target', join(dir, 'link'));
    await chmod(dir, 0o755);
    assert.equal(await requiresPermissionChange(dir, 2345, false), true);
    assert.equal(await setVolumeOwnership(dir, 2345, undefined, false), true);
    const d = await stat(join(dir, 'sub'));
    assert.equal(d.gid, 2345);
    assert.equal(d.mode & 0o2770, 0o2770);
    const f = await stat(join(dir, 'sub', 'f'));
    assert.equal(f.gid, 2345);
    assert.equal(f.mode & 0o777, 0o660);
    assert.equal((await stat(join(dir, 'target'))).mode & 0o777, 0o660, 'the target got its bits once, not through the link');
    // OnRootMismatch: the root matches now, nothing is walked (a new file keeps its mode).
    await writeFile(join(dir, 'late'), 'z', { mode: 0o600 });
    assert.equal(await requiresPermissionChange(dir, 2345, false), false);
    assert.equal(await setVolumeOwnership(dir, 2345, 'OnRootMismatch', false), false);
    assert.equal((await stat(join(dir, 'late'))).mode & 0o777, 0o600);
    // Always: walked again.
    assert.equal(await setVolumeOwnership(dir, 2345, 'Always', false), true);
    assert.equal((await stat(join(dir, 'late'))).mode & 0o777, 0o660);
    // Read-only: group read only.
    const ro = await mkdtemp(join(tmpdir(), 'berth-fsgroup-ro-'));
    await writeFile(join(ro, 'f'), 'x', { mode: 0o600 });
    await setVolumeOwnership(ro, 2345, undefined, true);
    assert.equal((await stat(join(ro, 'f'))).mode & 0o777, 0o640);
    await rm(ro, { recursive: true, force: true });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('no fsGroup: nothing happens', async () => {
  assert.equal(await setVolumeOwnership('/nonexistent', undefined, undefined, false), false);
});
