import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HistoryRing } from './history-ring.ts';

const point = (t: number) => ({ t, cpuNanoCores: t * 10, memoryWorkingSetBytes: t * 100, rxBytes: t + 1, txBytes: t + 2 });

test('a history ring keeps the points within the window, oldest first, across wrap-around and growth', () => {
  const r = new HistoryRing(3);
  for (let t = 1; t <= 5; t++) r.push(point(t), t - 2); // window: the last 3
  assert.deepEqual(r.points().map((p) => p.t), [3, 4, 5]);
  assert.deepEqual(r.points()[2], point(5));
  for (let t = 6; t <= 12; t++) r.push(point(t), 0); // nothing ages out: it grows past 3
  assert.deepEqual(r.points().map((p) => p.t), [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(r.lastT, 12);
  r.prune(11);
  assert.deepEqual(r.points().map((p) => p.t), [11, 12]);
  r.prune(100);
  assert.equal(r.length, 0);
  assert.equal(r.lastT, -Infinity);
});

test('figures not known (a first sample\'s CPU rate, a host-network pod\'s network) are left out of the point', () => {
  const r = new HistoryRing();
  r.push({ t: 1, memoryWorkingSetBytes: 5 }, 0);
  assert.deepEqual(r.points(), [{ t: 1, memoryWorkingSetBytes: 5 }]);
});
