/**
 * The shared harness every RuntimeDriver must pass (Nomad's drivers/testutils, Hono's *.case.test):
 * exit codes, signal dispositions, env/cwd/hostname, bind mounts, user switch, memory (OOM) and pids
 * limits, stop with SIGKILL fallback, recovery by a new driver instance, complete clean-up on
 * destroy, a clean failure for a missing executable and the start gate — plus the stream cases of
 * driver-streams.case.ts (CRI logs and rotation, stdin, exec, terminals). Needs root: fails, never skips.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, afterEach, before, describe, test } from 'node:test';
import { hostCgroupLayout, removeCgroupTree } from './cgroups/index.ts';
import type { ContainerSpec, RuntimeDriver } from './driver.ts';
import { streamCases } from './driver-streams.case.ts';

/** Makes a spec: unique id, a log path and a cgroup parent that the harness may clean up. */
export type SpecFactory = (overrides: Partial<ContainerSpec>) => ContainerSpec;

/**
 * What differs between runtimes for the same cases. The process driver runs on the host's file
 * system; an image runtime (runc) runs in the image's, where the runtime adds variables of its own
 * (runc sets HOME from the image's /etc/passwd).
 */
export interface DriverFixture {
  /** `K=V` lines the runtime adds to spec.env besides the default PATH (default none). */
  extraEnv?: string[];
}

const CRI_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) (F|P) ([^\n]*)$/; // a line may hold a \r (terminal output)

/** One parsed CRI log line. */
export interface CriLine {
  time: string;
  stream: 'stdout' | 'stderr';
  tag: 'F' | 'P';
  text: string;
}

/** Parses a CRI-format log file; throws on a line that does not follow the format. */
export function readCriLog(path: string): CriLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = CRI_LINE.exec(l);
      assert.ok(m, `not a CRI log line: ${JSON.stringify(l.slice(0, 120))}`);
      return { time: m[1], stream: m[2] as CriLine['stream'], tag: m[3] as CriLine['tag'], text: m[4] };
    });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every 20 ms until it returns something truthy; fails after `timeoutMs`. */
export async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Sub-directories of the pod cgroup parent in every hierarchy (should be none after destroy). */
function cgroupChildren(parent: string): string[] {
  const layout = hostCgroupLayout();
  const roots = layout.mode === 'v2' ? [layout.unifiedRoot!] : [...new Set(Object.values(layout.v1Roots))];
  return roots.flatMap((r) => {
    const dir = join(r, parent);
    if (!existsSync(dir)) return [];
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => join(dir, e.name));
  });
}

