import { test } from 'node:test';
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import { startIdleMemoryReducer } from './idle-memory.ts';
import { waitFor } from './wait.fixture.ts';

const newSpace = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size;
/** Short-lived garbage, as a busy spell makes: V8 grows the young generation for it. */
const churn = () => {
  const keep: object[] = [];
  for (let i = 0; i < 2_000_000; i++) { const o = { i, s: `x${i}`, a: [i] }; if (i % 1000 === 0) keep.push(o); }
  return keep.length;
};

test('an idle process gives back the young generation a busy spell grew, once', async () => {
  churn();
  const grown = newSpace();
  assert.ok(grown >= 4 * 1024 * 1024, `the young generation grew (${grown} bytes)`);
  const r = startIdleMemoryReducer({ firstCheckMs: 50, checkMs: 50, minNewSpace: 2 * 1024 * 1024 });
  try {
    await waitFor(() => r.reductions >= 1 || undefined, 'a reduction');
    assert.ok(newSpace() < grown / 2, `young generation ${grown} → ${newSpace()} bytes`);
    // Nothing more to give back: no second collection while it stays small.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(r.reductions, 1);
  } finally {
    r.stop();
  }
});

test('a busy loop is left alone', async () => {
  churn();
  const r = startIdleMemoryReducer({ firstCheckMs: 50, checkMs: 50, minNewSpace: 0 });
  try {
    // Busy for ~90 % of each millisecond-scale slice, for 600 ms.
    const until = performance.now() + 600;
    while (performance.now() < until) {
      const slice = performance.now() + 9;
      while (performance.now() < slice) { /* busy */ }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.equal(r.reductions, 0);
  } finally {
    r.stop();
  }
});
