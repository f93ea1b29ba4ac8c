import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackendSuite } from '../backend.case.ts';
import { CompactedError, type Backend, type ListOptions, type ListResult } from '../backend.ts';
import { openSqliteBackend } from '../sqlite/index.ts';
import { openEtcdBackend } from '../etcd/index.ts';
import { startEtcd } from '../../../test/support/etcd.ts';
import { WatchCache } from './watch-cache.ts';

/** Records the lists that reach the store behind the cache. */
function countingLists(inner: Backend): { backend: Backend; lists: Array<{ prefix: string; options?: ListOptions }> } {
  const lists: Array<{ prefix: string; options?: ListOptions }> = [];
  const backend = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'list') return (prefix: string, options?: ListOptions): Promise<ListResult> => { lists.push({ prefix, options }); return target.list(prefix, options); };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { backend, lists };
}

let servedFromCache = 0;
runBackendSuite('watch cache in front of sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-watch-cache-'));
  const cache = new WatchCache(openSqliteBackend(join(dir, 'state.db'), { progressIntervalMs: 200 }));
  await cache.whenReady();
  return { backend: cache, cleanup: async () => { servedFromCache += cache.stats.listsFromCache; await cache.close(); rmSync(dir, { recursive: true, force: true }); } };
});

runBackendSuite('watch cache in front of etcd', async () => {
  const etcd = await startEtcd();
  const cache = new WatchCache(await openEtcdBackend([etcd.endpoint], { progressIntervalMs: 200 }));
  await cache.whenReady();
  // Behind etcd a page the cache cannot serve comes with etcd's count: either way it is known.
  return { backend: cache, countsRemaining: true, cleanup: async () => { servedFromCache += cache.stats.listsFromCache; await cache.close(); await etcd.stop(); } };
});

