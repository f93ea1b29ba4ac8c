/**
 * The list semantics of resourceVersion / resourceVersionMatch (Kubernetes' "Resource versions"
 * table) through the registry's list with the watch cache in front of SQLite: which lists the cache
 * answers and which reach the store, and what clients see either way.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Backend, ListOptions, ListResult } from '../backend.ts';
import { openSqliteBackend } from '../sqlite/index.ts';
import { Registry } from '../../registry/registry.ts';
import { resourceTypes } from '../../registry/kinds/index.ts';
import type { ResourceStore } from '../../registry/resource-store.ts';
import { ApiError } from '../../errors/index.ts';
import type { KubeObject } from '../../apis/object.ts';
import { WatchCache } from './watch-cache.ts';

let dir: string;
let cache: WatchCache;
let storeLists = 0;
let configmaps: ResourceStore;

function counting(inner: Backend): Backend {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'list') return (prefix: string, options?: ListOptions): Promise<ListResult> => { storeLists++; return target.list(prefix, options); };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

/** Store lists made by `fn`. */
async function storeListsOf<T>(fn: () => Promise<T>): Promise<{ value: T; reads: number }> {
  const before = storeLists;
  const value = await fn();
  return { value, reads: storeLists - before };
}

const names = (items: KubeObject[]) => items.map((o) => o.metadata.name);

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-rv-'));
  cache = new WatchCache(counting(openSqliteBackend(join(dir, 'state.db'))));
  await cache.whenReady();
  const registry = new Registry(cache, resourceTypes());
  for (const name of ['default', 'other']) await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  configmaps = registry.store('', 'configmaps')!;
  for (let i = 0; i < 12; i++) {
    await configmaps.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${String(i).padStart(2, '0')}`, labels: { even: String(i % 2 === 0) } } });
  }
});
after(async () => { await cache.close(); rmSync(dir, { recursive: true, force: true }); });

describe('list resourceVersion semantics with the watch cache', () => {
  it('RV unset (consistent), RV=0 and NotOlderThan come from memory and include every acknowledged write', async () => {
    const made = await configmaps.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-new' } });
    for (const opts of [{}, { resourceVersion: '0' }, { resourceVersion: made.metadata.resourceVersion, resourceVersionMatch: 'NotOlderThan' }, { resourceVersion: made.metadata.resourceVersion }]) {
      const { value, reads } = await storeListsOf(() => configmaps.list('default', opts));
      assert.equal(reads, 0, `${JSON.stringify(opts)} read the store`);
      assert.ok(names(value.items).includes('cm-new'), JSON.stringify(opts));
      assert.ok(Number(value.resourceVersion) >= Number(made.metadata.resourceVersion));
    }
    await configmaps.remove('default', 'cm-new', Number(made.metadata.resourceVersion));
  });

  it('limit/continue within one store chunk: the later pages are Exact reads, answered by the store at the same resourceVersion', async () => {
    const { value: first, reads } = await storeListsOf(() => configmaps.list('default', { limit: 5 }));
    assert.equal(reads, 0);
    assert.equal(first.items.length, 5);
    // Pages of 5 read the store in chunks of 100: the first chunk holds all 12, so the cache keeps
    // no snapshot, and the pages after the first are Exact reads that the store answers.
    await configmaps.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-00a' } });
    let cont: string | undefined = first.continue;
    const seen = names(first.items);
    while (cont) {
      const page = await configmaps.list('default', { limit: 5, continue: cont });
      assert.equal(page.resourceVersion, first.resourceVersion);
      seen.push(...names(page.items));
      cont = page.continue;
    }
    assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => `cm-${String(i).padStart(2, '0')}`));
  });

  it('limit/continue over more than one store chunk pages from memory at one resourceVersion', async () => {
    for (let i = 0; i < 240; i += 40) {
      await Promise.all(Array.from({ length: 40 }, (_, j) => configmaps.create('other', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `x-${String(i + j).padStart(3, '0')}` } })));
    }
    const { value: first, reads } = await storeListsOf(() => configmaps.list('other', { limit: 100 }));
    assert.equal(reads, 0);
    assert.equal(first.items.length, 100);
    assert.ok(first.continue);
    // A write between pages does not show: the pages are the collection at the first page's revision.
    await configmaps.create('other', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x-000a' } });
    const seen = names(first.items);
    let cont: string | undefined = first.continue;
    while (cont) {
      const { value: page, reads: r } = await storeListsOf(() => configmaps.list('other', { limit: 100, continue: cont }));
      assert.equal(r, 0, 'a continue page read the store');
      assert.equal(page.resourceVersion, first.resourceVersion);
      seen.push(...names(page.items));
      cont = page.continue;
    }
    assert.deepEqual(seen, Array.from({ length: 240 }, (_, i) => `x-${String(i).padStart(3, '0')}`));
  });

  it('a streamed full list is read chunk by chunk from memory', async () => {
    const chunks: string[][] = [];
    const { reads } = await storeListsOf(() => configmaps.list('default', { stream: (items) => { chunks.push(names(items) as string[]); } }));
    assert.equal(reads, 0);
    assert.ok(chunks.flat().includes('cm-00a'));
  });

  it('Exact goes to the store and returns the collection at that revision', async () => {
    // A revision no list was read at (a list's snapshot may answer an Exact read at its revision).
    const updated = await configmaps.guaranteedUpdate('default', 'cm-00a', (cm) => ({ ...cm, data: { v: '2' } }));
    const rv = updated.metadata.resourceVersion!;
    await configmaps.remove('default', 'cm-00a', Number(rv));
    // Far enough from the cache's current state that only history has it.
    await configmaps.create('default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-later' } });
    const { value, reads } = await storeListsOf(() => configmaps.list('default', { resourceVersion: rv, resourceVersionMatch: 'Exact' }));
    assert.equal(reads, 1);
    assert.equal(value.resourceVersion, rv);
    assert.ok(names(value.items).includes('cm-00a'));
    assert.ok(!names(value.items).includes('cm-later'));
  });

  it('a resourceVersion newer than the store is 504 ResourceVersionTooLarge; Exact below the compacted revision is 410 Expired', async () => {
    const current = await cache.currentRevision();
    await assert.rejects(configmaps.list('default', { resourceVersion: String(current + 100) }), (err: unknown) => err instanceof ApiError && err.http === 504);
    const old = String(current - 5);
    await cache.compact(current);
    await assert.rejects(configmaps.list('default', { resourceVersion: old, resourceVersionMatch: 'Exact' }), (err: unknown) => err instanceof ApiError && err.http === 410 && err.reason === 'Expired');
    // NotOlderThan an old revision is still fine: the cache answers at a newer one.
    const { value, reads } = await storeListsOf(() => configmaps.list('default', { resourceVersion: old, resourceVersionMatch: 'NotOlderThan' }));
    assert.equal(reads, 0);
    assert.ok(Number(value.resourceVersion) >= current);
  });
});
