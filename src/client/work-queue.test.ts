import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimitedQueue } from './work-queue.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('de-duplicates keys waiting in the queue', async () => {
  const q = new RateLimitedQueue();
  q.add('a'); q.add('b'); q.add('a');
  assert.equal(q.length, 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.length, 0);
  q.shutDown();
});

test('a key added while processing is re-run after done, never concurrently', async () => {
  const q = new RateLimitedQueue();
  q.add('a');
  const k = await q.get();
  q.add('a');
  q.add('a');
  assert.equal(q.length, 0, 'not handed out while still processing');
  q.done(k!);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), 'a');
  q.done('a');
  assert.equal(q.length, 0);
  q.shutDown();
});

test('get waits for a key; shutDown wakes waiters with undefined', async () => {
  const q = new RateLimitedQueue();
  const p = q.get();
  q.add('x');
  assert.equal(await p, 'x');
  const p2 = q.get();
  q.shutDown();
  assert.equal(await p2, undefined);
  q.add('y');
  assert.equal(q.length, 0, 'adds after shutDown are ignored');
});

test('addAfter delays the key', async () => {
  const q = new RateLimitedQueue();
  q.addAfter('k', 30);
  assert.equal(q.length, 0);
  await sleep(60);
  assert.equal(q.length, 1);
  q.shutDown();
});

test('addAfter keeps one timer per key, at the earlier of its times (client-go waitingForQueue)', async () => {
  const q = new RateLimitedQueue();
  const pending = () => (q as unknown as { timers: Map<string, unknown> }).timers.size;
  for (let i = 0; i < 100; i++) q.addAfter('later', 60_000 + i);
  assert.equal(pending(), 1, 'repeated requeues of one key: one timer');
  q.addAfter('k', 60_000);
  q.addAfter('k', 20);
  assert.equal(pending(), 2);
  await sleep(80);
  assert.equal(q.length, 1, 'the earlier time won');
  assert.equal(await q.get(), 'k');
  q.done('k');
  assert.equal(pending(), 1, 'the later timer of k was dropped, only "later" waits');
  q.addAfter('k', 20);
  q.addAfter('k', 60_000);
  await sleep(80);
  assert.equal(q.length, 1, 'a later time does not postpone an earlier one');
  q.shutDown();
  assert.equal(pending(), 0);
});

test('per-key exponential back-off from 5 ms, capped at 1000 s, reset by forget', () => {
  const q = new RateLimitedQueue();
  assert.deepEqual([q.when('k'), q.when('k'), q.when('k'), q.when('k')], [5, 10, 20, 40]);
  assert.equal(q.when('other'), 5, 'back-off is per key');
  assert.equal(q.numRequeues('k'), 4);
  for (let i = 0; i < 40; i++) q.when('k');
  assert.equal(q.when('k'), 1_000_000);
  q.forget('k');
  assert.equal(q.when('k'), 5);
  q.shutDown();
});

test('addRateLimited re-adds after the back-off delay', async () => {
  const q = new RateLimitedQueue({ baseDelayMs: 20 });
  q.addRateLimited('k');
  assert.equal(q.length, 0);
  await sleep(50);
  assert.equal(q.length, 1);
  q.shutDown();
});
