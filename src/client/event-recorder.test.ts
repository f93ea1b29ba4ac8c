import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apis/object.ts';
import { errors } from '../errors/index.ts';
import { createLogger } from '../util/log.ts';
import { EventRecorder, clientEventSink, type EventPatch, type EventSink } from './event-recorder.ts';
import type { Client } from './client.ts';

interface Write { verb: 'create' | 'patch'; namespace: string; name: string; body: any; at: number }

/** A sink that keeps what it was asked to write; `failPatch` / `failCreate` make it throw. */
function memorySink() {
  const writes: Write[] = [];
  const sink = {
    writes,
    failPatch: undefined as (() => Error) | undefined,
    failCreate: undefined as (() => Error) | undefined,
    /** Every write waits for this first (to hold writes in flight). */
    gate: Promise.resolve(),
    created: () => writes.filter((w) => w.verb === 'create'),
    patches: () => writes.filter((w) => w.verb === 'patch'),
    async create(namespace: string, event: KubeObject) {
      await sink.gate;
      if (sink.failCreate) throw sink.failCreate();
      writes.push({ verb: 'create', namespace, name: event.metadata.name!, body: event, at: Date.now() });
      return event;
    },
    async patch(namespace: string, name: string, patch: EventPatch) {
      await sink.gate;
      if (sink.failPatch) throw sink.failPatch();
      writes.push({ verb: 'patch', namespace, name, body: patch, at: Date.now() });
      return { metadata: { name } };
    },
  } satisfies EventSink & Record<string, unknown>;
  return sink;
}

const pod: KubeObject = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'web', namespace: 'ns1', uid: 'u1', resourceVersion: '7' },
  spec: { containers: [{ name: 'app' }] },
};
const podNamed = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'ns1', uid: `uid-${name}` } });
const kubelet = { component: 'kubelet', host: 'n1' };
const quiet = createLogger({ level: 'error' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Polls until `cond` holds; fails after 5 s instead of hanging. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 5000; !cond(); await sleep(10)) if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
}

test('an Event named <object>.<hex ns> with the involvedObject, the source and the reporting fields', async () => {
  const sink = memorySink();
  const rec = new EventRecorder({ sink, source: kubelet, now: () => new Date('2024-01-02T03:04:05.678Z') });
  await rec.event(pod, 'Normal', 'Pulled', 'Container image "x" already present', { fieldPath: 'spec.containers{app}' });
  const [w] = sink.writes;
  assert.equal(sink.writes.length, 1);
  assert.match(w.name, /^web\.[0-9a-f]+$/);
  assert.equal(w.namespace, 'ns1');
  const ev = w.body;
  assert.equal(ev.metadata.namespace, 'ns1');
  assert.deepEqual(ev.involvedObject, { kind: 'Pod', namespace: 'ns1', name: 'web', uid: 'u1', apiVersion: 'v1', resourceVersion: '7', fieldPath: 'spec.containers{app}' });
  assert.deepEqual(ev.source, { component: 'kubelet', host: 'n1' });
  assert.equal(ev.reportingComponent, 'kubelet');
  assert.equal(ev.reportingInstance, 'n1');
  assert.equal(ev.count, 1);
  assert.equal(ev.firstTimestamp, '2024-01-02T03:04:05Z');
  assert.equal(ev.lastTimestamp, '2024-01-02T03:04:05Z');
  assert.equal(ev.type, 'Normal');
  assert.equal(ev.reason, 'Pulled');
});

test('a controller source (no host) and a cluster-scoped object: event in default, no namespace in the reference', async () => {
  const sink = memorySink();
  const rec = new EventRecorder({ sink, source: { component: 'node-controller' } });
  const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', uid: 'nu' } };
  await rec.event(node, 'Normal', 'NodeNotReady', 'Node n1 status is now: NodeNotReady');
  const ev = sink.writes[0].body;
  assert.equal(sink.writes[0].namespace, 'default');
  assert.equal(ev.metadata.namespace, 'default');
  assert.deepEqual(ev.involvedObject, { kind: 'Node', name: 'n1', uid: 'nu', apiVersion: 'v1' });
  assert.deepEqual(ev.source, { component: 'node-controller' });
  assert.equal(ev.reportingComponent, 'node-controller');
  assert.equal('reportingInstance' in ev, false);
  // Two names made in the same millisecond still differ.
  await Promise.all([rec.event(node, 'Normal', 'A', 'm'), rec.event(node, 'Normal', 'B', 'm')]);
  assert.equal(new Set(sink.writes.map((w) => w.name)).size, 3);
});

