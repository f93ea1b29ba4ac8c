/** The spawn helper (native/spawner) through runCommand: output, exit codes, stdin, env, failures, timeouts; mount(2) and network namespaces in the helper. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync, realpathSync } from 'node:fs';
import { createNetns, deleteNetns, netnsPath } from '../agent/network/netns.ts';
import { mountBySyscall, netnsAddBySyscall, runCommand, spawner, unmountBySyscall } from './spawner.ts';

test('the helper is available and runs commands: stdout, stderr, exit code', async () => {
  assert.ok(spawner(), 'spawn helper available');
  assert.deepEqual(await runCommand('echo', ['hello', 'wörld', '']), { code: 0, stdout: 'hello wörld \n', stderr: '' });
  assert.deepEqual(await runCommand('sh', ['-c', 'echo out; echo err >&2; exit 3']), { code: 3, stdout: 'out\n', stderr: 'err\n' });
});

test('input goes to stdin (also more than a pipe buffer), then EOF', async () => {
  const input = 'x'.repeat(300_000) + '\n';
  const r = await runCommand('wc', ['-c'], { input });
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), String(input.length));
  assert.equal((await runCommand('cat', [])).stdout, '', 'no input: stdin is closed at once');
});

test('env is exactly the one given; PATH lookup uses it', async () => {
  const r = await runCommand('env', [], { env: { PATH: '/usr/bin:/bin', A: 'b c=d', NL: 'x\ny' } });
  assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['A=b c=d', 'NL=x', 'PATH=/usr/bin:/bin', 'y']);
});

test('a missing executable rejects with "cannot run"; a timeout kills the command (code -1)', async () => {
  await assert.rejects(runCommand('/nonexistent/berth-test', []), /cannot run \/nonexistent\/berth-test: No such file or directory/);
  const t0 = Date.now();
  const r = await runCommand('sleep', ['30'], { timeoutMs: 200 });
  assert.equal(r.code, -1);
  assert.ok(Date.now() - t0 < 5000);
});

test('many commands in parallel each get their own output', async () => {
  const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => runCommand('sh', ['-c', `echo ${i}; exit ${i % 7}`])));
  rs.forEach((r, i) => assert.deepEqual(r, { code: i % 7, stdout: `${i}\n`, stderr: '' }));
});

test('BERTH_SPAWNER=0 falls back to Node\'s own spawn with the same results', async () => {
  process.env.BERTH_SPAWNER = '0';
  try {
    assert.equal(spawner(), undefined);
    assert.deepEqual(await runCommand('sh', ['-c', 'cat; echo e >&2; exit 2'], { input: 'in' }), { code: 2, stdout: 'in', stderr: 'e\n' });
    await assert.rejects(runCommand('/nonexistent/berth-test', []), /cannot run/);
  } finally {
    delete process.env.BERTH_SPAWNER;
  }
});

const mounted = (p: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === p);

test('mount(2) and umount2(2) in the helper: an overlay appears and goes; kernel errors are thrown', async () => {
  assert.equal(process.getuid?.(), 0, 'mounting needs root');
  const dir = mkdtempSync(join(tmpdir(), 'berth-spawner-mount-'));
  try {
    for (const d of ['lower', 'upper', 'work', 'root']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'lower', 'f'), 'from the layer');
    const root = join(dir, 'root');
    assert.equal(await mountBySyscall('overlay', root, 'overlay', `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`), true);
    assert.ok(mounted(root));
    assert.equal(readFileSync(join(root, 'f'), 'utf8'), 'from the layer');
    assert.equal(await unmountBySyscall(root), true);
    assert.ok(!mounted(root));
    await assert.rejects(mountBySyscall('overlay', root, 'overlay', `lowerdir=${dir}/missing,upperdir=${dir}/upper,workdir=${dir}/work`), /mount overlay on .*root: No such file or directory/);
    await assert.rejects(unmountBySyscall(root), /umount .*root: Invalid argument/);
  } finally {
    await unmountBySyscall(join(dir, 'root'), 2).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
});

test('network namespaces from the helper: lo is up, the namespace is pinned and propagates; delete removes it; errors are clear', async () => {
  assert.equal(process.getuid?.(), 0, 'network namespaces need root');
  const name = `berth-sptest-${process.pid}`;
  try {
    assert.equal(await createNetns(name), netnsPath(name));
    const real = join(realpathSync(dirname(netnsPath(name))), name); // /var/run is /run
    assert.ok(mounted(real), 'a bind mount of the namespace');
    const lo = await runCommand('ip', ['-n', name, '-o', 'link', 'show', 'lo']);
    assert.match(lo.stdout, /<LOOPBACK,UP,LOWER_UP>/);
    const links = await runCommand('ip', ['-n', name, '-o', 'link', 'show']);
    assert.equal(links.stdout.trim().split('\n').length, 1, 'a new namespace: only lo');
    // Idempotent, as `ip netns add` after a crash: an existing namespace is kept.
    assert.equal(await createNetns(name), netnsPath(name));
    await assert.rejects(netnsAddBySyscall(netnsPath(name), true), /cannot create namespace file .*File exists/);
    assert.ok(existsSync(netnsPath(name)), 'a refused add leaves the existing namespace alone');
    await deleteNetns(name);
    assert.ok(!existsSync(netnsPath(name)) && !mounted(real));
    await deleteNetns(name); // a missing one is no error
  } finally {
    await runCommand('ip', ['netns', 'del', name]);
  }
});
