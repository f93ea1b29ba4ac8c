import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { ApiError } from '../errors/index.ts';
import type { Backend, KeyValue } from '../storage/backend.ts';
import { openStore } from '../storage/index.ts';
import { WatchCache } from '../storage/watch-cache/watch-cache.ts';
import { resourceTypes } from './kinds/index.ts';
import { bindPod } from './pod-subresources.ts';
import { deleteObject } from './store-delete.ts';
import { patchObject } from './patch-object.ts';
import { Registry } from './registry.ts';
import type { ResourceStore } from './resource-store.ts';
import { decodeObject } from './object-codec.ts';
import { readCached } from './read-modify-write.ts';
import { decodedAt, watchResource, type ApiWatchEvent } from './store-watch.ts';

/**
 * A store behind a "cache" the test controls: `hold(key)` freezes what cachedGet answers for a key
 * at the store's current value, so later writes leave the cache stale. `gets` counts store reads.
 */
interface Harness { registry: Registry; cms: ResourceStore; pods: ResourceStore; hold(key: string): Promise<void>; gets(): number }

async function withHarness(fn: (h: Harness) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rmw-'));
  const inner = await openStore('sqlite', dir);
  const held = new Map<string, KeyValue>();
  let gets = 0;
  const backend = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'cachedGet') return (key: string) => held.get(key);
      if (prop === 'get') return (key: string, rev?: number) => { gets++; return target.get(key, rev); };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  }) as Backend;
  try {
    const registry = new Registry(backend, resourceTypes());
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    await fn({
      registry, cms: registry.store('', 'configmaps')!, pods: registry.store('', 'pods')!,
      hold: async (key) => { held.set(key, (await inner.get(key))!); },
      gets: () => gets,
    });
  } finally {
    await inner.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const cm = (data: Record<string, string>): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data });
const mergePatch = (store: ResourceStore, patch: unknown) => (current: KubeObject) => patchObject(current, 'application/merge-patch+json', patch, 'v1', store.type.info.kind);

async function refused(p: Promise<unknown>): Promise<ApiError> {
  try { await p; } catch (err) { if (err instanceof ApiError) return err; throw err; }
  assert.fail('the write was not refused');
}

test('a patch on a key the cache holds current reads nothing from the store', async () => {
  await withHarness(async ({ cms, hold, gets }) => {
    await cms.create('a', cm({ a: '1' }));
    await hold(cms.key('a', 'c'));
    const before = gets();
    const out = await cms.guaranteedUpdate('a', 'c', mergePatch(cms, { data: { b: '2' } }), { pure: true });
    assert.deepEqual(out.data, { a: '1', b: '2' });
    assert.equal(gets(), before, 'the cached value was the start');
    assert.deepEqual((await cms.get('a', 'c')).data, { a: '1', b: '2' });
  });
});

test('a stale cached value costs one re-read from the store, never a lost update', async () => {
  await withHarness(async ({ cms, hold, gets }) => {
    await cms.create('a', cm({ a: '1' }));
    await hold(cms.key('a', 'c'));
    await cms.update('a', 'c', cm({ a: '1', b: '2' }));
    const before = gets();
    const out = await cms.guaranteedUpdate('a', 'c', mergePatch(cms, { data: { c: '3' } }), { pure: true });
    assert.deepEqual(out.data, { a: '1', b: '2', c: '3' }, 'the write the cache had not seen is kept');
    assert.equal(gets() - before, 1);
    assert.deepEqual((await cms.get('a', 'c')).data, { a: '1', b: '2', c: '3' });
  });
});

test('a patch that changes nothing on the stale value is checked against the store, and written when it does change it', async () => {
  await withHarness(async ({ cms, hold }) => {
    await cms.create('a', cm({ a: '1' }));
    await hold(cms.key('a', 'c'));
    const moved = await cms.update('a', 'c', cm({ a: '2' }));
    const out = await cms.guaranteedUpdate('a', 'c', mergePatch(cms, { data: { a: '1' } }), { pure: true });
    assert.deepEqual(out.data, { a: '1' });
    assert.ok(Number(out.metadata.resourceVersion) > Number(moved.metadata.resourceVersion), 'written, not answered as a no-op');
    assert.deepEqual((await cms.get('a', 'c')).data, { a: '1' });
    // And a real no-op on a current cached value is still one.
    await hold(cms.key('a', 'c'));
    const same = await cms.guaranteedUpdate('a', 'c', mergePatch(cms, { data: { a: '1' } }), { pure: true });
    assert.equal(same.metadata.resourceVersion, out.metadata.resourceVersion);
  });
});

