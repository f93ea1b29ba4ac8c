/**
 * The spawn helper (native/spawner) through runCommand: output, exit codes, stdin, env, failures,
 * timeouts; mount(2), whiteouts and network namespaces in the helper; connections it makes inside
 * a network namespace and hands over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { existsSync, realpathSync } from 'node:fs';
import { createNetns, deleteNetns, netnsPath } from '../agent/network/netns.ts';
import { dialInNetns, makeWhiteout, markOpaque, mountBySyscall, netnsAddBySyscall, runCommand, spawner, unmountBySyscall } from './spawner.ts';

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

test('whiteouts and opaque directories by system call in the helper (also with BERTH_SPAWNER=0)', async () => {
  assert.equal(process.getuid?.(), 0, 'mknod and trusted.* xattrs need root');
  const dir = mkdtempSync(join(tmpdir(), 'berth-spawner-wh-'));
  process.env.BERTH_SPAWNER = '0';
  try {
    await makeWhiteout(join(dir, 'gone'));
    const st = lstatSync(join(dir, 'gone'));
    assert.ok(st.isCharacterDevice() && st.rdev === 0, 'a 0/0 character device');
    mkdirSync(join(dir, 'replaced'));
    await markOpaque(join(dir, 'replaced'));
    const xattr = await runCommand('python3', ['-c', 'import os, sys; sys.stdout.write(os.getxattr(sys.argv[1], "trusted.overlay.opaque").decode())', join(dir, 'replaced')]);
    assert.equal(xattr.stdout, 'y');
    await assert.rejects(makeWhiteout(join(dir, 'gone')), /mknod .*gone: File exists/);
    await assert.rejects(markOpaque(join(dir, 'missing')), /setxattr trusted.overlay.opaque .*missing: No such file or directory/);
  } finally {
    delete process.env.BERTH_SPAWNER;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dials inside a network namespace: the helper hands over a connected socket; refusals name both families', async () => {
  assert.equal(process.getuid?.(), 0, 'network namespaces need root');
  const name = `berth-sptest-dial-${process.pid}`;
  let server: ReturnType<typeof spawn> | undefined;
  try {
    await createNetns(name);
    // Inside the namespace: an upper-casing echo server on 127.0.0.1 (and nothing on ::1).
    server = spawn('ip', ['netns', 'exec', name, 'python3', '-c', [
      'import socket', 's = socket.socket(); s.bind(("127.0.0.1", 7000)); s.listen(64); print("ready", flush=True)',
      'while True:', '  c, _ = s.accept(); d = c.recv(100); c.sendall(d.upper()); c.close()',
    ].join('\n')], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve, reject) => { server!.stdout!.once('data', resolve); server!.once('exit', reject); });
    for (const off of [false, true]) {
      if (off) process.env.BERTH_SPAWNER = '0'; // no program to fall back on: the helper dials anyway
      const sock = await dialInNetns(netnsPath(name), 7000);
      sock.end('hello');
      const chunks: Buffer[] = [];
      for await (const c of sock) chunks.push(c as Buffer);
      assert.equal(Buffer.concat(chunks).toString(), 'HELLO');
      delete process.env.BERTH_SPAWNER;
    }
    await assert.rejects(dialInNetns(netnsPath(name), 7001), /^Error: IPv4: dial 127\.0\.0\.1:7001: connect: Connection refused, IPv6: dial \[::1\]:7001: connect: Connection refused$/);
    await assert.rejects(dialInNetns('/nonexistent/netns', 7000), /open \/nonexistent\/netns: No such file or directory/);
    // Many at once: each request gets its own socket.
    const replies = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const s = await dialInNetns(netnsPath(name), 7000);
      s.end(`n${i}`);
      let text = '';
      for await (const c of s) text += c.toString();
      return text;
    }));
    assert.deepEqual(replies, Array.from({ length: 20 }, (_, i) => `N${i}`));
  } finally {
    delete process.env.BERTH_SPAWNER;
    server?.kill('SIGKILL');
    await deleteNetns(name);
  }
});
