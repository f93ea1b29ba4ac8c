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
  // The first is taken by the writer at once (held in the sink), three wait, the rest are dropped.
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
