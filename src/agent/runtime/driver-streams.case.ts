/**
 * The shared driver suite's cases for a container's streams (see driver.case.ts, which registers
 * them inside its own describe, hooks and fixture): CRI logs and their rotation, stdin (a FIFO,
 * stdinOnce), exec with pipes and a TTY, and the main process's own terminal.
 */
import assert from 'node:assert/strict';
import { createWriteStream, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { rotatedFiles } from '../streams/log-file.ts';
import type { ContainerHandle, ContainerSpec, ExitResult, RuntimeDriver } from './driver.ts';
import { readCriLog, sleep, until, type CriLine } from './driver.case.ts';

/** The suite's fixture, as driver.case.ts keeps it. */
export interface StreamCaseContext {
  driver(): RuntimeDriver;
  tmp(): string;
  spec(o: Partial<ContainerSpec>): ContainerSpec;
  start(s: ContainerSpec): Promise<ContainerHandle>;
  run(o: Partial<ContainerSpec>): Promise<{ s: ContainerSpec; res: ExitResult; log: CriLine[] }>;
  stdoutOf(log: CriLine[]): string[];
}

export function streamCases(ctx: StreamCaseContext): void {
    test('logs land in logPath in the CRI format (stdout/stderr, F/P)', async () => {
      const driver = ctx.driver();
      const script = 'echo out; echo err >&2; head -c 20000 /dev/zero | tr "\\0" a; echo; printf tail';
      const { s } = await ctx.run({ argv: ['sh', '-c', script] });
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
      const driver = ctx.driver();
      const s = ctx.spec({ argv: ['sh', '-c', 'read a; echo got:$a; read b; echo got:$b'], stdin: true });
      await ctx.start(s);
      const fifo = driver.stdinPath?.(s.id);
      assert.ok(fifo, 'a stdin FIFO');
      writeFileSync(fifo, 'one\n'); // opens, writes and closes: the command must not see EOF
      await new Promise((r) => setTimeout(r, 100));
      writeFileSync(fifo, 'two\n');
      const res = await driver.wait(s.id);
      assert.equal(res.exitCode, 0);
      assert.deepEqual(ctx.stdoutOf(readCriLog(s.logPath)), ['got:one', 'got:two']);
      const plain = ctx.spec({ argv: ['sh', '-c', 'read a || echo eof'] });
      await ctx.start(plain);
      assert.equal(driver.stdinPath?.(plain.id), undefined);
      assert.equal((await driver.wait(plain.id)).exitCode, 0);
      assert.deepEqual(ctx.stdoutOf(readCriLog(plain.logPath)), ['eof'], 'no stdin: /dev/null');
    });

    test('stdinOnce: no EOF before an attach; after releaseStdin the attach closing its end is the EOF', async () => {
      const driver = ctx.driver();
      // cat starts reading with no writer but the driver's hold: it must wait, not see EOF.
      const s = ctx.spec({ argv: ['sh', '-c', 'cat; echo done'], stdin: true, stdinOnce: true });
      await ctx.start(s);
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
      assert.deepEqual(ctx.stdoutOf(readCriLog(s.logPath)), ['hello', 'done']);
    });

    test('logs rotate by size (logMaxBytes/logMaxFiles) as log-file.ts names them, between whole records', async () => {
      const driver = ctx.driver();
      const maxBytes = 64 * 1024;
      const lines = 3000;
      // ~300 KiB of numbered stdout lines of 100 bytes each (~420 KiB of CRI records).
      // A stale rotated file from an earlier, larger logMaxFiles is removed like rotateIfNeeded does.
      const logPath = join(ctx.tmp(), `rotate-${Math.random().toString(36).slice(2)}.log`);
      writeFileSync(`${logPath}.5`, 'stale\n');
      // A shell loop, not GNU `seq -f`: the same command must run on the host and in a busybox image.
      const gen = `i=1; while [ $i -le ${lines} ]; do printf 'line-%06d-%s\\n' $i ${'x'.repeat(88)}; i=$((i+1)); done`;
      const { s, res } = await ctx.run({ argv: ['sh', '-c', gen], logPath, logMaxBytes: maxBytes, logMaxFiles: 3 });
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
      const driver = ctx.driver();
      const s = ctx.spec({ argv: ['sleep', '30'], hostname: 'exec-host' });
      await ctx.start(s);
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
      const driver = ctx.driver();
      // Waits (up to 20 s) until its terminal is 111x33, then for a line of input, and reports both.
      const script = 'tty >/dev/null && echo is-a-tty; i=0; while [ "$(stty size)" != "33 111" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i+1)); done; echo "size $(stty size)"; read x; echo "got $x"';
      const s = ctx.spec({ argv: ['sh', '-c', script], tty: true, stdin: true });
      await ctx.start(s);
      const logText = () => readCriLog(s.logPath).map((l) => l.text.replace(/\r$/, '')).join('\n');
      const untilLog = async (re: RegExp) => {
        for (let i = 0; i < 200 && !re.test(logText()); i++) await new Promise((r) => setTimeout(r, 25));
        assert.match(logText(), re);
      };
      await untilLog(/is-a-tty/);
      assert.ok(driver.resize, 'the driver can resize a terminal');
      // Resized until the command reported it (a resize is idempotent; sent again while it is busy).
      for (let i = 0; i < 150 && !/size /.test(logText()); i++) {
        driver.resize!(s.id, { width: 111, height: 33 });
        await new Promise((r) => setTimeout(r, 100));
      }
      await untilLog(/size 33 111/);
      const fifo = driver.stdinPath?.(s.id);
      assert.ok(fifo, 'a FIFO for stdin');
      writeFileSync(fifo!, 'typed\n');
      await untilLog(/got typed/);
      assert.equal((await driver.wait(s.id)).exitCode, 0);
      assert.ok(readCriLog(s.logPath).every((l) => l.stream === 'stdout'), 'a terminal is one stream');
    });
}
