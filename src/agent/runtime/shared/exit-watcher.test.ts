/** The shared exit watcher: an exit record landing, a shim gone without one (reported, or found by the sweep), a removed dir. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitWatcher } from './exit-watcher.ts';
import { procStartTime } from './proc.ts';

/** A stand-in shim: a sleeping process, with the start time a driver would have recorded. */
async function fakeShim() {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  await new Promise((r) => child.once('spawn', r));
  const pid = child.pid!;
  return { child, st: { shimPid: pid, shimStartTime: procStartTime(pid)! } };
}

function inTmpDir(fn: (dir: string) => Promise<void>): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-exit-watch-'));
    try { await fn(dir); } finally { rmSync(dir, { recursive: true, force: true }); }
  };
}

test('the exit record the shim renames into place resolves the watch', inTmpDir(async (dir) => {
  const { child, st } = await fakeShim();
  try {
    const watcher = new ExitWatcher({ sweepMs: 60_000 });
    const exited = watcher.watch(dir, st);
    const t0 = Date.now();
    writeFileSync(join(dir, 'exit.tmp'), JSON.stringify({ exitCode: 3, signal: 0, finishedAtMs: 1234 }));
    renameSync(join(dir, 'exit.tmp'), join(dir, 'exit'));
    assert.deepEqual(await exited, { exitCode: 3, signal: 0, finishedAtMs: 1234 });
    assert.ok(Date.now() - t0 < 5000, 'seen by the fs watch, not a slow poll');
  } finally {
    child.kill('SIGKILL');
  }
}));

test('a shim killed without a record is a SIGKILL, seen at once when the helper reports it', inTmpDir(async (dir) => {
  const { child, st } = await fakeShim();
  const watcher = new ExitWatcher({ sweepMs: 60_000 });
  const exited = watcher.watch(dir, st);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  watcher.shimExited(st.shimPid + 1_000_000); // someone else's shim: nothing to see
  watcher.shimExited(st.shimPid);
  const rec = await exited;
  assert.equal(rec.exitCode, 137);
  assert.equal(rec.signal, 9);
}));

test('without a report, the sweep finds the dead shim', inTmpDir(async (dir) => {
  const { child, st } = await fakeShim();
  const watcher = new ExitWatcher({ sweepMs: 50 });
  const exited = watcher.watch(dir, st);
  child.kill('SIGKILL');
  assert.equal((await exited).exitCode, 137);
}));

test('a state dir removed under the watch ends it; a second container is unaffected', inTmpDir(async (dir) => {
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  const { child, st } = await fakeShim();
  try {
    mkdirSync(a);
    mkdirSync(b);
    const watcher = new ExitWatcher({ sweepMs: 50 });
    const exitedA = watcher.watch(a, st);
    let bDone = false;
    void watcher.watch(b, st).then(() => (bDone = true));
    rmSync(a, { recursive: true });
    assert.equal((await exitedA).exitCode, 137);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(bDone, false, 'b still runs: its shim lives and it has no record');
    writeFileSync(join(b, 'exit'), JSON.stringify({ exitCode: 0, signal: 0, finishedAtMs: 1 }));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(bDone, true);
  } finally {
    child.kill('SIGKILL');
  }
}));
