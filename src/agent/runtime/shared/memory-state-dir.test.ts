import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { memoryStateDir } from './memory-state-dir.ts';

// /dev/shm is a tmpfs on every Linux host this runs on; /proc never is.
const onTmpfs = statfsSync('/dev/shm').type === 0x01021994;

test('state dirs go to a tmpfs base, one per on-disk dir; a base that is no tmpfs is passed over', { skip: process.getuid?.() !== 0 || !onTmpfs ? 'needs root and a tmpfs /dev/shm' : false }, () => {
  const disk = mkdtempSync(join(tmpdir(), 'berth-msd-'));
  const mem = mkdtempSync('/dev/shm/berth-msd-');
  try {
    const a = memoryStateDir(join(disk, 'a', 'runtime', 'process'), ['/proc', mem]);
    assert.equal(dirname(a), join(mem, 'berth'));
    assert.ok(existsSync(a));
    assert.equal(memoryStateDir(join(disk, 'a', 'runtime', 'process'), [mem]), a, 'the same dir after an agent restart');
    assert.notEqual(memoryStateDir(join(disk, 'b', 'runtime', 'process'), [mem]), a, 'another agent on the machine');
    assert.equal(memoryStateDir(join(disk, 'c'), ['/proc']), join(disk, 'c'), 'no tmpfs: the disk');
  } finally {
    rmSync(disk, { recursive: true, force: true });
    rmSync(mem, { recursive: true, force: true });
  }
});

test('containers of an earlier agent on disk keep the disk; a base dir others can write into is refused', { skip: process.getuid?.() !== 0 || !onTmpfs ? 'needs root and a tmpfs /dev/shm' : false }, () => {
  const disk = mkdtempSync(join(tmpdir(), 'berth-msd-'));
  const mem = mkdtempSync('/dev/shm/berth-msd-');
  try {
    const old = join(disk, 'runtime', 'process');
    mkdirSync(join(old, 'pod-x-c'), { recursive: true });
    writeFileSync(join(old, 'pod-x-c', 'state.json'), '{}');
    assert.equal(memoryStateDir(old, [mem]), old);
    const open = mkdtempSync('/dev/shm/berth-msd-');
    mkdirSync(join(open, 'berth'));
    chmodSync(join(open, 'berth'), 0o777);
    const fresh = join(disk, 'other');
    assert.equal(memoryStateDir(fresh, [open]), fresh);
    rmSync(open, { recursive: true, force: true });
  } finally {
    rmSync(disk, { recursive: true, force: true });
    rmSync(mem, { recursive: true, force: true });
  }
});
