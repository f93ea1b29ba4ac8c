import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { openStore } from '../storage/index.ts';
import { resourceTypes } from './kinds/index.ts';
import { decodeObject, encodeObject } from './object-codec.ts';
import { bindPod } from './pod-subresources.ts';
import { Registry } from './registry.ts';
import type { ResourceStore } from './resource-store.ts';
import { makeFilter } from './object-filter.ts';
import { decodedAt, offerWritten, watchResource, withdrawWritten, type ApiWatchEvent } from './store-watch.ts';

async function withPods(fn: (pods: ResourceStore, events: ApiWatchEvent[]) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-store-watch-'));
  const backend = await openStore('sqlite', dir);
  try {
    const registry = new Registry(backend, resourceTypes());
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    const pods = registry.store('', 'pods')!;
    const events: ApiWatchEvent[] = [];
    const w = await watchResource(pods, 'a', { resourceVersion: String(await backend.currentRevision()) }, (e) => events.push(e), () => {});
    try {
      await fn(pods, events);
    } finally {
      w.close();
    }
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'a', uid: `uid-${name}`, ...extra }, spec: { containers: [{ name: 'c', image: 'host' }] } });

test('the watch event of a write adopts the object the write offered when the stored bytes are the same', async () => {
  await withPods(async (pods, events) => {
    const obj = pod('p');
    const value = encodeObject(obj);
    offerWritten(pods.key('a', 'p'), value, obj);
    const rev = await pods.backend.create(pods.key('a', 'p'), value);
    await new Promise((r) => setImmediate(r));
    assert.equal(events.length, 1);
    assert.equal(events[0].object, obj, 'no second decode');
    assert.equal(obj.metadata.resourceVersion, String(rev), 'with the event\'s resourceVersion');
    // The stored bytes with resourceVersion spliced in (first in metadata: object-codec.ts).
    assert.deepStrictEqual(JSON.parse(events[0].raw!), decodeObject((await pods.backend.get(pods.key('a', 'p')))!));
    assert.equal(events[0].raw!.length, JSON.stringify(obj).length);
  });
});

test('an offer whose bytes were not the ones stored (the write lost, or another overtook it) is never taken', async () => {
  await withPods(async (pods, events) => {
    const offered = pod('q', { labels: { from: 'offer' } });
    offerWritten(pods.key('a', 'q'), encodeObject(offered), offered);
    await pods.backend.create(pods.key('a', 'q'), encodeObject(pod('q', { labels: { from: 'store' } })));
    await new Promise((r) => setImmediate(r));
    assert.equal(events.length, 1);
    assert.notEqual(events[0].object, offered);
    assert.deepEqual((events[0].object as KubeObject).metadata.labels, { from: 'store' });
  });
});

test('a binding\'s pod reaches watchers as the stored JSON decodes, once, and is not the one the next binding builds', async () => {
  await withPods(async (pods, events) => {
    await pods.create('a', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b' }, spec: { containers: [{ name: 'c', image: 'host' }] } });
    await bindPod(pods, 'a', 'b', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b', annotations: { k: 'v' } }, target: { kind: 'Node', name: 'n1' } });
    await new Promise((r) => setImmediate(r));
    const bound = events.at(-1)!;
    assert.equal(bound.type, 'MODIFIED');
    const stored = decodeObject((await pods.backend.get(pods.key('a', 'b')))!);
    // Exactly what a decode of the stored value gives (no key a JSON round trip would drop or change).
    assert.deepStrictEqual(bound.object, stored);
    assert.deepStrictEqual(JSON.parse(JSON.stringify(bound.object)), bound.object);
  });
});

test('a filtered watch judges an update by the key\'s last event object, exactly as by decoding the previous value', async () => {
  await withPods(async (pods) => {
    const events: ApiWatchEvent[] = [];
    const filter = makeFilter(pods.type, undefined, 'spec.nodeName!=');
    const w = await watchResource(pods, 'a', { filter, resourceVersion: String(await pods.backend.currentRevision()) }, (e) => events.push(e), () => {});
    try {
      await pods.create('a', pod('f'));
      await new Promise((r) => setImmediate(r));
      assert.equal(events.length, 0, 'pending: not in the filtered watch');
      await bindPod(pods, 'a', 'f', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'f' }, target: { kind: 'Node', name: 'n1' } });
      await new Promise((r) => setImmediate(r));
      await pods.guaranteedUpdate('a', 'f', (cur) => ({ ...cur, status: { ...cur.status, phase: 'Running' } }), { subresource: 'status' });
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED'], 'bound: ADDED; a status write of the bound pod: MODIFIED');
      // What the event carried for the stored value is what a decode gives; another revision or other bytes get nothing.
      const kv = (await pods.backend.get(pods.key('a', 'f')))!;
      assert.deepStrictEqual(decodedAt(kv), decodeObject(kv));
      assert.equal(decodedAt({ ...kv, modRevision: kv.modRevision - 1 }), undefined);
      assert.equal(decodedAt({ ...kv, value: kv.value.replace('Running', 'Pending') }), undefined, 'another store\'s value under the same key and revision');
    } finally {
      w.close();
    }
  });
});