test('repeats within the window patch count and lastTimestamp; another message or an expired window starts a new Event', async () => {
  const sink = memorySink();
  let now = new Date('2024-01-01T00:00:00Z');
  const rec = new EventRecorder({ sink, source: kubelet, now: () => now, windowMs: 60_000 });
  await rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
  now = new Date('2024-01-01T00:00:30Z');
  await rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
  // Two at once while nothing is in flight: serialised behind each other, never a second create.
  await Promise.all([rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container'), rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container')]);
  assert.equal(sink.created().length, 1);
  const patches = sink.patches();
  assert.ok(patches.length >= 2 && patches.length <= 3, `patches: ${patches.length}`);
  assert.equal(patches[0].body.count, 2);
  assert.equal(patches.at(-1)!.body.count, 4, 'the last write carries every repeat');
  assert.equal(patches.at(-1)!.name, sink.created()[0].name);
  assert.deepEqual(patches.at(-1)!.body, { count: 4, lastTimestamp: '2024-01-01T00:00:30Z', message: 'Back-off restarting failed container' });
  await rec.event(pod, 'Warning', 'BackOff', 'other message');
  assert.equal(sink.created().length, 2);
  // Another fieldPath, type or object is another series too.
  await rec.event(pod, 'Warning', 'BackOff', 'other message', { fieldPath: 'spec.containers{app}' });
  await rec.event(pod, 'Normal', 'BackOff', 'other message');
  await rec.event(podNamed('db'), 'Normal', 'BackOff', 'other message');
  assert.equal(sink.created().length, 5);
  now = new Date('2024-01-01T00:05:00Z');
  await rec.event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container');
  assert.equal(sink.created().length, 6);
  assert.equal(sink.created()[5].body.count, 1);
  assert.equal(sink.created()[5].body.firstTimestamp, '2024-01-01T00:05:00Z');
});

test('repeats seen while the create is still in flight are one more write, not a second Event', async () => {
  const sink = memorySink();
  let open!: () => void;
  sink.gate = new Promise<void>((r) => { open = r; });
  const rec = new EventRecorder({ sink, source: kubelet });
  const all = Array.from({ length: 5 }, () => rec.event(pod, 'Warning', 'Unhealthy', 'Readiness probe failed'));
  open();
  await Promise.all(all);
  assert.equal(sink.created().length, 1);
  const last = sink.writes.at(-1)!;
  assert.equal(last.body.count, 5);
  assert.ok(sink.writes.length <= 2, `writes: ${sink.writes.map((w) => w.verb)}`);
});

test('the series cache is an LRU bounded by maxEntries', async () => {
  const sink = memorySink();
  const rec = new EventRecorder({ sink, source: kubelet, maxEntries: 2 });
  await rec.event(pod, 'Normal', 'A', 'm');
  await rec.event(pod, 'Normal', 'B', 'm');
  await rec.event(pod, 'Normal', 'A', 'm'); // A is now the most recent
  await rec.event(pod, 'Normal', 'C', 'm'); // evicts B
  assert.equal(rec.size, 2);
  await rec.event(pod, 'Normal', 'A', 'm');
  assert.equal(sink.patches().length, 2, 'A still aggregates');
  await rec.event(pod, 'Normal', 'B', 'm');
  assert.deepEqual(sink.created().map((w) => w.body.reason), ['A', 'B', 'C', 'B'], 'B was forgotten: a new Event');
  assert.equal(rec.size, 2);
});

test('minWriteIntervalMs: the first occurrence is written at once, repeats at most once per interval with the running count', async () => {
  const sink = memorySink();
  const interval = 60;
  const rec = new EventRecorder({ sink, source: { component: 'default-scheduler' }, minWriteIntervalMs: interval, log: quiet });
  const p = podNamed('p');
  await rec.event(p, 'Warning', 'FailedScheduling', 'same');
  for (let i = 0; i < 19; i++) await rec.event(p, 'Warning', 'FailedScheduling', 'same');
  assert.deepEqual(sink.writes.map((w) => w.verb), ['create'], 'repeats are deferred, not written at once');
  assert.equal(sink.writes[0].body.count, 1);
  await until(() => sink.writes.length >= 2, 'the deferred patch');
  assert.deepEqual(sink.writes.map((w) => w.verb), ['create', 'patch']);
  assert.equal(sink.writes[1].body.count, 20);
  assert.ok(sink.writes[1].at - sink.writes[0].at >= interval - 1, 'no sooner than the interval');
  // More repeats: one more deferred write, again an interval after the last one.
  for (let i = 0; i < 5; i++) await rec.event(p, 'Warning', 'FailedScheduling', 'same');
  await until(() => sink.writes.length >= 3, 'the second deferred patch');
  assert.equal(sink.writes[2].body.count, 25);
  assert.ok(sink.writes[2].at - sink.writes[1].at >= interval - 1);
  // Another message is another series: created at once.
  await rec.event(p, 'Warning', 'FailedScheduling', 'different');
  assert.equal(sink.writes[3].verb, 'create');
  assert.equal(sink.writes[3].body.message, 'different');
  await rec.close();
  assert.equal(sink.writes.length, 4);
});

