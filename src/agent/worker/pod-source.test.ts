/**
 * The pod source and the worker table: informer events reach the pod's worker (a new pod gets a new
 * one, scheduled), a pod recreated under its name ends the old worker, workers of pods deleted while
 * the node re-adopted go at start, and a worker leaves the table when it is done. Then the same
 * through the project's SharedInformer on a real API server, with the agent's field selector.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import type { InformerHandlers } from '../../client/controller-types.ts';
import { InformerFactory } from '../../client/informer-factory.ts';
import { startTestEnv, waitFor } from '../../controllers/control-plane.fixture.ts';
import { PodSource } from './pod-source.ts';
import { WorkerTable, type TableWorker } from './worker-table.ts';

const pod = (name: string, uid: string, rv = '1', images = ['img']): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid, resourceVersion: rv }, spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } }) as unknown as KubeObject;

/** A worker that records what it is told; `finish()` settles `done`. */
class FakeWorker implements TableWorker {
  readonly uid: string;
  readonly log: string[] = [];
  readonly done: Promise<void>;
  finish!: () => void;
  constructor(public pod: KubeObject) {
    this.uid = pod.metadata.uid!;
    this.done = new Promise((r) => (this.finish = r));
  }
  update(p: KubeObject) { this.pod = p; this.log.push(`update ${p.metadata.resourceVersion}`); }
  remove() { this.log.push('remove'); }
  schedule() { this.log.push('schedule'); }
  instance() { return undefined; }
  logPath() { return undefined; }
}

/** An informer whose cache and events the test drives (addHandlers replays the cache, as SharedInformer's). */
class ScriptedInformer {
  handlers: InformerHandlers[] = [];
  constructor(public cache: KubeObject[] = []) {}
  addHandlers(h: InformerHandlers) { this.handlers.push(h); for (const o of this.cache) h.add?.(o); }
  removeHandlers(h: InformerHandlers) { this.handlers = this.handlers.filter((x) => x !== h); }
  list() { return this.cache; }
  emit(kind: 'add' | 'update' | 'delete', a: KubeObject, b?: KubeObject) {
    for (const h of this.handlers) kind === 'update' ? h.update?.(a, b!) : h[kind]?.(a);
  }
}

test('events reach the pod\'s worker; a new pod gets a new, scheduled worker; a stopped source passes nothing on', () => {
  const inf = new ScriptedInformer();
  const table = new WorkerTable<FakeWorker>();
  const source = new PodSource(inf, table, (p) => new FakeWorker(p));
  source.start();
  inf.emit('add', pod('a', 'u1'));
  const w = table.get('u1')!;
  assert.deepEqual(w.log, ['schedule']);
  inf.emit('update', pod('a', 'u1'), pod('a', 'u1', '2'));
  inf.emit('delete', pod('a', 'u1', '2'));
  assert.deepEqual(w.log, ['schedule', 'update 2', 'remove']);
  source.stop();
  inf.emit('add', pod('b', 'u2'));
  inf.emit('delete', pod('a', 'u1', '2'));
  assert.equal(table.get('u2'), undefined);
  assert.deepEqual(w.log, ['schedule', 'update 2', 'remove']);
});

test('a pod recreated under its name (another uid) ends the old worker and starts one for the new pod', () => {
  const inf = new ScriptedInformer();
  const table = new WorkerTable<FakeWorker>();
  new PodSource(inf, table, (p) => new FakeWorker(p)).start();
  inf.emit('add', pod('a', 'u1'));
  inf.emit('update', pod('a', 'u1'), pod('a', 'u9', '5'));
  assert.deepEqual(table.get('u1')!.log, ['schedule', 'remove']);
  assert.deepEqual(table.get('u9')!.log, ['schedule']);
});

test('at start: re-adopted workers get their cached pod; those whose pod went meanwhile are removed', () => {
  const table = new WorkerTable<FakeWorker>();
  const kept = new FakeWorker(pod('a', 'u1'));
  const gone = new FakeWorker(pod('b', 'u2'));
  table.add(kept);
  table.add(gone);
  const inf = new ScriptedInformer([pod('a', 'u1', '3'), pod('c', 'u3')]);
  new PodSource(inf, table, (p) => new FakeWorker(p)).start();
  assert.deepEqual(kept.log, ['update 3']);
  assert.deepEqual(gone.log, ['remove']);
  assert.deepEqual(table.get('u3')!.log, ['schedule']);
});

test('the table: a done worker leaves it (not its successor under the uid); byName; images in use', async () => {
  const table = new WorkerTable<FakeWorker>();
  const a = new FakeWorker(pod('a', 'u1', '1', ['x', 'y']));
  table.add(a);
  table.add(new FakeWorker(pod('b', 'u2', '1', ['y'])));
  assert.equal(table.byName('default', 'b')?.uid, 'u2');
  assert.equal(table.byName('other', 'b'), undefined);
  assert.deepEqual(table.images().sort(), ['x', 'y', 'y']);
  a.finish();
  await a.done;
  await new Promise((r) => setImmediate(r));
  assert.equal(table.get('u1'), undefined);
  assert.equal(table.size, 1);
  const b2 = new FakeWorker(pod('b', 'u2', '2'));
  const b1 = table.get('u2')!;
  table.add(b2);
  b1.finish();
  await new Promise((r) => setImmediate(r));
  assert.equal(table.get('u2'), b2, 'an older worker finishing does not take its successor along');
});

test('through a SharedInformer on a real server: only pods bound to this node, deletes included', async () => {
  const env = await startTestEnv();
  const factory = new InformerFactory(env.client);
  try {
    const bound = (name: string, node: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: node, containers: [{ name: 'c', image: 'host' }] } });
    await env.client.create(R.pods, 'default', bound('before', 'n1'));
    await env.client.create(R.pods, 'default', bound('elsewhere', 'n2'));
    factory.start();
    const inf = factory.forResource(R.pods, { fieldSelector: 'spec.nodeName=n1' });
    await inf.synced();
    const table = new WorkerTable<FakeWorker>();
    new PodSource(inf, table, (p) => new FakeWorker(p)).start();
    assert.deepEqual([...table].map((w) => w.pod.metadata.name), ['before']);
    const after = await env.client.create(R.pods, 'default', bound('after', 'n1'));
    await waitFor(() => table.get(after.metadata.uid!) !== undefined, 'a worker for the new pod');
    await env.client.delete(R.pods, 'default', 'after', { gracePeriodSeconds: 0 });
    await waitFor(() => table.get(after.metadata.uid!)!.log.includes('remove'), 'the delete reaching its worker');
  } finally {
    factory.stop();
    await env.close();
  }
});
