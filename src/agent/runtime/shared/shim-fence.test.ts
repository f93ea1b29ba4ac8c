// Self-fencing with a real shim (native/shim/fence.c) and a real process: a fresh heartbeat keeps it
// alive, a stale one kills it within fenceAfter + 1 s, and a stale or missing one keeps it from starting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { monotonicMs, writeHeartbeat } from '../../node/heartbeat.ts';
import { nativeBinary } from '../../../host/native-binary.ts';
import { launchShim } from './shim-launch.ts';
import { shimEnv } from './shim-env.ts';
import type { ContainerSpec } from '../driver.ts';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.startsWith('Z');
  } catch {
    return false;
  }
};

// Built first: a rebuild inside the first launch would block the heartbeat's timer for a second.
nativeBinary('berth-shim');

async function start(dir: string, afterMs: number) {
  writeFileSync(join(dir, 'env'), 'PATH=/usr/bin:/bin\0');
  const env = shimEnv({ fence: { heartbeatFile: join(dir, 'hb'), afterMs } } as ContainerSpec, { runtime: 'test', dir, stdinFifo: false });
  const shim = await launchShim({ args: [dir, join(dir, 'log'), '0', 'sleep', '1000'], env, shimLog: join(dir, 'shim.log'), timeoutMs: 5000, runtime: 'test' });
  shim.unref();
  return shim;
}

test('shimEnv passes the heartbeat and fenceAfter only for a spec that fences, and checks afterMs', () => {
  const o = { runtime: 'test', dir: '/d', stdinFifo: false };
  assert.equal(shimEnv({} as ContainerSpec, o).BERTH_FENCE_HEARTBEAT, undefined);
  const env = shimEnv({ fence: { heartbeatFile: '/d/hb', afterMs: 5000 } } as ContainerSpec, o);
  assert.equal(env.BERTH_FENCE_HEARTBEAT, '/d/hb');
  assert.equal(env.BERTH_FENCE_AFTER_MS, '5000');
  assert.throws(() => shimEnv({ fence: { heartbeatFile: '/d/hb', afterMs: 0 } } as ContainerSpec, o), /afterMs must be a positive integer/);
});

test('a fresh heartbeat keeps the container alive; once stale it is killed within fenceAfter + 1 s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-fence-'));
  let pid = 0;
  try {
    writeHeartbeat(join(dir, 'hb'), monotonicMs());
    // The agent's renewals, every 200 ms (the real agent: every 2 s against a 5 s fenceAfter).
    const beat = setInterval(() => writeHeartbeat(join(dir, 'hb'), monotonicMs()), 200);
    let stoppedAt = 0;
    try {
      const shim = await start(dir, 1000);
      [pid] = await shim.ready;
      assert.ok(pid > 0 && alive(pid));
      await sleep(2500);
      assert.ok(alive(pid), 'killed although the heartbeat was fresh');
      assert.ok(!existsSync(join(dir, 'exit')));
    } finally {
      clearInterval(beat);
      stoppedAt = monotonicMs();
    }
    while (alive(pid) && monotonicMs() - stoppedAt < 5000) await sleep(20);
    const took = monotonicMs() - stoppedAt;
    assert.ok(!alive(pid), 'still alive 5 s after the heartbeat stopped');
    assert.ok(took <= 1000 + 1000, `killed ${took} ms after the last beat (fenceAfter 1000 ms)`);
    for (let i = 0; i < 100 && !existsSync(join(dir, 'exit')); i++) await sleep(50);
    const exit = JSON.parse(readFileSync(join(dir, 'exit'), 'utf8'));
    assert.equal(exit.fenced, true);
    assert.equal(exit.signal, 9);
    assert.match(readFileSync(join(dir, 'shim.log'), 'utf8'), /fenced at \d+ \(unix ms\): the node's last Lease renewal was \d+ ms ago \(fenceAfter 1000 ms\)/);
  } finally {
    if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stale or missing heartbeat: the container is not started at all', async () => {
  for (const stale of [true, false]) {
    const dir = mkdtempSync(join(tmpdir(), 'berth-fence-'));
    try {
      if (stale) writeHeartbeat(join(dir, 'hb'), monotonicMs() - 3000);
      const shim = await start(dir, 1000);
      await assert.rejects(shim.ready, stale ? /fenced, not starting the container: the node's last Lease renewal was 3\d{3} ms ago/ : /fenced, not starting the container: heartbeat .*No such file/);
      assert.ok(!existsSync(join(dir, 'exit')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
});
