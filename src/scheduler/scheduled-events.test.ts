/** The Scheduled event queue: writes what fits, drops the rest (counted), and close() drains. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { EventRecorder } from '../client/event-recorder.ts';
import { createLogger } from '../util/log.ts';
import { ScheduledEvents } from './scheduled-events.ts';

const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns', uid: `uid-${name}` } });

/** A recorder whose sink holds every create until `release()`. */
function heldRecorder() {
  const written: KubeObject[] = [];
  let gate!: () => void;
  let open = new Promise<void>((r) => (gate = r));
  const recorder = new EventRecorder({
    source: { component: 'default-scheduler' },
    sink: {
      create: async (_ns, ev) => { await open; written.push(ev); return ev; },
      patch: async () => ({}),
    },
  });
  return { recorder, written, release: () => { gate(); open = Promise.resolve(); } };
}

test('queued events are all written, in order, with the upstream message', async () => {
  const { recorder, written, release } = heldRecorder();
  const q = new ScheduledEvents(recorder, createLogger({ level: 'error' }), { maxQueued: 10, writers: 1 });
  for (let i = 0; i < 5; i++) q.scheduled(pod(`p${i}`), 'node-1');
  release();
  await q.close();
  assert.equal(q.dropped, 0);
  assert.deepEqual(written.map((e) => e.involvedObject.name), ['p0', 'p1', 'p2', 'p3', 'p4']);
  assert.equal(written[0]!.reason, 'Scheduled');
  assert.equal(written[0]!.type, 'Normal');
  assert.equal(written[0]!.message, 'Successfully assigned ns/p0 to node-1');
});

test('a full queue drops further events instead of growing', async () => {
  const { recorder, written, release } = heldRecorder();
  const q = new ScheduledEvents(recorder, createLogger({ level: 'error' }), { maxQueued: 3, writers: 1 });
  // No batch request: the first is taken by the writer at once (held in the sink), three wait, the rest are dropped.
  for (let i = 0; i < 10; i++) q.scheduled(pod(`p${i}`), 'n');
  assert.equal(q.pending, 3);
  assert.equal(q.dropped, 6);
  release();
  await q.close();
  assert.deepEqual(written.map((e) => e.involvedObject.name), ['p0', 'p1', 'p2', 'p3']);
  // Closed: later events are ignored, not queued.
  q.scheduled(pod('late'), 'n');
  assert.equal(q.pending, 0);
});

test('with batch requests a turn\'s events wait for its end (a full queue still drops)', async () => {
  const { recorder, batches, release } = batchRecorder();
  const q = new ScheduledEvents(recorder, createLogger({ level: 'error' }), { maxQueued: 3, writers: 2 });
  for (let i = 0; i < 10; i++) q.scheduled(pod(`p${i}`), 'n');
  assert.equal(q.pending, 3);
  assert.equal(q.dropped, 7);
  assert.equal(batches.length, 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches.map((b) => b.map((e) => e.involvedObject.name)), [['p0', 'p1']], 'two writers: two events in flight');
  q.scheduled(pod('p10'), 'n');
  release();
  await q.close();
  assert.deepEqual(batches.map((b) => b.map((e) => e.involvedObject.name)), [['p0', 'p1'], ['p2', 'p10']]);
});

/** A recorder whose sink takes batches (as over a PortClient), holding each until `release()`. */
function batchRecorder() {
  const batches: KubeObject[][] = [];
  let singles = 0;
  let gate!: () => void;
  let open = new Promise<void>((r) => (gate = r));
  const recorder = new EventRecorder({
    source: { component: 'default-scheduler' },
    sink: {
      create: async (_ns, ev) => { singles++; return ev; },
      patch: async () => ({}),
      createMany: async (events) => {
        batches.push(events);
        await open;
        // The third of every batch fails: the others are still written, the queue goes on.
        return events.map((_e, i) => (i === 2 ? new Error('rejected') : undefined));
      },
    },
  });
  return { recorder, batches, singles: () => singles, release: () => { gate(); open = Promise.resolve(); } };
}

