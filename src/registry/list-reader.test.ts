/**
 * listJson (the HTTP list's items as JSON text, spliced from the stored bytes where nothing changes
 * an object on read) against the slow path it replaces — JSON.stringify of listObjects' items — byte
 * for byte once metadata.resourceVersion is moved where decode puts it (the splice puts it first), through the watch cache and an encrypting backend on SQLite: Pods, ConfigMaps with
 * awkward strings, encrypted Secrets, a custom resource read through its schema defaults and another
 * version; full, streamed, limited + continued, label- and field-selected, and past-revision lists.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../apis/object.ts';
import { CRD_GROUP, CRD_PLURAL, CRD_RESOURCE, type Crd } from '../apis/custom-resource-definition.ts';
import type { Backend } from '../storage/backend.ts';
import { openStore } from '../storage/index.ts';
import { WatchCache } from '../storage/watch-cache/watch-cache.ts';
import { createLogger } from '../util/log.ts';
import { customResourceDefinitionStrategy } from './apiextensions/crd-strategy.ts';
import { serveCustomResources, type CustomResourceServing } from './apiextensions/crd-serving.ts';
import { encryptingBackend } from './encryption/encrypting-backend.ts';
import { parseEncryptionConfig } from './encryption/encryption-config.ts';
import { resourceTypes } from './kinds/index.ts';
import { listJson, listObjects } from './list-reader.ts';
import { makeFilter } from './object-filter.ts';
import { Registry } from './registry.ts';
import type { ListOptions, ResourceStore } from './resource-store.ts';

let dir: string;
let raw: Backend;
let cache: WatchCache;
let registry: Registry;
let serving: CustomResourceServing;

const AWKWARD = ['a"b', 'back\\slash', '{"metadata":{"resourceVersion":"1"}}', 'line\nbreak', '\u0000', 'é😀', '\ud800lone', '],}'];

function widgetCrd(): Crd {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
        { name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { size: { type: 'string', default: 'M' }, n: { type: 'integer' } } } } } } },
      ],
    },
  };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-list-json-'));
  raw = await openStore('sqlite', dir);
  cache = new WatchCache(raw);
  await cache.whenReady();
  const { config, errors } = parseEncryptionConfig({
    apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration',
    resources: [{ resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'k', secret: Buffer.alloc(32, 7).toString('base64') }] } }, { identity: {} }] }],
  });
  assert.deepEqual(errors, []);
  registry = new Registry(encryptingBackend(cache, config!), [...resourceTypes().filter((x) => x.info.plural !== CRD_PLURAL), { info: CRD_RESOURCE, strategy: customResourceDefinitionStrategy }]);
  serving = serveCustomResources(registry, createLogger({ level: 'error' }));
  await serving.ready;
  for (const ns of ['default', 'other']) await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  const crds = registry.store(CRD_GROUP, CRD_PLURAL)!;
  const crd = await crds.create(undefined, widgetCrd() as KubeObject);
  await crds.update(undefined, 'widgets.example.com', { ...crd, status: { ...(crd as Crd).status, conditions: [{ type: 'Established', status: 'True' }] } } as KubeObject, { subresource: 'status' });
  for (let i = 0; i < 200 && !registry.store('example.com', 'widgets'); i++) await new Promise((r) => setTimeout(r, 25));
  const widgets = registry.store('example.com', 'widgets', 'v1')!;
  for (let i = 0; i < 40; i++) {
    const ns = i % 3 ? 'default' : 'other';
    const s = AWKWARD[i % AWKWARD.length];
    await registry.store('', 'configmaps')!.create(ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}`, labels: { odd: String(i % 2 === 1) }, annotations: { [`note/${i}`]: s } }, data: { [`k${i}`]: s, '7': 'int-like key' } });
    await registry.store('', 'pods')!.create(ns, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${i}`, labels: { app: `a${i % 4}` } }, spec: { nodeName: i % 2 ? 'n1' : 'n2', containers: [{ name: 'c', image: 'busybox', args: [s] }] } });
    await registry.store('', 'secrets')!.create(ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `s-${i}` }, stringData: { v: s } } as KubeObject);
    await widgets.create(ns, { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: `w-${i}` }, spec: i % 2 ? { n: i } : { size: 'L', n: i } } as KubeObject);
  }
});

after(async () => {
  serving.stop();
  await cache.close();
  await rm(dir, { recursive: true, force: true });
});

/** `json` with metadata.resourceVersion moved last in metadata, where decodeObject puts it (object-codec.test.ts has the same). */
function rvLast(json: string): string {
  const o = JSON.parse(json) as { metadata?: Record<string, unknown> };
  if (o.metadata && 'resourceVersion' in o.metadata) {
    const { resourceVersion, ...rest } = o.metadata;
    o.metadata = { ...rest, resourceVersion };
  }
  return JSON.stringify(o);
}

