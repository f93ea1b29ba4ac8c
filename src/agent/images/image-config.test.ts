/** Image config → ContainerSpec fields with Kubernetes' rules: pure, no root needed. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mergeImageEnv, parseImageUser, readImageFile, resolveArgv, resolveImageUser, resolveWorkingDir } from './image-config.ts';

const image = { Entrypoint: ['/docker-entrypoint.sh'], Cmd: ['nginx', '-g', 'daemon off;'] };

test('argv: Entrypoint + Cmd; command replaces Entrypoint and drops Cmd; args replaces Cmd', () => {
  assert.deepEqual(resolveArgv(image), ['/docker-entrypoint.sh', 'nginx', '-g', 'daemon off;']);
  assert.deepEqual(resolveArgv(image, ['sleep']), ['sleep']);
  assert.deepEqual(resolveArgv(image, ['sleep'], ['5']), ['sleep', '5']);
  assert.deepEqual(resolveArgv(image, undefined, ['nginx', '-T']), ['/docker-entrypoint.sh', 'nginx', '-T']);
  assert.deepEqual(resolveArgv(image, [], []), resolveArgv(image), 'empty lists count as unset');
  assert.deepEqual(resolveArgv({ Entrypoint: null, Cmd: ['sh'] }), ['sh']);
  assert.deepEqual(resolveArgv({ Entrypoint: null, Cmd: null }, undefined, ['echo', 'x']), ['echo', 'x']);
  assert.throws(() => resolveArgv({ Entrypoint: null, Cmd: null }), /no command specified/);
});

test('env: image Env under the container env, the container wins', () => {
  const env = mergeImageEnv(['PATH=/usr/bin:/bin', 'A=image', 'B=x=y', 'EMPTY=', 'BARE'], { A: 'pod', C: 'new' });
  assert.deepEqual(env, { PATH: '/usr/bin:/bin', A: 'pod', B: 'x=y', EMPTY: '', BARE: '', C: 'new' });
  assert.deepEqual(mergeImageEnv(null, { X: '1' }), { X: '1' });
});

test('workingDir: the container, else the image, else unset', () => {
  assert.equal(resolveWorkingDir({ WorkingDir: '/app' }, '/work'), '/work');
  assert.equal(resolveWorkingDir({ WorkingDir: '/app' }), '/app');
  assert.equal(resolveWorkingDir({ WorkingDir: '' }), undefined);
});

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\n# comment\nwww:x:33:33::/var/www:/usr/sbin/nologin\napp:x:1000:1000::/home/app:/bin/sh\n';
const GROUP = 'root:x:0:\nwww:x:33:\napp:x:1000:\nextra:x:2000:app,www\nmore:x:2001:app\nself:x:1000:app\n';

test('user: names and numbers, uid:gid, name:group, supplementary groups from /etc/group', () => {
  assert.deepEqual(parseImageUser('', PASSWD, GROUP), { uid: 0, gid: 0 });
  assert.deepEqual(parseImageUser('app', PASSWD, GROUP), { uid: 1000, gid: 1000, groups: [2000, 2001] });
  assert.deepEqual(parseImageUser('1000', PASSWD, GROUP), { uid: 1000, gid: 1000, groups: [2000, 2001] }, 'a uid in passwd gets its gid and groups');
  assert.deepEqual(parseImageUser('4242', PASSWD, GROUP), { uid: 4242, gid: 0 }, 'a uid not in passwd: gid 0');
  assert.deepEqual(parseImageUser('4242:77', PASSWD, GROUP), { uid: 4242, gid: 77 });
  assert.deepEqual(parseImageUser('www:extra', PASSWD, GROUP), { uid: 33, gid: 2000 }, 'an explicit group: no supplementary groups');
  assert.deepEqual(parseImageUser('app:0', PASSWD, GROUP), { uid: 1000, gid: 0 });
  assert.throws(() => parseImageUser('nobody', PASSWD, GROUP), /unable to find user nobody/);
  assert.throws(() => parseImageUser('app:nogroup', PASSWD, GROUP), /unable to find group nogroup/);
  assert.deepEqual(parseImageUser('app', PASSWD, ''), { uid: 1000, gid: 1000 });
});

test('readImageFile / resolveImageUser read the top-most layer and honour whiteouts', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'berth-runc-test-layers-'));
  try {
    const [l1, l2, l3] = ['l1', 'l2', 'l3'].map((l) => join(tmp, l));
    for (const l of [l1, l2, l3]) mkdirSync(join(l!, 'etc'), { recursive: true });
    writeFileSync(join(l1!, 'etc/passwd'), 'root:x:0:0::/root:/bin/sh\n');
    writeFileSync(join(l2!, 'etc/passwd'), PASSWD);
    writeFileSync(join(l2!, 'etc/group'), GROUP);
    assert.equal(await readImageFile([l1!, l2!, l3!], 'etc/passwd'), PASSWD, 'the upper layer wins');
    assert.deepEqual(await resolveImageUser('app', [l1!, l2!, l3!]), { uid: 1000, gid: 1000, groups: [2000, 2001] });
    assert.deepEqual(await resolveImageUser('12:34', []), { uid: 12, gid: 34 }, 'numeric uid:gid needs no files');
    assert.deepEqual(await resolveImageUser(undefined, []), { uid: 0, gid: 0 });
    await assert.rejects(resolveImageUser('app', [l1!]), /unable to find user app/);
    // An overlay whiteout (char device 0/0) in a higher layer deletes the file (needs root for mknod).
    if (process.getuid?.() === 0) {
      assert.equal(spawnSync('mknod', [join(l3!, 'etc/group'), 'c', '0', '0']).status, 0);
      assert.equal(await readImageFile([l1!, l2!, l3!], 'etc/group'), undefined);
      assert.deepEqual(await resolveImageUser('app', [l1!, l2!, l3!]), { uid: 1000, gid: 1000 });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
