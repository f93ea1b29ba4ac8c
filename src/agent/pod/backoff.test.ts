import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CrashLoopBackoff } from './backoff.ts';

const at = (s: number) => new Date(1_700_000_000_000 + s * 1000);

test('defaults are the kubelet numbers: the first crash restarts at once, then 10s doubling to 5m', () => {
  const b = new CrashLoopBackoff();
  const delays: number[] = [];
  let t = 0;
  for (let i = 0; i < 8; i++) {
    const d = b.recordExit('p/c', at(t + 1), at(t));
    delays.push(d / 1000);
    t += 1 + d / 1000;
  }
  assert.deepEqual(delays, [0, 10, 20, 40, 80, 160, 300, 300]);
  assert.match(b.message('p/c', 'c', 'ns/p(uid)'), /^back-off 5m0s restarting failed container=c pod=ns\/p\(uid\)$/);
});

test('nextStartAllowedAt and inBackoff follow the last exit', () => {
  const b = new CrashLoopBackoff({ baseMs: 100, capMs: 400 });
  assert.equal(b.nextStartAllowedAt('k'), undefined);
  assert.equal(b.inBackoff('k', at(0)), false);
  b.recordExit('k', at(4.9), at(4.89));
  assert.equal(b.inBackoff('k', at(4.9)), false, 'the first crash restarts at once');
  b.recordExit('k', at(5), at(4.99));
  assert.deepEqual(b.nextStartAllowedAt('k'), new Date(at(5).getTime() + 100));
  assert.equal(b.inBackoff('k', at(5.05)), true);
  assert.equal(b.inBackoff('k', at(5.1)), false);
});

test('a long run resets the delay; reset() and retain() forget keys', () => {
  const b = new CrashLoopBackoff({ baseMs: 100, capMs: 400 });
  assert.equal(b.recordExit('k', at(1), at(0)), 0);
  assert.equal(b.recordExit('k', at(2), at(1.5)), 100);
  assert.equal(b.recordExit('k', at(3), at(2.9)), 200);
  assert.equal(b.recordExit('k', at(3.5), at(3.4)), 400);
  assert.equal(b.recordExit('k', at(3.6), at(3.55)), 400, 'capped');
  // Ran 0.8 s = 2 × cap: start over.
  assert.equal(b.recordExit('k', at(4.5), at(3.7)), 0);
  b.reset('k');
  assert.equal(b.nextStartAllowedAt('k'), undefined);
  b.recordExit('a', at(1));
  b.recordExit('b', at(1));
  b.retain(['a']);
  assert.ok(b.nextStartAllowedAt('a'));
  assert.equal(b.nextStartAllowedAt('b'), undefined);
});
