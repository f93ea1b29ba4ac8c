import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { R } from './client.ts';
import { InformerFactory } from './informer-factory.ts';
import { SharedInformer } from './informer.ts';
import { RateLimitedQueue } from './work-queue.ts';
import { enqueueHandlers, runController } from './controller.ts';
import { startTestEnv, waitFor, type TestEnv } from '../controllers/control-plane.fixture.ts';
import type { KubeObject } from '../apis/object.ts';

const cm = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });

describe('informer, factory and controller loop', () => {
  let env: TestEnv;
  before(async () => { env = await startTestEnv(); });
  after(async () => { await env.close(); });

  it('lists, watches, indexes, and calls handlers after the cache is updated', async () => {
    const { client } = env;
    await client.create(R.configmaps, 'default', cm('pre'));
    const factory = new InformerFactory(client);
    const inf = factory.forResource(R.configmaps);
    assert.equal(factory.forResource(R.configmaps), inf, 'shared per ref');
    assert.notEqual(factory.forResource(R.configmaps, { labelSelector: 'a=b' }), inf, 'separate per selector');
    inf.addIndex('color', (o) => (o.metadata.labels?.color ? [o.metadata.labels.color] : []));
    const seen: string[] = [];
    inf.addHandlers({
      add: (o) => { assert.ok(inf.get(`default/${o.metadata.name}`), 'cached before add handler'); seen.push(`add:${o.metadata.name}`); },
      update: (_o, n) => seen.push(`update:${n.metadata.name}`),
      delete: (o) => { assert.equal(inf.get(`default/${o.metadata.name}`), undefined); seen.push(`delete:${o.metadata.name}`); },
    });
    factory.start();
    await factory.waitForSync();
    assert.ok(inf.get('default/pre'));
    await client.create(R.configmaps, 'default', cm('red1', {}, { color: 'red' }));
    await waitFor(() => inf.byIndex('color', 'red').length === 1, 'index');
    assert.equal(inf.list('default').length, 2);
    assert.equal(inf.list('kube-system').length, 0);
    await client.patch(R.configmaps, 'default', 'red1', 'merge', { metadata: { labels: { color: 'blue' } } });
    await waitFor(() => inf.byIndex('color', 'blue').length === 1, 're-indexed');
    assert.equal(inf.byIndex('color', 'red').length, 0);
    await client.delete(R.configmaps, 'default', 'red1');
    await waitFor(() => inf.get('default/red1') === undefined, 'deleted');
    assert.deepEqual(seen, ['add:pre', 'add:red1', 'update:red1', 'delete:red1']);
    factory.stop();
  });

  it('re-lists after its watch is cut and catches up on changes made meanwhile', async () => {
    const { client } = env;
    const factory = new InformerFactory(client);
    const inf = factory.forResource(R.configmaps, { namespace: 'kube-system' });
    const deleted: string[] = [];
    inf.addHandlers({ delete: (o) => deleted.push(o.metadata.name!) });
    factory.start();
    await inf.synced();
    await client.create(R.configmaps, 'kube-system', cm('x1'));
    await waitFor(() => inf.get('kube-system/x1'), 'x1');
    assert.equal(inf.listCount, 1);
    // Stop the loop from re-watching instantly by cutting the watch, then change things.
    inf.cutWatch();
    await client.delete(R.configmaps, 'kube-system', 'x1');
    await client.create(R.configmaps, 'kube-system', cm('x2'));
    await waitFor(() => inf.listCount >= 2, 're-list');
    await waitFor(() => inf.get('kube-system/x2') && !inf.get('kube-system/x1'), 'caught up');
    assert.deepEqual(deleted, ['x1']);
    factory.stop();
  });

  it('an update re-files an object under exactly its new index values', async () => {
    const { client } = env;
    const factory = new InformerFactory(client);
    const inf = factory.forResource(R.configmaps, { namespace: 'default', labelSelector: 'multi=yes' });
    inf.addIndex('keys', (o) => Object.keys(o.data ?? {}));
    factory.start();
    await inf.synced();
    const names = (v: string) => inf.byIndex('keys', v).map((o) => o.metadata.name).sort();
    await client.create(R.configmaps, 'default', cm('m1', { a: '1', b: '1' }, { multi: 'yes' }));
    await client.create(R.configmaps, 'default', cm('m2', { b: '1' }, { multi: 'yes' }));
    await waitFor(() => inf.get('default/m2'), 'm2');
    assert.deepEqual([names('a'), names('b'), names('c')], [['m1'], ['m1', 'm2'], []]);
    await client.patch(R.configmaps, 'default', 'm1', 'merge', { data: { a: null, c: '1' } });
    await waitFor(() => inf.get('default/m1')?.data?.c, 'm1 updated');
    assert.deepEqual([names('a'), names('b'), names('c')], [[], ['m1', 'm2'], ['m1']]);
    await client.patch(R.configmaps, 'default', 'm1', 'merge', { data: { b: '2' } }); // same keys: nothing moves
    await waitFor(() => inf.get('default/m1')?.data?.b === '2', 'm1 updated again');
    assert.deepEqual([names('a'), names('b'), names('c')], [[], ['m1', 'm2'], ['m1']]);
    await client.delete(R.configmaps, 'default', 'm1');
    await waitFor(() => !inf.get('default/m1'), 'm1 gone');
    assert.deepEqual([names('a'), names('b'), names('c')], [[], ['m2'], []]);
    factory.stop();
  });

  it('removeHandlers stops one consumer while the others keep being called', async () => {
    const { client } = env;
    const factory = new InformerFactory(client);
    const inf = factory.forResource(R.configmaps, { namespace: 'default', labelSelector: 'rm=yes' });
    const a: string[] = [];
    const b: string[] = [];
    const ha = { add: (o: KubeObject) => a.push(o.metadata.name!) };
    // b removes a from inside its own handler: the dispatch under way must still reach everyone.
    const hb = { add: (o: KubeObject) => { b.push(o.metadata.name!); if (o.metadata.name === 'rm2') inf.removeHandlers(ha); } };
    inf.addHandlers(hb);
    inf.addHandlers(ha);
    factory.start();
    await inf.synced();
    await client.create(R.configmaps, 'default', cm('rm1', {}, { rm: 'yes' }));
    await client.create(R.configmaps, 'default', cm('rm2', {}, { rm: 'yes' }));
    await client.create(R.configmaps, 'default', cm('rm3', {}, { rm: 'yes' }));
    await waitFor(() => b.length === 3, 'b sees all three');
    assert.deepEqual(a, ['rm1', 'rm2']);
    factory.stop();
  });

  it('caches objects without managedFields (listed and watched), the stored object keeps them, keepManagedFields opts out', async () => {
    const { client } = env;
    await client.create(R.configmaps, 'default', cm('mf-listed', { a: '1' }));
    const trimmed = new SharedInformer(client, R.configmaps, { namespace: 'default' });
    const kept = new SharedInformer(client, R.configmaps, { namespace: 'default', keepManagedFields: true });
    const handed: KubeObject[] = [];
    trimmed.addHandlers({ add: (o) => handed.push(o), update: (_o, n) => handed.push(n) });
    trimmed.start();
    kept.start();
    await Promise.all([trimmed.synced(), kept.synced()]);
    await client.create(R.configmaps, 'default', cm('mf-watched', { a: '1' }));
    await client.patch(R.configmaps, 'default', 'mf-watched', 'merge', { data: { a: '2' } });
    await waitFor(() => trimmed.get('default/mf-watched')?.data?.a === '2' && kept.get('default/mf-watched')?.data?.a === '2', 'watched');
    for (const name of ['mf-listed', 'mf-watched']) {
      const stored = await client.get(R.configmaps, 'default', name);
      assert.ok(Array.isArray(stored.metadata.managedFields) && stored.metadata.managedFields.length > 0, `${name}: the store records managedFields`);
      const cached = trimmed.get(`default/${name}`)!;
      assert.equal(cached.metadata.managedFields, undefined, `${name}: trimmed in the cache`);
      assert.equal(cached.metadata.resourceVersion, stored.metadata.resourceVersion);
      assert.deepEqual(cached.data, stored.data);
      assert.deepEqual(kept.get(`default/${name}`)!.metadata.managedFields, stored.metadata.managedFields, `${name}: kept when asked`);
    }
    assert.ok(handed.length >= 3 && handed.every((o) => o.metadata.managedFields === undefined), 'handlers get the trimmed objects');
    trimmed.stop();
    kept.stop();
  });

  it('runController reconciles keys, retries failures with back-off, and stops', async () => {
    const { client } = env;
    const factory = new InformerFactory(client);
    const inf = factory.forResource(R.configmaps, { namespace: 'default', labelSelector: 'ctl=yes' });
    const queue = new RateLimitedQueue({ baseDelayMs: 5 });
    inf.addHandlers(enqueueHandlers(queue));
    const calls: string[] = [];
    let failOnce = true;
    const ctl = runController({
      name: 'test',
      async reconcile(key) {
        calls.push(key);
        if (key === 'default/flaky' && failOnce) { failOnce = false; throw new Error('boom'); }
      },
    }, queue, { workers: 2 });
    factory.start();
    await client.create(R.configmaps, 'default', cm('ok', {}, { ctl: 'yes' }));
    await client.create(R.configmaps, 'default', cm('flaky', {}, { ctl: 'yes' }));
    await waitFor(() => calls.filter((c) => c === 'default/flaky').length === 2, 'retry');
    assert.ok(calls.includes('default/ok'));
    assert.equal(queue.numRequeues('default/flaky'), 0, 'forgotten after success');
    await ctl.stop();
    factory.stop();
  });
});