/** rvLast, checked to change no length (no key twice, nothing re-encoded differently). */
function moved(json: string): string {
  const out = rvLast(json);
  assert.equal(out.length, json.length, json);
  return out;
}

/** Both paths of one list, with every page of a limited one, streamed chunks joined; the fast one's items with rvLast. */
async function both(store: ResourceStore, namespace: string | undefined, opts: ListOptions): Promise<{ fast: string[]; slow: string[]; rv: string[] }> {
  const fast: string[] = [];
  const slow: string[] = [];
  const rv: string[] = [];
  if (opts.stream) {
    await listJson(store, namespace, { ...opts, stream: (items) => { fast.push(...items.map(moved)); } });
    await listObjects(store, namespace, { ...opts, stream: (items) => { slow.push(...items.map((o) => JSON.stringify(o))); } });
    return { fast, slow, rv };
  }
  let cont: string | undefined;
  const { stream: _none, ...paged } = opts;
  do {
    const f = await listJson(store, namespace, { ...paged, continue: cont });
    const s = await listObjects(store, namespace, { ...paged, continue: cont });
    fast.push(...f.items.map(moved));
    slow.push(...s.items.map((o) => JSON.stringify(o)));
    assert.equal(f.resourceVersion, s.resourceVersion);
    assert.equal(f.continue, s.continue);
    rv.push(f.resourceVersion);
    cont = f.continue;
  } while (cont);
  return { fast, slow, rv };
}

describe('listJson is byte for byte the decoded list re-encoded (resourceVersion moved)', () => {
  const cases: Array<[string, string, string | undefined]> = [
    ['', 'configmaps', undefined], ['', 'configmaps', 'other'], ['', 'pods', undefined], ['', 'secrets', undefined],
    ['example.com', 'widgets', undefined],
  ];
  for (const [group, plural, ns] of cases) {
    it(`${group || 'core'}/${plural}${ns ? ` in ${ns}` : ''}: full, streamed, limited, selected`, async () => {
      const stores = [registry.store(group, plural)!];
      if (plural === 'widgets') stores.push(registry.store(group, plural, 'v1beta1')!);
      for (const store of stores) {
        const variants: ListOptions[] = [
          {}, { stream: () => {} }, { limit: 7 }, { limit: 1 },
          { filter: makeFilter(store.type, plural === 'pods' ? 'app in (a1,a3)' : undefined, 'metadata.name!=cm-4,metadata.name!=w-3') },
          { filter: makeFilter(store.type, undefined, `metadata.namespace=${ns ?? 'default'}`), limit: 5 },
          ...(plural === 'pods' ? [{ filter: makeFilter(store.type, undefined, 'spec.nodeName=n1'), stream: () => {} }] : []),
          ...(plural === 'configmaps' ? [{ filter: makeFilter(store.type, 'odd=true', undefined) }] : []),
        ];
        for (const opts of variants) {
          const { fast, slow } = await both(store, ns, opts);
          assert.ok(slow.length > 0, `${plural} ${JSON.stringify(opts)}: the list is not empty`);
          assert.deepEqual(fast, slow, `${store.apiVersion} ${plural} ${JSON.stringify(opts)}`);
        }
      }
    });
  }

  it('the custom resource reads through its defaults and its version, so it takes the slow path and still matches', async () => {
    const v1 = await listJson(registry.store('example.com', 'widgets', 'v1')!, 'default', {});
    const w = v1.items.map((s) => JSON.parse(s) as KubeObject & { spec: { size: string } });
    assert.ok(w.every((o) => o.spec.size === 'M' || o.spec.size === 'L'), 'defaults applied on read');
    const beta = await listJson(registry.store('example.com', 'widgets', 'v1beta1')!, 'default', {});
    assert.ok(beta.items.every((s) => (JSON.parse(s) as KubeObject).apiVersion === 'example.com/v1beta1'));
  });

  it('Secrets come out opened (the encrypting backend under the list), their stored values sealed', async () => {
    const kv = await raw.get('/registry/core/secrets/default/s-1');
    assert.match(kv!.value, /^k8s:enc:aescbc:v1:k:/);
    const list = await listJson(registry.store('', 'secrets')!, 'default', { limit: 3 });
    assert.equal(JSON.parse(list.items[0]).kind, 'Secret');
    assert.equal(typeof JSON.parse(list.items[0]).data.v, 'string');
  });

  it('at a past revision (from the store\'s history) and after updates, both paths agree', async () => {
    const cms = registry.store('', 'configmaps')!;
    const rv = (await listJson(cms, undefined, { limit: 1 })).resourceVersion;
    for (const i of [1, 2, 4, 5, 7]) {
      const cm = await cms.get('default', `cm-${i}`);
      await cms.update('default', `cm-${i}`, { ...cm, data: { changed: String(i) } });
    }
    for (const opts of [{ resourceVersion: rv, resourceVersionMatch: 'Exact' }, { resourceVersion: '0' }, { resourceVersion: rv, resourceVersionMatch: 'NotOlderThan', limit: 9 }]) {
      const { fast, slow } = await both(cms, undefined, opts);
      assert.deepEqual(fast, slow, JSON.stringify(opts));
    }
    const past = await listJson(cms, 'default', { resourceVersion: rv, resourceVersionMatch: 'Exact' });
    assert.ok(past.items.every((s) => !s.includes('"changed"')), 'the past list shows the values before the updates');
    assert.ok(cache.stats.listsFromCache > 0 && cache.stats.listsFromStore > 0, 'both the cache and the store answered');
  });

  it('the stored bytes are what is sent: a value not written by encodeObject shows it (why only encodeObject writes)', async () => {
    // 1.50 is not JSON.stringify's form of 1.5: the slow path normalises it, the splice keeps the bytes
    // (and puts resourceVersion first in metadata).
    await raw.create('/registry/core/configmaps/zz-canary/c', '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"zz-canary"},"data":{"n":1.50}}');
    const cms = registry.store('', 'configmaps')!;
    const fast = await listJson(cms, 'zz-canary', {});
    const slow = await listObjects(cms, 'zz-canary', {});
    assert.equal(fast.items[0], `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"resourceVersion":"${fast.resourceVersion}","name":"c","namespace":"zz-canary"},"data":{"n":1.50}}`);
    assert.equal(JSON.stringify(slow.items[0]).includes('"n":1.5}'), true);
  });
});

