import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { LogFileWriter, containerLogPath, formatRecord, goTimestamp, parseRecord, rotateIfNeeded, rotatedFiles } from './log-file.ts';
import { readLogs, type ReadLogsOptions } from './log-reader.ts';

function tmpLog(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-logs-'));
  return containerLogPath(dir, 'uid-1', 'app', 0);
}

function writeRecords(file: string, recs: [string, 'stdout' | 'stderr', boolean, string][]): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, recs.map(([t, s, f, c]) => formatRecord(t, s, f, c).toString() + '\n').join(''));
}

async function read(file: string, opts: ReadLogsOptions): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await readLogs(file, opts, out, new AbortController().signal);
  return Buffer.concat(chunks).toString();
}

/** Collects a follower's output and waits for text to appear. */
function follower(file: string, opts: ReadLogsOptions = {}) {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => { text += c.toString(); });
  const ac = new AbortController();
  const done = readLogs(file, { ...opts, follow: true, pollMs: 50 }, out, ac.signal);
  return {
    get text() { return text; },
    async waitFor(s: string, ms = 3000): Promise<void> {
      const t0 = Date.now();
      while (!text.includes(s)) {
        if (Date.now() - t0 > ms) { ac.abort(); throw new Error(`timed out waiting for ${JSON.stringify(s)}; got ${JSON.stringify(text)}`); }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    async stop(): Promise<void> { ac.abort(); await done; },
  };
}

const T = (s: number) => new Date(Date.UTC(2026, 10, 24, 5, 0, s)).toISOString().replace('Z', '000000Z');

test('parses records and renders Go timestamps', () => {
  const r = parseRecord(Buffer.from('2026-11-24T05:00:00.123456789Z stderr P  two spaces'))!;
  assert.equal(r.stream, 'stderr');
  assert.equal(r.full, false);
  assert.equal(r.content.toString(), ' two spaces');
  assert.equal(parseRecord(Buffer.from('garbage')), undefined);
  assert.equal(goTimestamp('2026-11-24T05:00:00.120000000Z'), '2026-11-24T05:00:00.12Z');
  assert.equal(goTimestamp('2026-11-24T05:00:00.000000000Z'), '2026-11-24T05:00:00Z');
});

test('whole file, partial records joined, tail and timestamps', async () => {
  const file = tmpLog();
  writeRecords(file, [
    [T(1), 'stdout', true, 'one'],
    [T(2), 'stdout', false, 'tw'],
    [T(2), 'stderr', true, 'err'],
    [T(3), 'stdout', true, 'o'],
    [T(4), 'stdout', true, 'three'],
  ]);
  assert.equal(await read(file, {}), 'one\nerr\ntwo\nthree\n');
  assert.equal(await read(file, { tailLines: 2 }), 'two\nthree\n');
  assert.equal(await read(file, { tailLines: 0 }), '');
  assert.equal(await read(file, { tailLines: 1, timestamps: true }), '2026-11-24T05:00:04Z three\n');
  assert.equal(await read(file, { limitBytes: 6 }), 'one\ner');
});

test('since filters by record time', async () => {
  const file = tmpLog();
  const old = new Date(Date.now() - 3600_000).toISOString().replace('Z', '000000Z');
  const recent = new Date(Date.now() - 5_000).toISOString().replace('Z', '000000Z');
  writeRecords(file, [[old, 'stdout', true, 'old'], [recent, 'stdout', true, 'recent']]);
  assert.equal(await read(file, { sinceSeconds: 60 }), 'recent\n');
  assert.equal(await read(file, { sinceTime: new Date(Date.now() - 7200_000).toISOString() }), 'old\nrecent\n');
  assert.equal(await read(file, { sinceTime: new Date(Date.now() - 60_000).toISOString() }), 'recent\n');
});

test('writer splits lines into records and rotates; reader reads rotated files in order', async () => {
  const file = tmpLog();
  const w = new LogFileWriter(file, { maxBytes: 200, maxFiles: 3 });
  for (let i = 0; i < 20; i++) w.write(i % 2 ? 'stderr' : 'stdout', `line ${i} ${'x'.repeat(20)}\n`);
  w.write('stdout', 'no newline');
  w.flush();
  assert.deepEqual(rotatedFiles(file), [`${file}.2`, `${file}.1`]);
  const text = await read(file, {});
  const lines = text.split('\n');
  assert.equal(lines.at(-1), 'no newline');
  const nums = lines.slice(0, -1).map((l) => Number(l.split(' ')[1]));
  assert.deepEqual(nums, nums.slice().sort((a, b) => a - b), 'in order');
  assert.equal(nums.at(-1), 19);
  assert.ok(nums[0] > 0, 'oldest rotated away');
  assert.equal(rotateIfNeeded(file, 1 << 20, 3), false);
});

test('follow sees appended lines', async () => {
  const file = tmpLog();
  writeRecords(file, [[T(1), 'stdout', true, 'first']]);
  const f = follower(file, { tailLines: 1 });
  await f.waitFor('first\n');
  writeRecords(file, [[T(2), 'stdout', true, 'second']]);
  await f.waitFor('second\n');
  writeRecords(file, [[T(3), 'stdout', false, 'par'], [T(3), 'stdout', true, 'tial']]);
  await f.waitFor('partial\n');
  await f.stop();
  assert.equal(f.text, 'first\nsecond\npartial\n');
});

test('follow waits for a file that does not exist yet and stops when until settles', async () => {
  const file = tmpLog();
  let exit!: () => void;
  const until = new Promise<void>((r) => { exit = r; });
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => { text += c.toString(); });
  const done = readLogs(file, { follow: true, pollMs: 50, until }, out, new AbortController().signal);
  await new Promise((r) => setTimeout(r, 100));
  writeRecords(file, [[T(1), 'stdout', true, 'late'], [T(2), 'stdout', false, 'bye']]);
  exit();
  await done;
  assert.equal(text, 'late\nbye');
});

test('follow survives rotation, also several rotations between two reads', async () => {
  const file = tmpLog();
  const w = new LogFileWriter(file, { maxBytes: 300, maxFiles: 5 });
  w.write('stdout', 'before\n');
  const f = follower(file);
  await f.waitFor('before\n');
  // Synchronous: the follower cannot read in between, so it finds 2+ rotations at once.
  for (let i = 0; i < 20; i++) w.write('stdout', `n${i}\n`);
  assert.ok(fs.existsSync(`${file}.2`), 'rotated twice');
  await f.waitFor('n19\n');
  for (let i = 20; i < 40; i++) {
    w.write('stdout', `n${i}\n`);
    if (i % 4 === 0) await new Promise((r) => setTimeout(r, 20));
  }
  w.write('stdout', 'after\n');
  await f.waitFor('after\n');
  await f.stop();
  const expected = ['before', ...Array.from({ length: 40 }, (_, i) => `n${i}`), 'after'].join('\n') + '\n';
  assert.equal(f.text, expected);
});