function processesWith(marker: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Registers the suite for one driver. */
export function runDriverSuite(name: string, makeDriver: (stateDir: string) => Promise<RuntimeDriver>, makeSpec: SpecFactory, fixture: DriverFixture = {}): void {
  describe(`runtime driver suite: ${name}`, () => {
    let tmp = '';
    let stateDir = '';
    let driver: RuntimeDriver;
    const started: { d: RuntimeDriver; id: string }[] = [];
    const cgroupParent = makeSpec({}).cgroupParent;

    const spec = (o: Partial<ContainerSpec>) => makeSpec({ logPath: join(tmp, `log-${Math.random().toString(36).slice(2)}.log`), ...o });
    const start = async (s: ContainerSpec, d = driver) => {
      const h = await d.start(s);
      started.push({ d, id: s.id });
      return h;
    };
    const run = async (o: Partial<ContainerSpec>) => {
      const s = spec(o);
      await start(s);
      const res = await driver.wait(s.id);
      return { s, res, log: readCriLog(s.logPath) };
    };
    const stdoutOf = (log: CriLine[]) => log.filter((l) => l.stream === 'stdout').map((l) => l.text);

    before(async () => {
      assert.equal(process.getuid?.(), 0, 'the runtime driver suite needs root (namespaces, cgroups, mounts)');
      tmp = mkdtempSync(join(tmpdir(), 'berth-driver-case-'));
      stateDir = join(tmp, 'state');
      driver = await makeDriver(stateDir);
    });
    afterEach(async () => {
      for (const { d, id } of started.splice(0)) await d.destroy(id);
    });
    after(async () => {
      await removeCgroupTree(hostCgroupLayout(), cgroupParent);
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    test('start + wait reports exit codes 0 and 3', async () => {
      const ok = await run({ argv: ['true'] });
      assert.equal(ok.res.exitCode, 0);
      assert.equal(ok.res.oomKilled, false);
      const three = await run({ argv: ['sh', '-c', 'exit 3'] });
      assert.equal(three.res.exitCode, 3);
      assert.equal(three.res.signal, undefined);
    });

    test('the command does not inherit the shim\'s ignored signals (SIGHUP, SIGINT, SIGPIPE) nor a signal mask', async () => {
      const { res, log } = await run({ argv: ['sh', '-c', "grep -E '^Sig(Ign|Blk):' /proc/self/status"] });
      assert.equal(res.exitCode, 0);
      const [blk, ign] = stdoutOf(log).map((l) => BigInt(`0x${l.split(/\s+/)[1]}`));
      assert.equal(blk, 0n, 'no blocked signal');
      const leaked = ign! & ((1n << 0n) | (1n << 1n) | (1n << 12n)); // bit n-1 is signal n: HUP 1, INT 2, PIPE 13
      assert.equal(leaked, 0n, `SigIgn ${ign!.toString(16)}`);
    });

    test('env is exactly spec.env (+ default PATH); workingDir and hostname apply', async () => {
      const envRun = await run({ argv: ['env'], env: { FOO: 'bar baz', EMPTY: '' } });
      const expected = ['EMPTY=', 'FOO=bar baz', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...(fixture.extraEnv ?? [])];
      assert.deepEqual(stdoutOf(envRun.log).sort(), expected.sort());
      const wd = join(tmp, 'work dir');
      mkdirSync(wd);
      const cwdRun = await run({ argv: ['sh', '-c', 'pwd; hostname'], workingDir: wd, hostname: 'case-host' });
      assert.deepEqual(stdoutOf(cwdRun.log), [wd, 'case-host']);
      assert.notEqual(spawnSync('hostname').stdout.toString().trim(), 'case-host', 'the host name must not change');
    });

    test('bind mounts are visible, read-only is enforced, nothing leaks to the host', async () => {
      const src = join(tmp, 'src');
      const roSrc = join(tmp, 'ro-src');
      mkdirSync(src);
      mkdirSync(roSrc);
      writeFileSync(join(roSrc, 'hello'), 'hello from host\n');
      const rw = join(tmp, 'ctr', 'rw');
      const ro = join(tmp, 'ctr', 'ro');
      const script = `cat ${ro}/hello; touch ${rw}/new && echo rw-ok; touch ${ro}/x 2>/dev/null && echo ro-broken || echo ro-ok`;
      const { s, log } = await run({
        argv: ['sh', '-c', script],
        mounts: [
          { hostPath: src, containerPath: rw },
          { hostPath: roSrc, containerPath: ro, readOnly: true },
        ],
      });
      assert.deepEqual(stdoutOf(log), ['hello from host', 'rw-ok', 'ro-ok']);
      assert.ok(existsSync(join(src, 'new')), 'a write through the rw mount lands in the host directory');
      assert.ok(!existsSync(join(roSrc, 'x')));
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(join(tmp, 'ctr')), 'mounts stay in the container');
      await driver.destroy(s.id);
      assert.ok(!existsSync(rw) && !existsSync(join(tmp, 'ctr')), 'created mount points are removed on destroy');
    });

    test('two containers mounting at one target: the first one going keeps the second one\'s volume', async () => {
      const [srcA, srcB] = [join(tmp, 'vol-a'), join(tmp, 'vol-b')];
      mkdirSync(srcA);
      mkdirSync(srcB);
      writeFileSync(join(srcB, 'id'), 'b\n');
      const target = join(tmp, 'shared', 'data');
      const a = spec({ argv: ['sleep', '300'], mounts: [{ hostPath: srcA, containerPath: target }] });
      await start(a);
      const b = spec({ argv: ['sh', '-c', `i=0; while [ ! -e ${target}/go ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; cat ${target}/id`], mounts: [{ hostPath: srcB, containerPath: target }] });
      await start(b);
      await driver.destroy(a.id);
      // The go-ahead comes through b's own volume: a runc container sees nothing else of the host.
      writeFileSync(join(srcB, 'go'), '');
      await driver.wait(b.id);
      assert.deepEqual(stdoutOf(readCriLog(b.logPath)), ['b'], 'the second container still sees its own volume');
    });

    test('runs as the given user (also for exec)', async () => {
      const { log } = await run({ argv: ['sh', '-c', 'id -u; id -g; id -G'], user: { uid: 65534, gid: 65534 } });
      assert.deepEqual(stdoutOf(log), ['65534', '65534', '65534']);
      const s = spec({ argv: ['sleep', '30'], user: { uid: 65534, gid: 65534 } });
      await start(s);
      const out = new PassThrough();
      let text = '';
      out.on('data', (d) => (text += d));
      assert.equal(await driver.exec(s.id, { argv: ['id', '-u'], tty: false, stdout: out }), 0);
      assert.equal(text.trim(), '65534');
    });

    test('allowPrivilegeEscalation: false sets no_new_privs (also for exec); true leaves it off', async () => {
      const nnp = ['sh', '-c', 'grep NoNewPrivs /proc/self/status'];
      const { log } = await run({ argv: nnp, user: { uid: 65534, gid: 65534 }, allowPrivilegeEscalation: false });
      assert.deepEqual(stdoutOf(log).map((l) => l.replace(/\s+/g, ' ')), ['NoNewPrivs: 1']);
      const free = await run({ argv: nnp, user: { uid: 65534, gid: 65534 }, allowPrivilegeEscalation: true });
      assert.deepEqual(stdoutOf(free.log).map((l) => l.replace(/\s+/g, ' ')), ['NoNewPrivs: 0']);
      const s = spec({ argv: ['sleep', '30'], user: { uid: 65534, gid: 65534 }, allowPrivilegeEscalation: false });
      await start(s);
      const out = new PassThrough();
      let text = '';
      out.on('data', (d) => (text += d));
      assert.equal(await driver.exec(s.id, { argv: nnp, tty: false, stdout: out }), 0);
      assert.equal(text.replace(/\s+/g, ' ').trim(), 'NoNewPrivs: 1');
    });

    test('memory limit: allocating past it is OOM-killed and reported', async () => {
      const { res } = await run({ argv: ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=256M', 'count=1'], resources: { memoryLimitBytes: 32 << 20 } });
      assert.equal(res.oomKilled, true);
      assert.equal(res.exitCode, 137);
    });

    test('pids limit is enforced', async () => {
      const script = 'i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done; echo all-forked';
      const { res, log } = await run({ argv: ['sh', '-c', script], resources: { pidsLimit: 12 } });
      assert.notEqual(res.exitCode, 0);
      assert.ok(!stdoutOf(log).includes('all-forked'));
      assert.match(log.map((l) => l.text).join('\n'), /fork/i);
    });

    test('stop: SIGTERM first; a process ignoring it is SIGKILLed after the timeout', async () => {
      const polite = spec({ argv: ['sleep', '100'] });
      await start(polite);
      await driver.stop(polite.id, 5000);
      assert.equal((await driver.wait(polite.id)).exitCode, 143);

      const stubborn = spec({ argv: ['sh', '-c', 'trap "" TERM; echo ready; while :; do sleep 0.2; done'] });
      await start(stubborn);
      await until('ready', () => stdoutOf(readCriLog(stubborn.logPath)).includes('ready'));
      const t0 = Date.now();
      await driver.stop(stubborn.id, 500);
      const took = Date.now() - t0;
      const res = await driver.wait(stubborn.id);
      assert.equal(res.exitCode, 137);
      assert.equal(res.signal, 'SIGKILL');
      assert.ok(took >= 450 && took < 5000, `stop took ${took} ms`);
    });

    // Output, input and terminals: driver-streams.case.ts.
    streamCases({ driver: () => driver, tmp: () => tmp, spec, start, run, stdoutOf });

    test('recover: a new driver instance on the same state dir re-adopts a running container', async () => {
      const flag = join(tmp, 'release');
      // tmp is bind-mounted at its own path: a no-op on the host fs, the way in for an image runtime.
      const s = spec({ argv: ['sh', '-c', `while [ ! -e ${flag} ]; do sleep 0.05; done; exit 5`], mounts: [{ hostPath: tmp, containerPath: tmp }] });
      const h = await start(s);
      const restarted = await makeDriver(stateDir);
      assert.ok((await restarted.list()).includes(s.id));
      const again = await restarted.recover(s.id);
      assert.ok(again, 'recovered');
      assert.equal(again.pid, h.pid);
      assert.equal(await restarted.recover('never-started'), undefined);
      const waited = restarted.wait(s.id);
      writeFileSync(flag, '');
      assert.equal((await waited).exitCode, 5);
    });

    test('destroy leaves no cgroup, mount, process or state behind (and is idempotent)', async () => {
      const marker = `berth-marker-${process.pid}-${Date.now()}`;
      const target = join(tmp, 'destroy-mnt');
      const s = spec({ argv: ['sh', '-c', `sleep 300 & sleep 301; : ${marker}`], mounts: [{ hostPath: tmp, containerPath: target, readOnly: true }] });
      await start(s);
      await until('process', () => processesWith(marker).length > 0);
      assert.ok(cgroupChildren(cgroupParent).length > 0, 'the container has a cgroup while it runs');
      await driver.destroy(s.id);
      await driver.destroy(s.id);
      assert.deepEqual(processesWith(marker), []);
      assert.deepEqual(cgroupChildren(cgroupParent), []);
      assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(target));
      assert.ok(!(await driver.list()).includes(s.id));
      assert.deepEqual(readdirSync(stateDir).filter((d) => d.includes(s.id)), []);
    });

    test('a missing executable fails start cleanly, leaking nothing', async () => {
      const s = spec({ argv: ['nope-berth-missing'] });
      await assert.rejects(driver.start(s), /exec: "nope-berth-missing": executable file not found in \$PATH/);
      assert.deepEqual(await driver.list(), []);
      assert.deepEqual(cgroupChildren(cgroupParent), []);
      assert.deepEqual(readdirSync(stateDir), []);
    });

    test('startGate: the command runs only once the gate resolves; a rejected gate fails start, leaking nothing', async () => {
      const marker = join(tmp, `gate-${Math.random().toString(36).slice(2)}`);
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const s = spec({ argv: ['sh', '-c', `echo ran > ${marker}; sleep 30`], mounts: [{ hostPath: tmp, containerPath: tmp, readOnly: false }], startGate: gate });
      const starting = start(s);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(!existsSync(marker), 'nothing ran before the gate opened');
      open();
      await starting;
      for (let i = 0; i < 100 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(existsSync(marker), 'the command ran once the gate opened');
      // The gate may reject before the driver awaits it (runc create under load takes longer than
      // 100 ms); like the sandbox's `ready`, its producer marks it handled.
      const failingGate = new Promise((_, reject) => setTimeout(() => reject(new Error('CNI ADD failed: test')), 100));
      failingGate.catch(() => undefined);
      const failing = spec({ argv: ['sleep', '30'], startGate: failingGate });
      await assert.rejects(driver.start(failing), /CNI ADD failed: test/);
      await driver.destroy(failing.id);
      assert.ok(!(await driver.list()).includes(failing.id));
      assert.deepEqual(readdirSync(stateDir).filter((d) => d.includes(failing.id)), []);
    });

    test('start latency (printed, not asserted)', async () => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const s = spec({ argv: ['sleep', '30'] });
        const t0 = performance.now();
        await start(s);
        times.push(performance.now() - t0);
      }
      const t0 = performance.now();
      spawnSync('/bin/true');
      const bare = performance.now() - t0;
      times.sort((a, b) => a - b);
      console.log(`# ${name}: start latency median ${times[2].toFixed(1)} ms, min ${times[0].toFixed(1)} ms (one bare spawn of /bin/true here: ${bare.toFixed(1)} ms)`);
      assert.equal(times.length, 5);
    });
  });
}