test('preconditions are answered by the store\'s value, not the cache\'s', async () => {
  await withHarness(async ({ cms, hold }) => {
    const first = await cms.create('a', cm({ a: '1' }));
    await hold(cms.key('a', 'c'));
    const second = await cms.update('a', 'c', cm({ a: '2' }));
    // PUT with the store's current resourceVersion: the stale cache must not make it a 409.
    const put = await cms.update('a', 'c', { ...cm({ a: '3' }), metadata: { name: 'c', resourceVersion: second.metadata.resourceVersion } });
    assert.deepEqual(put.data, { a: '3' });
    // A patch naming the cached (old) resourceVersion is a 409: the store has moved on.
    const e = await refused(cms.guaranteedUpdate('a', 'c', mergePatch(cms, { metadata: { resourceVersion: first.metadata.resourceVersion }, data: { a: '4' } }), { pure: true }));
    assert.equal(e.http, 409);
    // The precondition option, the same.
    const ok = await cms.guaranteedUpdate('a', 'c', mergePatch(cms, { data: { a: '5' } }), { pure: true, precondition: put.metadata.resourceVersion });
    assert.deepEqual(ok.data, { a: '5' });
    assert.deepEqual((await cms.get('a', 'c')).data, { a: '5' });
  });
});

test('an object the store deleted while the cache still holds it is a 404', async () => {
  await withHarness(async ({ cms, hold }) => {
    await cms.create('a', cm({ a: '1' }));
    await hold(cms.key('a', 'c'));
    await cms.backend.delete(cms.key('a', 'c'));
    assert.equal((await refused(cms.guaranteedUpdate('a', 'c', mergePatch(cms, { data: { b: '2' } }), { pure: true }))).http, 404);
    assert.equal((await refused(cms.update('a', 'c', cm({ b: '2' })))).http, 404);
  });
});

const pod = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'host' }] } });
const binding = (name: string, node: string, uid?: string): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Binding', metadata: { name, ...(uid ? { uid } : {}) }, target: { kind: 'Node', name: node } });

test('a binding on a stale cached pod: the store\'s pod decides (recreated: its uid; bound meanwhile: 409)', async () => {
  await withHarness(async ({ pods, hold, gets }) => {
    const old = await pods.create('a', pod('p'));
    await hold(pods.key('a', 'p'));
    // Cached and current: no store read at all.
    await pods.create('a', pod('q'));
    await hold(pods.key('a', 'q'));
    const before = gets();
    await bindPod(pods, 'a', 'q', binding('q', 'n1'));
    assert.equal(gets(), before);
    // Deleted and created again under another uid; the cache still has the old one.
    await pods.backend.delete(pods.key('a', 'p'));
    const fresh = await pods.create('a', pod('p'));
    assert.notEqual(fresh.metadata.uid, old.metadata.uid);
    const e = await refused(bindPod(pods, 'a', 'p', binding('p', 'n1', old.metadata.uid)));
    assert.equal(e.http, 409);
    assert.match(e.message, new RegExp(`UID in object meta: ${fresh.metadata.uid}`), 'the store\'s uid, not the cached one');
    await bindPod(pods, 'a', 'p', binding('p', 'n1', fresh.metadata.uid));
    assert.equal((await pods.get('a', 'p')).spec.nodeName, 'n1');
  });
});

test('a binding whose cached pod is unbound but the store\'s is bound is a 409', async () => {
  await withHarness(async ({ pods, hold }) => {
    await pods.create('a', pod('p'));
    await hold(pods.key('a', 'p'));
    await bindPod(pods, 'a', 'p', binding('p', 'n1'));
    const e = await refused(bindPod(pods, 'a', 'p', binding('p', 'n2')));
    assert.equal(e.http, 409);
    assert.match(e.message, /already assigned to node "n1"/);
    assert.equal((await pods.get('a', 'p')).spec.nodeName, 'n1');
  });
});

test('with the real watch cache in front: concurrent patches of one key all land', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-rmw-'));
  const cache = new WatchCache(await openStore('sqlite', dir));
  try {
    await cache.whenReady();
    const registry = new Registry(cache, resourceTypes());
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    const cms = registry.store('', 'configmaps')!;
    await cms.create('a', cm({}));
    // 12 writers at once on one key (each round of conflicts lets one through; 20 attempts each): most
    // start from a cached value a sibling has just moved past.
    await Promise.all(Array.from({ length: 12 }, (_, i) => cms.guaranteedUpdate('a', 'c', mergePatch(cms, { data: { [`k${i}`]: String(i) } }), { pure: true })));
    const data = (await cms.get('a', 'c')).data;
    assert.equal(Object.keys(data).length, 12, 'no update lost');
  } finally {
    await cache.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('deletes start from the cache too: the store\'s object answers the preconditions, and a stale one is never removed blindly', async () => {
  await withHarness(async ({ pods, cms, hold, gets }) => {
    // Current in the cache: no store read.
    await cms.create('a', cm({ a: '1' }));
    await hold(cms.key('a', 'c'));
    const before = gets();
    assert.equal((await deleteObject(cms, 'a', 'c')).deleted, true);
    assert.equal(gets(), before);
    // Recreated under another uid while the cache kept the old one: the uid precondition is the store's.
    const old = await pods.create('a', pod('p'));
    await hold(pods.key('a', 'p'));
    await pods.backend.delete(pods.key('a', 'p'));
    const fresh = await pods.create('a', pod('p'));
    const e = await refused(deleteObject(pods, 'a', 'p', { preconditions: { uid: old.metadata.uid } }));
    assert.equal(e.http, 409);
    assert.match(e.message, new RegExp(`UID in object meta: ${fresh.metadata.uid}`));
    assert.equal((await deleteObject(pods, 'a', 'p', { preconditions: { uid: fresh.metadata.uid } })).deleted, true);
  });
});

test('a graceful delete on a stale cached pod keeps the deletionTimestamp the store already has', async () => {
  await withHarness(async ({ pods, hold }) => {
    await pods.create('a', { ...pod('g'), spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'host' }] } });
    await hold(pods.key('a', 'g'));
    const first = await deleteObject(pods, 'a', 'g', { gracePeriodSeconds: 30 });
    assert.equal(first.deleted, false);
    // The cache still has the pod before its deletion: the same delete again changes nothing.
    const again = await deleteObject(pods, 'a', 'g', { gracePeriodSeconds: 30 });
    assert.equal(again.obj.metadata.deletionTimestamp, first.obj.metadata.deletionTimestamp);
    assert.equal((await pods.get('a', 'g')).metadata.resourceVersion, first.obj.metadata.resourceVersion, 'not written again');
  });
});