test('a handed-over write (the HTTP handlers\') reaches watchers as the object it returned, exactly what a decode gives; others are decoded', async () => {
  await withPods(async (pods, events) => {
    const created = await pods.create('a', pod('h', { labels: { a: '1' } }), { handOver: true, fieldManager: 'kubectl' });
    await new Promise((r) => setImmediate(r));
    assert.equal(events.at(-1)!.object, created, 'the create\'s event carries the created object');
    const patched = await pods.guaranteedUpdate('a', 'h', (cur) => ({ ...cur, status: { phase: 'Running', podIP: '10.0.0.1' } }), { subresource: 'status', handOver: true, fieldManager: 'kubelet' });
    await new Promise((r) => setImmediate(r));
    const ev = events.at(-1)!;
    assert.equal(ev.object, patched, 'the status patch\'s event carries the patched object');
    const stored = decodeObject((await pods.backend.get(pods.key('a', 'h')))!);
    assert.deepStrictEqual(ev.object, stored);
    assert.deepStrictEqual(JSON.parse(ev.raw!), stored);
    assert.equal(ev.raw!.length, JSON.stringify(stored).length);
    // In-process writes may change what they get back: decoded for the watchers.
    const inProcess = await pods.guaranteedUpdate('a', 'h', (cur) => ({ ...cur, status: { ...cur.status, podIP: '10.0.0.2' } }), { subresource: 'status' });
    await new Promise((r) => setImmediate(r));
    assert.notEqual(events.at(-1)!.object, inProcess);
    assert.deepStrictEqual(events.at(-1)!.object, inProcess);
    // A value a JSON round trip would not give back (a key set to undefined): decoded, so watchers never see it.
    const odd = await pods.guaranteedUpdate('a', 'h', (cur) => ({ ...cur, status: { ...cur.status, podIP: '10.0.0.3', message: undefined } }), { subresource: 'status', handOver: true });
    await new Promise((r) => setImmediate(r));
    assert.notEqual(events.at(-1)!.object, odd);
    assert.equal(Object.hasOwn((events.at(-1)!.object as KubeObject).status, 'message'), false);
    // A dry run stores nothing and offers nothing.
    await pods.guaranteedUpdate('a', 'h', (cur) => ({ ...cur, status: { ...cur.status, podIP: '10.0.0.4' } }), { subresource: 'status', handOver: true, dryRun: true });
    await new Promise((r) => setImmediate(r));
    assert.equal((events.at(-1)!.object as KubeObject).status.podIP, '10.0.0.3');
  });
});

test('a burst of writes in flight at once (more than a commit group) reaches watchers as the objects offered, none parsed again', async () => {
  await withPods(async (pods, events) => {
    // As 1,024 bindings from the scheduler thread plus HTTP writes: every offer made before any event is published.
    const objs = Array.from({ length: 1500 }, (_, i) => pod(`x${i}`));
    const values = objs.map((o) => encodeObject(o));
    objs.forEach((o, i) => offerWritten(pods.key('a', `x${i}`), values[i]!, o));
    await Promise.all(objs.map((_, i) => pods.backend.create(pods.key('a', `x${i}`), values[i]!)));
    await new Promise((r) => setImmediate(r));
    assert.equal(events.length, objs.length);
    assert.equal(events.filter((e, i) => e.object === objs[i]).length, objs.length, 'every one adopted');
  });
});

test('a failed write withdraws its offer; a withdrawal of other bytes leaves the offer there', async () => {
  await withPods(async (pods, events) => {
    const first = pod('w1');
    const v1 = encodeObject(first);
    offerWritten(pods.key('a', 'w1'), v1, first);
    withdrawWritten(pods.key('a', 'w1'), v1);
    await pods.backend.create(pods.key('a', 'w1'), v1);
    const second = pod('w2');
    const v2 = encodeObject(second);
    offerWritten(pods.key('a', 'w2'), v2, second);
    withdrawWritten(pods.key('a', 'w2'), encodeObject(pod('w2', { labels: { other: 'write' } })));
    await pods.backend.create(pods.key('a', 'w2'), v2);
    await new Promise((r) => setImmediate(r));
    assert.equal(events.length, 2);
    assert.notEqual(events[0]!.object, first, 'withdrawn: decoded');
    assert.deepEqual((events[0]!.object as KubeObject).metadata.name, 'w1');
    assert.equal(events[1]!.object, second, 'still offered: adopted');
  });
});
