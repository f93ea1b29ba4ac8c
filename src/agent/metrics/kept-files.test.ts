import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { KeptFiles } from './kept-files.ts';
import { threadCpuMs } from './thread-cpu.ts';

test('kept files: a kernel file is formatted afresh at each read; an exited process\'s file reads as gone; unused descriptors are closed', async () => {
  const files = new KeptFiles();
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    await once(child, 'spawn');
    const stat = `/proc/${child.pid}/stat`;
    const first = files.read(stat);
    assert.match(first ?? '', new RegExp(`^${child.pid} \\(sleep\\)`));
    assert.equal(files.size, 1);
    // The same descriptor, read again (the schedstat of this thread moves as it runs).
    const self = '/proc/thread-self/schedstat';
    const a = Number(files.read(self)?.split(' ')[0]);
    for (let x = 0, i = 0; i < 2e6; i++) x += i;
    const b = Number(files.read(self)?.split(' ')[0]);
    assert.ok(b > a, `schedstat moved: ${a} → ${b}`);
    assert.equal(files.size, 2);
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.equal(files.read(stat), undefined, 'the process is gone: ESRCH, not its old text');
    assert.equal(files.size, 1, 'its descriptor was closed');
    assert.equal(files.read('/proc/no-such-file'), undefined);
    files.sweep(); files.sweep();
    assert.equal(files.size, 1, 'read within the last two samples: kept');
    files.sweep();
    assert.equal(files.size, 0, 'not read for three samples: closed');
  } finally {
    child.kill('SIGKILL');
    files.close();
  }
});

test('kept files: a file larger than the buffer is read whole; past maxOpen files are read without keeping a descriptor', () => {
  const files = new KeptFiles(1, 2, 256);
  const maps = files.read('/proc/self/maps') ?? '';
  assert.ok(maps.length > 1024 && maps.endsWith('\n'), `${maps.length} bytes, past the first buffer`);
  assert.equal(files.size, 1);
  assert.match(files.read('/proc/self/status') ?? '', /^Name:/);
  assert.equal(files.size, 1, 'no second descriptor');
  files.close();
  assert.equal(files.size, 0);
});

test('thread CPU: moves with this thread\'s work, not with sleeping', async () => {
  const t0 = threadCpuMs();
  await new Promise((r) => setTimeout(r, 200));
  const slept = threadCpuMs() - t0;
  const t1 = threadCpuMs();
  for (let x = 0, i = 0; i < 3e7; i++) x += i;
  const busy = threadCpuMs() - t1;
  assert.ok(busy > 5, `a busy loop cost ${busy} ms`);
  assert.ok(slept < 100, `200 ms asleep cost ${slept} ms`);
});