test('a cached start is a fresh copy of the object the key\'s watch event carried: equal to a decode, never the watchers\' own', async () => {
  await withHarness(async ({ cms, hold }) => {
    const events: ApiWatchEvent[] = [];
    const w = await watchResource(cms, 'a', { resourceVersion: String(await cms.backend.currentRevision()) }, (e) => events.push(e), () => {});
    try {
      await cms.create('a', cm({ a: '1' }));
      await new Promise((r) => setImmediate(r));
      await hold(cms.key('a', 'c'));
      const kv = cms.backend.cachedGet!(cms.key('a', 'c'))!;
      assert.ok(decodedAt(kv), 'the watch event carried this value');
      const state = readCached(cms, 'a', 'c')!;
      assert.deepStrictEqual(state.obj, decodeObject(kv));
      assert.notEqual(state.obj, events[0].object);
      state.obj.data.a = 'changed';
      assert.equal((events[0].object as KubeObject).data.a, '1', 'the watchers\' object is untouched');
      // The store moved on: the cached (stale) value is still the one copied, and the write re-reads.
      await cms.guaranteedUpdate('a', 'c', mergePatch(cms, { data: { b: '2' } }), { pure: true });
      await new Promise((r) => setImmediate(r));
      assert.deepStrictEqual(readCached(cms, 'a', 'c')!.obj, decodeObject(kv));
      const out = await cms.guaranteedUpdate('a', 'c', mergePatch(cms, { data: { c: '3' } }), { pure: true });
      assert.deepEqual(out.data, { a: '1', b: '2', c: '3' });
    } finally {
      w.close();
    }
  });
});

test('a binding from the cached pod copies only what it changes: the watchers\' pod is untouched, the bound pod equals a decode', async () => {
  await withHarness(async ({ pods, hold, gets }) => {
    const events: ApiWatchEvent[] = [];
    const w = await watchResource(pods, 'a', { resourceVersion: String(await pods.backend.currentRevision()) }, (e) => events.push(e), () => {});
    try {
      await pods.create('a', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'b', annotations: { keep: 'me' } }, spec: { containers: [{ name: 'c', image: 'host' }] } });
      await pods.guaranteedUpdate('a', 'b', (p) => {
        p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }, { type: 'Other', status: 'True' }] };
        return p;
      }, { subresource: 'status', fieldManager: 'sched' });
      await new Promise((r) => setImmediate(r));
      await hold(pods.key('a', 'b'));
      const kv = pods.backend.cachedGet!(pods.key('a', 'b'))!;
      assert.ok(decodedAt(kv), 'the watch event carried this value');
      const shared = events.at(-1)!.object as KubeObject;
      const seen = events.length;
      const before = JSON.stringify(shared);
      const reads = gets();
      await bindPod(pods, 'a', 'b', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'b', annotations: { added: 'yes' } }, target: { kind: 'Node', name: 'n1' } });
      assert.equal(gets(), reads, 'started from the cache: no store read');
      assert.equal(JSON.stringify(shared), before, 'the shared pod (and its conditions, spec, annotations) is not changed');
      await new Promise((r) => setImmediate(r));
      assert.equal(events.length, seen + 1);
      const bound = events.at(-1)!.object as KubeObject;
      assert.deepStrictEqual(bound, decodeObject((await pods.read('a', 'b')).kv), 'the watchers get what a decode of the stored pod gives');
      assert.equal(bound.spec.nodeName, 'n1');
      assert.deepEqual(bound.metadata.annotations, { keep: 'me', added: 'yes' });
      assert.deepEqual(bound.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`), ['PodScheduled=True', 'Other=True']);
    } finally {
      w.close();
    }
  });
});
