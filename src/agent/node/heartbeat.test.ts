// The heartbeat as the Lease loop drives it: nothing written while disarmed, the last renewal's send
// time written on arming, every renewal after; monotonic time, atomically replaced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Heartbeat, heartbeatPath, monotonicMs } from './heartbeat.ts';

test('disarmed: renewals write nothing; arm() writes the last send time; then every renewal; hold() stops it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-hb-'));
  try {
    const path = heartbeatPath(dir);
    assert.equal(path, join(dir, 'lease-heartbeat'));
    const hb = new Heartbeat(path);
    hb.renewed(1000);
    assert.ok(!existsSync(path), 'written while disarmed');
    hb.arm();
    assert.equal(readFileSync(path, 'utf8'), '1000\n');
    hb.renewed(3000);
    assert.equal(readFileSync(path, 'utf8'), '3000\n');
    hb.hold();
    hb.renewed(5000);
    assert.equal(readFileSync(path, 'utf8'), '3000\n');
    assert.ok(!existsSync(`${path}.tmp`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write that fails is reported, not thrown (the shims then fence: the safe side)', () => {
  const errors: string[] = [];
  const hb = new Heartbeat('/nonexistent-dir/lease-heartbeat', (err) => errors.push(err.message));
  hb.renewed(1);
  hb.arm();
  assert.equal(errors.length, 1);
  assert.match(errors[0], /ENOENT/);
});

test('monotonicMs is CLOCK_MONOTONIC in ms (the shim reads the same clock): it only grows, and is not the epoch', async () => {
  const a = monotonicMs();
  await new Promise((r) => setTimeout(r, 20));
  const b = monotonicMs();
  assert.ok(b - a >= 15 && b - a < 1000);
  assert.ok(a < Date.now() / 10, 'looks like wall-clock time');
});