test('a turn\'s events go out as batches, one request each, full batches at once', async () => {
  const { recorder, batches, singles, release } = batchRecorder();
  const q = new ScheduledEvents(recorder, createLogger({ level: 'error' }), { maxQueued: 1000, writers: 4096, batch: 256 });
  for (let i = 0; i < 600; i++) q.scheduled(pod(`p${i}`), 'n');
  assert.deepEqual(batches.map((b) => b.length), [256, 256], 'two full batches left during the turn');
  assert.equal(q.pending, 88);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches.map((b) => b.length), [256, 256, 88], 'the rest at the end of the turn');
  assert.equal(q.requests, 3);
  release();
  await q.close();
  assert.equal(singles(), 0, 'no event went as a request of its own');
  assert.equal(q.dropped, 0);
  const names = batches.flat().map((e) => e.involvedObject.name);
  assert.equal(new Set(names).size, 600);
  assert.equal(names[599], 'p599');
  assert.equal(batches[0]![0]!.message, 'Successfully assigned ns/p0 to n');
  assert.equal(batches[0]![0]!.reason, 'Scheduled');
});

test('a burst larger than the queue is not dropped while writes in flight have room', async () => {
  // 3,000 bindings confirmed in one turn, writes slow (held): the old one-event-per-writer queue
  // with 512 writers held 512 + 1,000 and dropped the rest; batches put them all in flight.
  const { recorder, batches, release } = batchRecorder();
  const q = new ScheduledEvents(recorder, createLogger({ level: 'error' }), { maxQueued: 1000, writers: 4096, batch: 256 });
  for (let i = 0; i < 3000; i++) q.scheduled(pod(`p${i}`), 'n');
  assert.equal(q.dropped, 0);
  assert.equal(batches.length, 11, '11 full batches in flight before the turn ended');
  release();
  await q.close();
  assert.equal(batches.flat().length, 3000);
  assert.equal(q.requests, 12);
});

test('writes in flight are bounded in events, not requests', async () => {
  const { recorder, batches, release } = batchRecorder();
  const q = new ScheduledEvents(recorder, createLogger({ level: 'error' }), { maxQueued: 1000, writers: 300, batch: 256 });
  for (let i = 0; i < 1000; i++) q.scheduled(pod(`p${i}`), 'n');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches.map((b) => b.length), [256, 44], '300 in flight');
  assert.equal(q.pending, 700);
  assert.equal(q.dropped, 0);
  release();
  await q.close();
  assert.equal(batches.flat().length, 1000);
  assert.equal(q.pending, 0);
});

test('a failing write does not stop the queue', async () => {
  let calls = 0;
  const names: string[] = [];
  const recorder = new EventRecorder({
    source: { component: 'default-scheduler' },
    sink: {
      create: async (_ns, ev) => { if (calls++ === 0) throw new Error('boom'); names.push(ev.involvedObject.name); return ev; },
      patch: async () => ({}),
    },
  });
  const q = new ScheduledEvents(recorder, createLogger({ level: 'error' }), { writers: 2 });
  for (let i = 0; i < 4; i++) q.scheduled(pod(`p${i}`), 'n');
  await q.close();
  assert.equal(names.length, 3);
});

test('by default 128 writes are in flight at once, so a group commit takes them together', async () => {
  let inFlight = 0;
  let most = 0;
  let gate!: () => void;
  const open = new Promise<void>((r) => (gate = r));
  const recorder = new EventRecorder({
    source: { component: 'default-scheduler' },
    sink: {
      create: async (_ns, ev) => {
        most = Math.max(most, ++inFlight);
        await open;
        inFlight--;
        return ev;
      },
      patch: async () => ({}),
    },
  });
  const q = new ScheduledEvents(recorder, createLogger({ level: 'error' }));
  for (let i = 0; i < 300; i++) q.scheduled(pod(`p${i}`), 'n');
  await new Promise((r) => setImmediate(r));
  assert.equal(most, 128);
  assert.equal(q.pending, 300 - 128);
  gate();
  await q.close();
  assert.equal(q.dropped, 0);
  assert.equal(inFlight, 0);
});
