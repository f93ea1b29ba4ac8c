import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Client } from '../client/client.ts';
import { createLogger } from '../util/log.ts';
import { EventRecorder } from './event-recorder.ts';
import { makePod } from './cluster.fixture.ts';

test('EventRecorder: repeats of one message aggregate into one Event with a count, written at most once per interval', async () => {
  const writes: { verb: string; body: any }[] = [];
  const client = {
    create: async (_r: unknown, _ns: unknown, body: any) => { writes.push({ verb: 'create', body }); return body; },
    patch: async (_r: unknown, _ns: unknown, _n: unknown, _t: unknown, body: any) => { writes.push({ verb: 'patch', body }); return body; },
  } as unknown as Client;
  const rec = new EventRecorder(client, createLogger({ level: 'error' }), 50);
  const pod = makePod('p');
  for (let i = 0; i < 20; i++) rec.record(pod, 'Warning', 'FailedScheduling', 'same');
  await new Promise((r) => setTimeout(r, 120));
  assert.deepEqual(writes.map((w) => w.verb), ['create', 'patch']);
  assert.equal(writes[0].body.count, 1);
  assert.equal(writes[1].body.count, 20);
  rec.record(pod, 'Warning', 'FailedScheduling', 'different');
  await rec.close();
  assert.equal(writes.length, 3);
  assert.equal(writes[2].body.message, 'different');
});

test('EventRecorder: forget drops one pod\'s series (and its deferred write), leaving the others aggregating', async () => {
  const writes: { verb: string; body: any }[] = [];
  const client = {
    create: async (_r: unknown, _ns: unknown, body: any) => { writes.push({ verb: 'create', body }); return body; },
    patch: async (_r: unknown, _ns: unknown, name: unknown, _t: unknown, body: any) => { writes.push({ verb: 'patch', body: { ...body, name } }); return body; },
  } as unknown as Client;
  const rec = new EventRecorder(client, createLogger({ level: 'error' }), 50);
  const a = makePod('a');
  const b = makePod('b');
  for (const p of [a, b]) for (let i = 0; i < 3; i++) rec.record(p, 'Warning', 'FailedScheduling', 'same');
  rec.forget(a.metadata.uid!);
  await new Promise((r) => setTimeout(r, 120));
  // Two creates; one deferred patch, for b only (a's was cancelled).
  assert.deepEqual(writes.map((w) => w.verb), ['create', 'create', 'patch']);
  assert.match(writes[2].body.name, /^b\./);
  assert.equal(writes[2].body.count, 3);
  // After forget, a's next event starts a new series (a create, count 1), not a patch of the old one.
  rec.record(a, 'Warning', 'FailedScheduling', 'same');
  await rec.close();
  assert.equal(writes[3].verb, 'create');
  assert.equal(writes[3].body.count, 1);
});
