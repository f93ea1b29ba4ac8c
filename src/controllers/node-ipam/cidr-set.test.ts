import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet, CidrSetFullError } from './cidr-set.ts';

test('allocates /24s in order, continuing after the last one handed out', () => {
  const s = new CidrSet('10.42.0.0/22', 24);
  assert.equal(s.size, 4);
  assert.equal(s.allocateNext(), '10.42.0.0/24');
  assert.equal(s.allocateNext(), '10.42.1.0/24');
  s.release('10.42.0.0/24');
  // A released range is not reused at once (routes to its old node may still be in flight).
  assert.equal(s.allocateNext(), '10.42.2.0/24');
  assert.equal(s.allocateNext(), '10.42.3.0/24');
  assert.equal(s.allocateNext(), '10.42.0.0/24');
  assert.throws(() => s.allocateNext(), CidrSetFullError);
  assert.equal(s.allocatedCount, 4);
});

test('occupied ranges are skipped; a larger occupied range covers several; release frees them', () => {
  const s = new CidrSet('10.42.0.0/16', 24);
  s.occupy('10.42.0.0/24');
  s.occupy('10.42.2.0/23');
  assert.equal(s.allocatedCount, 3);
  assert.equal(s.allocateNext(), '10.42.1.0/24');
  assert.equal(s.allocateNext(), '10.42.4.0/24');
  s.occupy('10.42.0.0/24'); // twice is once
  assert.equal(s.allocatedCount, 5);
  s.release('10.42.2.0/23');
  assert.equal(s.allocatedCount, 3);
  assert.throws(() => s.occupy('10.43.0.0/24'), /outside the cluster CIDR 10.42.0.0\/16/);
});

test('mask sizes: /26 in a /24 gives 4; a mask shorter than the cluster prefix or too many ranges is refused', () => {
  const s = new CidrSet('10.9.0.0/24', 26);
  assert.deepEqual([s.allocateNext(), s.allocateNext(), s.allocateNext(), s.allocateNext()], ['10.9.0.0/26', '10.9.0.64/26', '10.9.0.128/26', '10.9.0.192/26']);
  assert.throws(() => new CidrSet('10.42.0.0/16', 12), /does not fit/);
  assert.throws(() => new CidrSet('10.0.0.0/8', 28), /more than 65536/);
  assert.throws(() => new CidrSet('10.42.0.1/16', 24), /host bits/);
  assert.ok(s.fits('10.9.0.64/26'));
  assert.ok(!s.fits('10.9.0.64/25'));
  assert.ok(!s.fits('10.10.0.0/26'));
});