test('forget drops one object\'s series and its deferred write; the others keep aggregating', async () => {
  const sink = memorySink();
  const rec = new EventRecorder({ sink, source: { component: 'default-scheduler' }, minWriteIntervalMs: 50 });
  const a = podNamed('a');
  const b = podNamed('b');
  for (const p of [a, b]) await rec.event(p, 'Warning', 'FailedScheduling', 'same');
  for (const p of [a, b]) for (let i = 0; i < 2; i++) await rec.event(p, 'Warning', 'FailedScheduling', 'same');
  rec.forget(a.metadata.uid!);
  assert.equal(rec.size, 1);
  await until(() => sink.patches().length >= 1, 'b\'s deferred patch');
  await sleep(80);
  // Two creates; one deferred patch, for b only (a's was cancelled).
  assert.deepEqual(sink.writes.map((w) => w.verb), ['create', 'create', 'patch']);
  assert.match(sink.writes[2].name, /^b\./);
  assert.equal(sink.writes[2].body.count, 3);
  // After forget, a's next event starts a new series (a create, count 1), not a patch of the old one.
  await rec.event(a, 'Warning', 'FailedScheduling', 'same');
  await rec.close();
  assert.equal(sink.writes[3].verb, 'create');
  assert.match(sink.writes[3].name, /^a\./);
  assert.equal(sink.writes[3].body.count, 1);
});

test('recordOnce creates an Event and keeps no state', async () => {
  const sink = memorySink();
  const rec = new EventRecorder({ sink, source: { component: 'default-scheduler', instance: 'berth' } });
  await rec.recordOnce(pod, 'Normal', 'Scheduled', 'Successfully assigned ns1/web to n1');
  await rec.recordOnce(pod, 'Normal', 'Scheduled', 'Successfully assigned ns1/web to n1');
  assert.equal(rec.size, 0);
  assert.deepEqual(sink.writes.map((w) => w.verb), ['create', 'create']);
  const ev = sink.writes[0].body;
  assert.equal(ev.count, 1);
  assert.deepEqual(ev.source, { component: 'default-scheduler' });
  assert.equal(ev.reportingInstance, 'berth');
  assert.notEqual(sink.writes[0].name, sink.writes[1].name);
});

test('a 404 on the patch creates the Event again; other failures are logged at debug and never reject', async () => {
  const sink = memorySink();
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', format: 'json', write: (l) => lines.push(l) });
  const rec = new EventRecorder({ sink, source: kubelet, log });
  await rec.event(pod, 'Normal', 'A', 'm');
  sink.failPatch = () => errors.notFound('', 'events', 'gone');
  await rec.event(pod, 'Normal', 'A', 'm');
  assert.deepEqual(sink.writes.map((w) => w.verb), ['create', 'create']);
  assert.equal(sink.writes[1].name, sink.writes[0].name, 'the same series: the same name');
  assert.equal(sink.writes[1].body.count, 2);
  // A patch failing otherwise (the API down) does not create a duplicate.
  sink.failPatch = () => new Error('connection refused');
  await rec.event(pod, 'Normal', 'A', 'm');
  assert.equal(sink.writes.length, 2);
  sink.failCreate = () => new Error('api down');
  await rec.event(pod, 'Normal', 'D', 'm');
  await rec.recordOnce(pod, 'Normal', 'E', 'm');
  assert.equal(sink.writes.length, 2);
  const logged = lines.map((l) => JSON.parse(l));
  assert.deepEqual(logged.map((l) => [l.level, l.msg, l.reason]), [
    ['debug', 'event not updated', 'A'], ['debug', 'event not created', 'D'], ['debug', 'event not created', 'E'],
  ]);
  // Once the API answers again, the series' next repeat catches up with its count.
  sink.failPatch = undefined;
  await rec.event(pod, 'Normal', 'A', 'm');
  assert.equal(sink.writes.at(-1)!.body.count, 4);
});

