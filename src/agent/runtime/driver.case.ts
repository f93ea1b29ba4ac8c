/**
 * The shared harness every RuntimeDriver must pass (Nomad's drivers/testutils, Hono's *.case.test):
 * exit codes, env/cwd/hostname, bind mounts, user switch, memory (OOM) and pids limits, stop with
 * SIGKILL fallback, CRI logs and their size rotation, exec (pipes and TTY), recovery by a new driver
 * instance, complete clean-up on destroy, and a clean failure for a missing executable. Needs root:
 * fails, never skips.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, afterEach, before, describe, test } from 'node:test';
import { rotatedFiles } from '../streams/log-file.ts';
import { hostCgroupLayout, removeCgroupTree } from './cgroups/index.ts';
import type { ContainerSpec, RuntimeDriver } from './driver.ts';

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
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

    test('logs land in logPath in the CRI format (stdout/stderr, F/P)', async () => {
      const script = 'echo out; echo err >&2; head -c 20000 /dev/zero | tr "\\0" a; echo; printf tail';
      const { s } = await run({ argv: ['sh', '-c', script] });
      const log = await until('log', () => {
        const l = readCriLog(s.logPath);
        return l.length >= 5 && l;
      });
      const short = log.map((l) => `${l.stream} ${l.tag} ${l.text.length > 20 ? `${l.text[0]}×${l.text.length}` : l.text}`);
      // stdout and stderr are two pipes: order is kept within a stream, not across them.
      assert.deepEqual(short.filter((l) => l.startsWith('stdout')), ['stdout F out', 'stdout P a×16384', 'stdout F a×3616', 'stdout F tail']);
      assert.deepEqual(short.filter((l) => l.startsWith('stderr')), ['stderr F err']);
      assert.ok(!Number.isNaN(Date.parse(log[0].time)));
    });

    test('stdin: true — the command reads a FIFO; a writer closing it is no EOF; without it there is none', async () => {
      const s = spec({ argv: ['sh', '-c', 'read a; echo got:$a; read b; echo got:$b'], stdin: true });
      await start(s);
      const fifo = driver.stdinPath?.(s.id);
      assert.ok(fifo, 'a stdin FIFO');
      writeFileSync(fifo, 'one\n'); // opens, writes and closes: the command must not see EOF
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(fifo, 'two\n');
      const res = await driver.wait(s.id);
      assert.equal(res.exitCode, 0);
      assert.deepEqual(stdoutOf(readCriLog(s.logPath)), ['got:one', 'got:two']);
      const plain = spec({ argv: ['sh', '-c', 'read a || echo eof'] });
      await start(plain);
      assert.equal(driver.stdinPath?.(plain.id), undefined);
      assert.equal((await driver.wait(plain.id)).exitCode, 0);
      assert.deepEqual(stdoutOf(readCriLog(plain.logPath)), ['eof'], 'no stdin: /dev/null');
    });

    test('stdinOnce: no EOF before an attach; after releaseStdin the attach closing its end is the EOF', async () => {
      // cat starts reading with no writer but the driver's hold: it must wait, not see EOF.
      const s = spec({ argv: ['sh', '-c', 'cat; echo done'], stdin: true, stdinOnce: true });
      await start(s);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await Promise.race([driver.wait(s.id).then(() => 'exited'), new Promise((r) => setTimeout(() => r('waiting'), 200))]), 'waiting');
      const fifo = driver.stdinPath?.(s.id);
      assert.ok(fifo && driver.releaseStdin, 'stdin FIFO and releaseStdin');
      const w = createWriteStream(fifo);
      await once(w, 'open');
      driver.releaseStdin(s.id);
      w.end('hello\n');
      const res = await driver.wait(s.id);
      assert.equal(res.exitCode, 0);
      assert.deepEqual(stdoutOf(readCriLog(s.logPath)), ['hello', 'done']);
    });

    test('logs rotate by size (logMaxBytes/logMaxFiles) as log-file.ts names them, between whole records', async () => {
      const maxBytes = 64 * 1024;
      const lines = 3000;
      // ~300 KiB of numbered stdout lines of 100 bytes each (~420 KiB of CRI records).
      // A stale rotated file from an earlier, larger logMaxFiles is removed like rotateIfNeeded does.
      const logPath = join(tmp, `rotate-${Math.random().toString(36).slice(2)}.log`);
      writeFileSync(`${logPath}.5`, 'stale\n');
      // A shell loop, not GNU `seq -f`: the same command must run on the host and in a busybox image.
      const gen = `i=1; while [ $i -le ${lines} ]; do printf 'line-%06d-%s\\n' $i ${'x'.repeat(88)}; i=$((i+1)); done`;
      const { s, res } = await run({ argv: ['sh', '-c', gen], logPath, logMaxBytes: maxBytes, logMaxFiles: 3 });
      assert.equal(res.exitCode, 0);
      const rotated = rotatedFiles(s.logPath);
      assert.deepEqual(rotated, [`${s.logPath}.2`, `${s.logPath}.1`], 'exactly maxFiles-1 rotated files, oldest first');
      assert.ok(!existsSync(`${s.logPath}.3`));
      const files = [...rotated, s.logPath];
      const texts = files.map((f) => readFileSync(f, 'utf8'));
      for (const t of texts) assert.ok(t === '' || t.endsWith('\n'), 'every file ends with a whole record');
      const maxRecord = Math.max(...texts.flatMap((t) => t.split('\n').map((l) => Buffer.byteLength(l) + 1)));
      for (const f of rotated) {
        const size = statSync(f).size;
        assert.ok(size >= maxBytes && size < maxBytes + maxRecord, `${f}: ${size} bytes, rotated only once past the limit`);
      }
      const currentSize = statSync(s.logPath).size;
      assert.ok(currentSize < maxBytes + maxRecord, `current file: ${currentSize} bytes`);
      const perFile = files.map((f) =>
        readCriLog(f).map((l) => {
          assert.equal(l.stream, 'stdout');
          assert.equal(l.tag, 'F', 'no line is split');
          const m = /^line-(\d{6})-(x+)$/.exec(l.text);
          assert.ok(m && m[2].length === 88, `a whole numbered line: ${JSON.stringify(l.text.slice(0, 60))}`);
          return Number(m[1]);
        }),
      );
      for (const nums of perFile.slice(0, -1)) assert.ok(nums.length > 0, 'no empty rotated file');
      const current = perFile[perFile.length - 1];
      assert.ok(current.length > 0 && current[current.length - 1] === lines, 'the newest lines are in the current file');
      const all = perFile.flat();
      const first = all[0];
      assert.ok(first > 1, 'the oldest records were removed');
      assert.deepEqual(all, Array.from({ length: lines - first + 1 }, (_, i) => first + i), 'rotated (oldest first) + current = a contiguous tail, no duplicates');
    });

    test('exec: stdout, stderr and exit code in the container namespaces; with a TTY', async () => {
      const s = spec({ argv: ['sleep', '30'], hostname: 'exec-host' });
      await start(s);
      const out = new PassThrough();
      const err = new PassThrough();
      let o = '';
      let e = '';
      out.on('data', (d) => (o += d));
      err.on('data', (d) => (e += d));
      const code = await driver.exec(s.id, { argv: ['sh', '-c', 'echo hi; echo oops >&2; hostname; ps -o pid= -p 1 >/dev/null 2>&1 && echo pidns; exit 7'], tty: false, stdout: out, stderr: err });
      assert.equal(code, 7);
      assert.equal(e, 'oops\n');
      assert.deepEqual(o.trim().split('\n').slice(0, 2), ['hi', 'exec-host']);
      let t = '';
      const ttyOut = new PassThrough();
      ttyOut.on('data', (d) => (t += d));
      const sizes: ((s: { width: number; height: number }) => void)[] = [];
      const ttyCode = await driver.exec(s.id, {
        argv: ['sh', '-c', 'tty; sleep 0.5; stty size; exit 4'],
        tty: true,
        stdout: ttyOut,
        onResize: (l) => sizes.push(l),
      });
      assert.equal(ttyCode, 4);
      assert.match(t, /\/dev\/pts\/\d+/);
      assert.equal(sizes.length, 1, 'the driver listens for resizes');
      await assert.rejects(driver.exec('no-such-container', { argv: ['true'], tty: false }));
    });

    test('tty: the command has a terminal; stdin bytes are typed into it; resize sets its size', async () => {
      // Waits for a size other than the first, then for a line of input, and reports both.
      const script = 'tty >/dev/null && echo is-a-tty; s0=$(stty size); i=0; while [ "$(stty size)" = "$s0" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; echo "size $(stty size)"; read x; echo "got $x"';
      const s = spec({ argv: ['sh', '-c', script], tty: true, stdin: true });
      await start(s);
      const logText = () => readCriLog(s.logPath).map((l) => l.text.replace(/\r$/, '')).join('\n');
      const until = async (re: RegExp) => {
        for (let i = 0; i < 200 && !re.test(logText()); i++) await new Promise((r) => setTimeout(r, 25));
        assert.match(logText(), re);
      };
      await until(/is-a-tty/);
      assert.ok(driver.resize, 'the driver can resize a terminal');
      // Resized until the command saw it (the first resize may land before its loop took its first size).
      for (let i = 0; i < 40 && !/size 33 111/.test(logText()); i++) {
        driver.resize!(s.id, { width: 111, height: 33 });
        await new Promise((r) => setTimeout(r, 100));
      }
      await until(/size 33 111/);
      const fifo = driver.stdinPath?.(s.id);
      assert.ok(fifo, 'a FIFO for stdin');
      writeFileSync(fifo!, 'typed\n');
      await until(/got typed/);
      assert.equal((await driver.wait(s.id)).exitCode, 0);
      assert.ok(readCriLog(s.logPath).every((l) => l.stream === 'stdout'), 'a terminal is one stream');
    });

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
      const failing = spec({ argv: ['sleep', '30'], startGate: new Promise((_, reject) => setTimeout(() => reject(new Error('CNI ADD failed: test')), 100)) });
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
