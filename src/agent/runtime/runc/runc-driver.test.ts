/**
 * The runc driver against the shared harness (driver.case.ts) with a busybox image, plus what only
 * an image runtime has: image config resolution, read-only rootfs, capabilities and masked paths,
 * joining a network namespace, a missing image, and nothing left behind (mounts, cgroups in every
 * hierarchy, runc state). Needs root, runc, umoci and tini-static; fails (never skips) without.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { ImageService } from '../../images/image-service.ts';
import { hostCgroupLayout } from '../cgroups/index.ts';
import { readCriLog, runDriverSuite } from '../driver.case.ts';
import type { ContainerSpec } from '../driver.ts';
import { mergeImageEnv, resolveArgv, resolveImageUser, resolveWorkingDir } from '../../images/image-config.ts';
import { allCgroupRoots, removeEmptyCgroupPath } from './runc-cgroups.ts';
import { RuncDriver } from './runc-driver.ts';
import { busyboxImageService, TEST_IMAGE } from './runc.fixture.ts';

const tmp = mkdtempSync(join(tmpdir(), 'berth-runc-test-'));
const parent = `berth-runc-test-${process.pid}/pod-test`;
let images: Promise<ImageService> | undefined;
const imageService = () => (images ??= busyboxImageService(join(tmp, 'fixture'), join(tmp, 'data')));
const runcRoot = join(tmp, 'runc-root');
const drivers: RuncDriver[] = [];
const makeDriver = async (stateDir: string) => {
  const d = new RuncDriver({ stateDir, runcRoot, images: await imageService() });
  drivers.push(d);
  return d;
};

let n = 0;
const makeSpec = (o: Partial<ContainerSpec>): ContainerSpec => ({
  id: `pod-test_c${++n}_0`,
  podUid: 'test',
  podName: 'p',
  podNamespace: 'default',
  containerName: `c${n}`,
  image: TEST_IMAGE,
  argv: ['true'],
  env: {},
  mounts: [],
  resources: {},
  hostname: 'p',
  logPath: join(tmp, `unused-${n}.log`),
  cgroupParent: parent,
  ...o,
});

before(() => assert.equal(process.getuid?.(), 0, 'the runc driver tests need root'));

// The harness: HOME comes from runc (the image's /etc/passwd: root's home is /root).
runDriverSuite('runc', makeDriver, makeSpec, { extraEnv: ['HOME=/root'] });

describe('runc driver: image runtime specifics', () => {
  let driver: RuncDriver;
  let stateDir = '';
  const started: string[] = [];
  before(async () => {
    stateDir = join(tmp, 'specific-state');
    driver = await makeDriver(stateDir);
  });
  afterEach(async () => {
    for (const id of started.splice(0)) await driver.destroy(id);
  });
  const spec = (o: Partial<ContainerSpec>) => makeSpec({ logPath: join(tmp, `specific-${n + 1}.log`), ...o });
  const run = async (o: Partial<ContainerSpec>) => {
    const s = spec(o);
    await driver.start(s);
    started.push(s.id);
    const res = await driver.wait(s.id);
    return { s, res, out: readCriLog(s.logPath).map((l) => l.text) };
  };

  test('image config: Entrypoint + Cmd, image Env under container env, WorkingDir, User by name with groups', async () => {
    const info = (await (await imageService()).get(TEST_IMAGE))!;
    const user = await resolveImageUser(info.config.User, info.layerDirs);
    assert.deepEqual(user, { uid: 1000, gid: 1000, groups: [2000] });
    const { res, out } = await run({
      argv: resolveArgv(info.config),
      env: mergeImageEnv(info.config.Env, { FROM_IMAGE: 'container-wins' }),
      workingDir: resolveWorkingDir(info.config),
      user,
    });
    assert.equal(res.exitCode, 0);
    assert.deepEqual(out, ['image-cmd', '1000', '/srv', 'hello-from-image container-wins']);
    const groups = await run({ argv: resolveArgv(info.config, undefined, ['id -G']), user });
    assert.deepEqual(groups.out, ['1000 2000']);
  });

  test('an image missing from the store fails start with a clear error, leaking nothing', async () => {
    await assert.rejects(driver.start(spec({ image: 'runc-test.local/not-pulled:v9' })), /image "runc-test.local\/not-pulled:v9" is not in the image store/);
    assert.deepEqual(readdirSync(stateDir), []);
  });

  test('readOnlyRootFilesystem: the image root is read-only, /dev/shm and volumes stay writable', async () => {
    const vol = mkdtempSync(join(tmp, 'vol-'));
    const script = 'touch /srv/x 2>/dev/null && echo root-rw || echo root-ro; touch /dev/shm/x && echo shm-rw; touch /vol/x && echo vol-rw';
    const { out } = await run({ argv: ['sh', '-c', script], readOnlyRootFilesystem: true, mounts: [{ hostPath: vol, containerPath: '/vol' }] });
    assert.deepEqual(out, ['root-ro', 'shm-rw', 'vol-rw']);
    const rw = await run({ argv: ['sh', '-c', script.replace('; touch /vol/x && echo vol-rw', '')] });
    assert.deepEqual(rw.out, ['root-rw', 'shm-rw']);
  });

  test("capabilities: containerd's default set, drop ALL, add, privileged", async () => {
    const capEff = async (o: Partial<ContainerSpec>) => (await run({ argv: ['sh', '-c', 'grep CapEff /proc/self/status'], ...o })).out[0];
    assert.equal(await capEff({}), 'CapEff:\t00000000a80425fb');
    assert.equal(await capEff({ capabilities: { drop: ['ALL'] } }), 'CapEff:\t0000000000000000');
    assert.equal(await capEff({ capabilities: { add: ['NET_ADMIN'], drop: ['KILL'] } }), 'CapEff:\t00000000a80435db');
    // Privileged = everything the agent holds itself (its bounding set).
    const own = /^CapBnd:\t([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
    assert.equal(await capEff({ privileged: true }), `CapEff:\t${own}`);
  });

  test('masked and read-only kernel paths; /sys read-only', async () => {
    const script = 'wc -c < /proc/timer_list; ls /sys/firmware | wc -l; (echo 1 > /proc/sys/kernel/domainname) 2>/dev/null && echo procsys-rw || echo procsys-ro; touch /sys/x 2>/dev/null && echo sys-rw || echo sys-ro';
    const { out } = await run({ argv: ['sh', '-c', script] });
    assert.ok(existsSync('/proc/timer_list') && readdirSync('/sys/firmware').length > 0, 'the host has both paths');
    assert.deepEqual(out, ['0', '0', 'procsys-ro', 'sys-ro']);
  });

  test('network: joins spec.netnsPath by path; the host network without one', async () => {
    const name = `berth-runc-test-${process.pid}`;
    const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
    assert.equal(add.status, 0, add.stderr);
    try {
      const netnsPath = `/var/run/netns/${name}`;
      const script = 'readlink /proc/self/ns/net; ls /sys/class/net | tr "\\n" " "';
      const inNs = await run({ argv: ['sh', '-c', script], netnsPath });
      assert.deepEqual(inNs.out, [`net:[${statSync(netnsPath).ino}]`, 'lo ']);
      const host = await run({ argv: ['sh', '-c', 'readlink /proc/self/ns/net'] });
      assert.deepEqual(host.out, [readlinkSync('/proc/self/ns/net')]);
    } finally {
      const del = spawnSync('ip', ['netns', 'delete', name], { encoding: 'utf8' });
      assert.equal(del.status, 0, del.stderr);
    }
  });

  test('resources: cpu shares/quota/period, memory and pids limits land in the container cgroup', async () => {
    const s = spec({ argv: ['sleep', '30'], resources: { cpuRequestMillis: 500, cpuLimitMillis: 250, memoryLimitBytes: 64 << 20, pidsLimit: 50 } });
    const h = await driver.start(s);
    started.push(s.id);
    const layout = hostCgroupLayout();
    const rel = `${parent}/${s.id}`;
    const read = (c: 'cpu' | 'memory' | 'pids', f: string) => readFileSync(join(layout.v1Roots[c] ?? layout.unifiedRoot!, rel, f), 'utf8').trim();
    if (layout.mode === 'v2') {
      assert.equal(read('cpu', 'cpu.max'), '25000 100000');
      assert.equal(read('memory', 'memory.max'), String(64 << 20));
    } else {
      assert.equal(read('cpu', 'cpu.shares'), '512');
      assert.equal(read('cpu', 'cpu.cfs_quota_us'), '25000');
      assert.equal(read('cpu', 'cpu.cfs_period_us'), '100000');
      assert.equal(read('memory', 'memory.limit_in_bytes'), String(64 << 20));
    }
    assert.equal(read('pids', 'pids.max'), '50');
    assert.match(readFileSync(`/proc/${h.pid}/cgroup`, 'utf8'), new RegExp(`:memory:/${rel}\n|::/${rel}\n`));
  });

  test('tty: the main process gets a terminal; its output is logged as stdout', async () => {
    const s = spec({ argv: ['sh', '-c', 'tty; echo done'], tty: true });
    await driver.start(s);
    started.push(s.id);
    assert.equal((await driver.wait(s.id)).exitCode, 0);
    // A terminal ends lines with \r\n: the records keep the \r (readCriLog's pattern refuses it).
    const out = readFileSync(s.logPath, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').slice(3).join(' '));
    assert.deepEqual(out, ['/dev/pts/0\r', 'done\r']);
  });

  test('recover after the agent process exited: the container kept running and logging', async () => {
    const shared = mkdtempSync(join(tmp, 'shared-'));
    const s = spec({ argv: ['sh', '-c', 'while [ ! -e /shared/release ]; do echo tick; sleep 0.05; done; exit 6'], mounts: [{ hostPath: shared, containerPath: '/shared' }] });
    // Another Node process plays the agent: it starts the container and exits at once.
    const agent = join(tmp, 'agent.mts');
    const url = (f: string) => JSON.stringify(new URL(f, import.meta.url).href);
    writeFileSync(
      agent,
      `import { RuncDriver } from ${url('./runc-driver.ts')};
import { ImageService } from ${url('../../images/image-service.ts')};
const d = new RuncDriver({ stateDir: ${JSON.stringify(stateDir)}, runcRoot: ${JSON.stringify(runcRoot)}, images: await ImageService.open(${JSON.stringify(join(tmp, 'data'))}) });
console.log(JSON.stringify(await d.start(JSON.parse(process.argv[2]))));
process.exit(0);
`,
    );
    const repo = fileURLToPath(new URL('../../../../', import.meta.url));
    const res = spawnSync(process.execPath, ['--import', 'tsx', agent, JSON.stringify(s)], { cwd: repo, encoding: 'utf8', timeout: 60_000 });
    started.push(s.id);
    assert.equal(res.status, 0, res.stderr);
    const handle = JSON.parse(res.stdout.trim().split('\n').at(-1)!) as { pid: number };
    const ticks = () => readCriLog(s.logPath).filter((l) => l.text === 'tick').length;
    const before = ticks();
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(ticks() > before, 'still logging after the agent exited');
    const again = await driver.recover(s.id);
    assert.equal(again?.pid, handle.pid);
    const waited = driver.wait(s.id);
    writeFileSync(join(shared, 'release'), '');
    const exit = await waited;
    assert.equal(exit.exitCode, 6);
    assert.equal(exit.oomKilled, false);
  });

  test('exec with a TTY: a resize reaches the container terminal', async () => {
    const s = spec({ argv: ['sleep', '30'] });
    await driver.start(s);
    started.push(s.id);
    let text = '';
    const out = new PassThrough();
    out.on('data', (d) => (text += d));
    let resize: ((size: { width: number; height: number }) => void) | undefined;
    const code = driver.exec(s.id, { argv: ['sh', '-c', 'sleep 1; stty size'], tty: true, stdout: out, onResize: (l) => (resize = l) });
    // Repeated: a resize before runc has its terminal is lost (best effort, as for a real client).
    const timer = setInterval(() => resize?.({ width: 123, height: 45 }), 100);
    const exitCode = await code.finally(() => clearInterval(timer));
    assert.equal(exitCode, 0);
    assert.match(text, /45 123/);
  });

  test('destroy of an unknown id is a no-op; exec into an exited container is refused', async () => {
    await driver.destroy('pod-test_never_0');
    const { s } = await run({ argv: ['true'] });
    await assert.rejects(driver.exec(s.id, { argv: ['true'], tty: false }), /not running/);
  });
});

after(async () => {
  // Nothing may be left: runc state, overlay mounts, cgroups in any hierarchy (then clean up ours).
  const runcLeft = existsSync(runcRoot) ? readdirSync(runcRoot) : [];
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(tmp));
  const cgroupsLeft = allCgroupRoots().filter((r) => existsSync(join(r, parent)) && readdirSync(join(r, parent), { withFileTypes: true }).some((e) => e.isDirectory()));
  removeEmptyCgroupPath(allCgroupRoots(), parent);
  for (const l of mounts) spawnSync('umount', ['-l', l.split(' ')[4]!]);
  rmSync(tmp, { recursive: true, force: true });
  assert.deepEqual(runcLeft, [], 'runc state left behind');
  assert.deepEqual(mounts, [], 'mounts left behind');
  assert.deepEqual(cgroupsLeft, [], 'container cgroups left behind');
  assert.ok(!allCgroupRoots().some((r) => existsSync(join(r, `berth-runc-test-${process.pid}`))), 'pod cgroup parents left behind');
});