test('close waits for writes in flight, cancels deferred ones, and drops later events', async () => {
  const sink = memorySink();
  let open!: () => void;
  const rec = new EventRecorder({ sink, source: { component: 'default-scheduler' }, minWriteIntervalMs: 30 });
  await rec.event(pod, 'Warning', 'FailedScheduling', 'm');
  await rec.event(pod, 'Warning', 'FailedScheduling', 'm'); // deferred
  sink.gate = new Promise<void>((r) => { open = r; });
  void rec.event(podNamed('other'), 'Warning', 'FailedScheduling', 'm'); // in flight, held by the gate
  let closed = false;
  const closing = rec.close().then(() => { closed = true; });
  await sleep(60);
  assert.equal(closed, false, 'close waits for the write in flight');
  open();
  await closing;
  assert.deepEqual(sink.writes.map((w) => [w.verb, w.name.split('.')[0]]), [['create', 'web'], ['create', 'other']]);
  await sleep(40);
  await rec.event(pod, 'Warning', 'FailedScheduling', 'new after close');
  await rec.recordOnce(pod, 'Normal', 'Scheduled', 'm');
  assert.equal(sink.writes.length, 2, 'the deferred patch was cancelled; nothing after close');
});

test('withSource shares the cache and writes with a recorder for another component', async () => {
  const sink = memorySink();
  const manager = new EventRecorder({ sink, source: { component: 'controller-manager' } });
  const rs = manager.withSource({ component: 'replicaset-controller' });
  const job = manager.withSource({ component: 'job-controller' });
  await rs.event(pod, 'Normal', 'SuccessfulCreate', 'Created pod: web');
  await job.event(pod, 'Normal', 'SuccessfulCreate', 'Created pod: web');
  await rs.event(pod, 'Normal', 'SuccessfulCreate', 'Created pod: web');
  assert.deepEqual(sink.writes.map((w) => [w.verb, w.verb === 'create' ? w.body.source.component : '']), [
    ['create', 'replicaset-controller'], ['create', 'job-controller'], ['patch', ''],
  ]);
  assert.equal(manager.size, 2);
  assert.equal(job.size, 2);
  await manager.close();
  await job.event(pod, 'Normal', 'Other', 'm');
  assert.equal(sink.writes.length, 3, 'closing the manager\'s recorder closes them all');
});

test('recordOnceMany: one createMany of the sink when it takes batches, else a create each; failures logged, never thrown', async () => {
  const other: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db', namespace: 'ns2', uid: 'u2' } };
  const items = [
    { obj: pod, type: 'Normal' as const, reason: 'Scheduled', message: 'Successfully assigned ns1/web to n1' },
    { obj: other, type: 'Normal' as const, reason: 'Scheduled', message: 'Successfully assigned ns2/db to n2' },
  ];
  const batches: KubeObject[][] = [];
  const batching = { ...memorySink(), createMany: async (events: KubeObject[]) => { batches.push(events); return [new Error('no'), undefined]; } };
  const r = new EventRecorder({ sink: batching, source: { component: 'default-scheduler' }, log: createLogger({ level: 'error' }) });
  assert.equal(r.batches, true);
  await r.recordOnceMany(items);
  assert.equal(batches.length, 1);
  assert.equal(batching.writes.length, 0, 'no single create');
  assert.deepEqual(batches[0]!.map((e) => [e.metadata.namespace, e.involvedObject.name, e.message, e.count]),
    [['ns1', 'web', 'Successfully assigned ns1/web to n1', 1], ['ns2', 'db', 'Successfully assigned ns2/db to n2', 1]]);
  assert.equal(r.size, 0, 'no series kept');
  // A sink whose whole batch fails (a closed port) does not reject either.
  const broken = { ...memorySink(), createMany: async () => { throw new Error('port closed'); } };
  await new EventRecorder({ sink: broken, source: { component: 'default-scheduler' } }).recordOnceMany(items);

  const plain = memorySink();
  const pr = new EventRecorder({ sink: plain, source: { component: 'default-scheduler' } });
  assert.equal(pr.batches, false);
  await pr.recordOnceMany(items);
  assert.deepEqual(plain.created().map((w) => [w.namespace, w.body.involvedObject.name]), [['ns1', 'web'], ['ns2', 'db']]);
});

test('clientEventSink batches through a client that has createMany (the PortClient), and only then', async () => {
  const calls: string[] = [];
  const base = {
    create: async (_r: unknown, _ns: string | undefined, obj: KubeObject) => { calls.push(`create ${obj.metadata.name}`); return obj; },
    patch: async () => ({}) as KubeObject,
  } as unknown as Client;
  const withMany = Object.assign(Object.create(base) as Client, {
    createMany: async (ref: { resource: string }, items: { namespace: string | undefined; object: KubeObject }[]) => {
      calls.push(`createMany ${ref.resource} ${items.map((i) => `${i.namespace}/${i.object.metadata.name}`).join(',')}`);
      return items.map(() => undefined);
    },
  });
  const ev: KubeObject = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e1', namespace: 'ns1' } };
  await clientEventSink(withMany).createMany!([ev]);
  assert.deepEqual(calls, ['createMany events ns1/e1']);
  assert.equal(clientEventSink(base).createMany, undefined);
});