describe('remainingItemCount', () => {
  /** Every page of a limited list: its item count, its continue token and its remainingItemCount. */
  async function pages(store: ResourceStore, namespace: string | undefined, opts: Omit<ListOptions, 'stream'>): Promise<Array<{ n: number; cont?: string; remaining?: number }>> {
    const out: Array<{ n: number; cont?: string; remaining?: number }> = [];
    let cont: string | undefined;
    do {
      const f = await listJson(store, namespace, { ...opts, continue: cont });
      const s = await listObjects(store, namespace, { ...opts, continue: cont });
      assert.equal(f.remainingItemCount, s.remainingItemCount, 'both paths say the same');
      out.push({ n: f.items.length, cont: f.continue, remaining: f.remainingItemCount });
      cont = f.continue;
    } while (cont);
    return out;
  }

  it('a limited list from the watch cache says how many objects follow each page, and nothing on the last one', async () => {
    const cms = registry.store('', 'configmaps')!;
    for (const [ns, limit] of [[undefined, 7], [undefined, 1], ['other', 4], [undefined, 150]] as const) {
      const total = (await listJson(cms, ns, {})).items.length;
      let seen = 0;
      for (const p of await pages(cms, ns, { limit })) {
        seen += p.n;
        if (p.cont) assert.equal(p.remaining, total - seen, `limit ${limit}${ns ? ` in ${ns}` : ''}: after ${seen} of ${total}`);
        else assert.equal(p.remaining, undefined, 'no continue, no remainingItemCount');
      }
      assert.equal(seen, total);
    }
  });

  it('left out with a label or field selector (upstream: only for an empty predicate); from the store, right when given', async () => {
    const cms = registry.store('', 'configmaps')!;
    for (const filter of [makeFilter(cms.type, 'odd=true', undefined), makeFilter(cms.type, undefined, 'metadata.namespace=default')]) {
      const ps = await pages(cms, undefined, { filter, limit: 3 });
      assert.ok(ps.length > 1 && ps.every((p) => p.remaining === undefined));
    }
    // A past revision the cache no longer holds is read from SQLite: the rows its chunk (100) read past
    // the page are counted; beyond the chunk SQLite would have to count the rest of the range (the
    // backend suite: undefined or right).
    const first = await listJson(cms, undefined, { limit: 1 });
    const total = (first.remainingItemCount ?? 0) + 1;
    const cm = await cms.get('default', 'cm-1');
    await cms.update('default', 'cm-1', { ...cm, data: { again: '1' } });
    const fromStore = cache.stats.listsFromStore;
    const past = await listJson(cms, undefined, { resourceVersion: first.resourceVersion, resourceVersionMatch: 'Exact', limit: 2 });
    assert.ok(past.continue);
    assert.ok(cache.stats.listsFromStore > fromStore, 'read from the store');
    assert.equal(past.remainingItemCount, total - 2);
  });
});