describe('watch cache', () => {
  let dir: string;
  let lists: Array<{ prefix: string; options?: ListOptions }>;
  let cache: WatchCache;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-watch-cache-'));
    const counted = countingLists(openSqliteBackend(join(dir, 'state.db'), { progressIntervalMs: 200 }));
    lists = counted.lists;
    // Written before the cache exists: the initial list must bring them in.
    for (let i = 0; i < 5; i++) await counted.backend.create(`/registry/core/pods/a/p${i}`, `v${i}`);
    cache = new WatchCache(counted.backend, { loadChunk: 2 });
    await cache.whenReady();
  });
  after(async () => { await cache.close(); rmSync(dir, { recursive: true, force: true }); });

  it('the backend suites above were answered from memory, not passed through', () => {
    assert.ok(servedFromCache > 10, `only ${servedFromCache} lists came from the cache`);
  });

  it('loads in chunks at one revision, then answers latest lists without reading the store', async () => {
    assert.equal(cache.size, 5);
    const loadReads = lists.length;
    assert.equal(loadReads, 3, 'five keys in chunks of two');
    await cache.create('/registry/core/pods/b/q', 'new');
    const res = await cache.list('/registry/core/pods/');
    assert.deepEqual(res.items.map((kv) => kv.value), ['v0', 'v1', 'v2', 'v3', 'v4', 'new']);
    assert.equal(res.revision, await cache.currentRevision());
    assert.deepEqual((await cache.list('/registry/core/pods/b/')).items.map((kv) => kv.key), ['/registry/core/pods/b/q']);
    assert.equal(await cache.count('/registry/core/pods/a/'), 5);
    assert.equal(lists.length, loadReads, 'no list reached the store');
  });

  it('pages a limited list from its snapshot, consistent while writes go on', async () => {
    const before = lists.length;
    const first = await cache.list('/registry/core/pods/a/', { limit: 2 });
    assert.equal(first.more, true);
    // Writes after the first page must not show in the later pages at its revision.
    await cache.delete('/registry/core/pods/a/p3');
    await cache.create('/registry/core/pods/a/p9', 'late');
    const seen = first.items.map((kv) => kv.key);
    let page = first;
    while (page.more) {
      page = await cache.list('/registry/core/pods/a/', { revision: first.revision, after: seen[seen.length - 1], limit: 2 });
      assert.equal(page.revision, first.revision);
      seen.push(...page.items.map((kv) => kv.key));
    }
    assert.deepEqual(seen, [0, 1, 2, 3, 4].map((i) => `/registry/core/pods/a/p${i}`));
    assert.equal(lists.length, before, 'no page reached the store');
    const now = await cache.list('/registry/core/pods/a/');
    assert.deepEqual(now.items.map((kv) => kv.key), [0, 1, 2, 4, 9].map((i) => `/registry/core/pods/a/p${i}`));
  });

  it('a past revision it holds no snapshot of goes to the store, which keeps history', async () => {
    const r = await cache.create('/registry/core/pods/c/x', 'one');
    await cache.update('/registry/core/pods/c/x', 'two', r);
    const before = lists.length;
    const old = await cache.list('/registry/core/pods/c/', { revision: r });
    assert.deepEqual(old.items.map((kv) => kv.value), ['one']);
    assert.equal(lists.length, before + 1);
  });

  it('below the compacted revision fails with CompactedError even when a snapshot was kept', async () => {
    const page = await cache.list('/registry/core/pods/a/', { limit: 1 });
    await cache.update('/registry/core/pods/a/p0', 'again', page.items[0].modRevision);
    await cache.compact(await cache.currentRevision());
    await assert.rejects(cache.list('/registry/core/pods/a/', { revision: page.revision, after: page.items[0].key, limit: 1 }), CompactedError);
  });

  it('leaves Events to the store', async () => {
    await cache.create('/registry/core/events/a/e1', 'ev');
    const before = lists.length;
    assert.deepEqual((await cache.list('/registry/core/events/a/')).items.map((kv) => kv.value), ['ev']);
    assert.equal(lists.length, before + 1);
    // A list spanning Events cannot come from a cache without them.
    await cache.list('/registry/core/');
    assert.equal(lists.length, before + 2);
  });

  it('cachedGet: the value its watch last delivered, for a read-modify-write; none for Events or unknown keys', async () => {
    const r = await cache.create('/registry/core/pods/e/x', 'one');
    // Writes are published before they are acknowledged: the cache has each one when its write returns.
    assert.deepEqual(cache.cachedGet('/registry/core/pods/e/x'), { key: '/registry/core/pods/e/x', value: 'one', createRevision: r, modRevision: r });
    const r2 = await cache.update('/registry/core/pods/e/x', 'two', r);
    assert.equal(cache.cachedGet('/registry/core/pods/e/x')?.modRevision, r2);
    await cache.delete('/registry/core/pods/e/x');
    assert.equal(cache.cachedGet('/registry/core/pods/e/x'), undefined);
    await cache.create('/registry/core/events/e/ev', 'ev');
    assert.equal(cache.cachedGet('/registry/core/events/e/ev'), undefined, 'Events are not cached');
  });

  it('hands a consistent read to the store when the cache cannot catch up in time', async () => {
    // A second writer on the same file: this cache hears it only at the next poll, not in 50 ms.
    const other = openSqliteBackend(join(dir, 'state.db'));
    const slow = new WatchCache(openSqliteBackend(join(dir, 'state.db'), { progressIntervalMs: 60_000 }), { freshnessTimeoutMs: 50 });
    try {
      await slow.whenReady();
      await other.create('/registry/core/pods/d/from-elsewhere', 'x');
      const res = await slow.list('/registry/core/pods/d/');
      assert.deepEqual(res.items.map((kv) => kv.value), ['x'], 'the store answered with the write');
      assert.equal(slow.stats.consistentFallbacks, 1);
    } finally {
      await slow.close();
      await other.close();
    }
  });
});
