// The informer's list in pages, its transform, and objects shared between peer informers of one thread.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { R, type Client, type ListOptions } from './client.ts';
import { HttpStatusError } from './errors.ts';
import { SharedInformer, withoutManagedFields, type Transform } from './informer.ts';
import { startTestEnv, waitFor, type TestEnv } from '../controllers/control-plane.fixture.ts';
import type { KubeObject } from '../apis/object.ts';

const cm = (name: string, labels: Record<string, string>, data: Record<string, string> = { a: '1' }): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data });

/** `client` with its list calls recorded (and, when `fail` says so, a list answered with an error instead). */
function recording(client: Client, fail?: (opts: ListOptions) => Error | undefined): Client & { lists: ListOptions[] } {
  const lists: ListOptions[] = [];
  return {
    lists,
    get: (...a) => client.get(...a),
    list: async (ref, ns, opts = {}) => {
      lists.push(opts);
      const err = fail?.(opts);
      if (err) throw err;
      return client.list(ref, ns, opts);
    },
    watch: (...a) => client.watch(...a),
    create: (...a) => client.create(...a),
    update: (...a) => client.update(...a),
    patch: (...a) => client.patch(...a),
    delete: (...a) => client.delete(...a),
  };
}

describe('informer lists in pages, transforms, shares with peers', () => {
  let env: TestEnv;
  before(async () => {
    env = await startTestEnv();
    for (let i = 0; i < 23; i++) await env.client.create(R.configmaps, 'default', cm(`pg-${String(i).padStart(2, '0')}`, { pg: 'yes' }));
  });
  after(async () => { await env.close(); });

  it('lists page by page at one resourceVersion and caches every object', async () => {
    const client = recording(env.client);
    const inf = new SharedInformer(client, R.configmaps, { namespace: 'default', labelSelector: 'pg=yes', pageSize: 5 });
    inf.start();
    await inf.synced();
    assert.equal(inf.list().length, 23);
    assert.equal(client.lists.length, 5, '23 objects in pages of 5');
    assert.ok(client.lists.every((o) => o.limit === 5));
    assert.equal(client.lists.filter((o) => o.continue).length, 4);
    assert.equal(inf.listCount, 1, 'one list, however many pages');
    // The watch starts at the list's revision: a change made now arrives.
    await env.client.patch(R.configmaps, 'default', 'pg-07', 'merge', { data: { a: '2' } });
    await waitFor(() => inf.get('default/pg-07')?.data?.a === '2', 'watched after a paged list');
    inf.stop();
  });

  it('pageSize 0 lists in one request; an expired continue falls back to one full list', async () => {
    const whole = recording(env.client);
    const one = new SharedInformer(whole, R.configmaps, { namespace: 'default', labelSelector: 'pg=yes', pageSize: 0 });
    one.start();
    await one.synced();
    assert.deepEqual(whole.lists.map((o) => o.limit), [undefined]);
    assert.equal(one.list().length, 23);
    one.stop();

    let failed = 0;
    const gone = new HttpStatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Expired', code: 410, message: 'The provided continue parameter is too old' });
    const expiring = recording(env.client, (o) => (o.continue && failed++ === 0 ? gone : undefined));
    const inf = new SharedInformer(expiring, R.configmaps, { namespace: 'default', labelSelector: 'pg=yes', pageSize: 10 });
    inf.start();
    await inf.synced();
    assert.deepEqual(expiring.lists.map((o) => [o.limit, !!o.continue]), [[10, false], [10, true], [undefined, false]]);
    assert.equal(inf.list().length, 23, 'the full list replaced the partial one: nothing twice, nothing missing');
    inf.stop();
  });

  it('a transform shapes listed, watched and deleted objects (instead of the managedFields trim)', async () => {
    const keepData: Transform = (o) => ({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion }, data: o.data });
    const inf = new SharedInformer(env.client, R.configmaps, { namespace: 'default', labelSelector: 'tf=yes', transform: keepData });
    const deleted: KubeObject[] = [];
    inf.addHandlers({ delete: (o) => deleted.push(o) });
    await env.client.create(R.configmaps, 'default', cm('tf-listed', { tf: 'yes' }));
    inf.start();
    await inf.synced();
    await env.client.create(R.configmaps, 'default', cm('tf-watched', { tf: 'yes' }));
    await waitFor(() => inf.get('default/tf-watched'), 'watched');
    for (const name of ['tf-listed', 'tf-watched']) {
      const o = inf.get(`default/${name}`)!;
      assert.deepEqual(Object.keys(o.metadata).sort(), ['name', 'namespace', 'resourceVersion', 'uid'], `${name}: only what the transform keeps`);
      assert.deepEqual(o.data, { a: '1' });
    }
    await env.client.delete(R.configmaps, 'default', 'tf-watched');
    await waitFor(() => deleted.length === 1, 'deleted');
    assert.equal(deleted[0]!.metadata.labels, undefined, 'the deleted object went through the transform too');
    inf.stop();
  });

  it('peers of one resource and form share objects; another form, or another version of the object, does not', async () => {
    // A form of its own, so that the test environment's informers (same thread) are not peers.
    const view: Transform = (o) => ({ ...withoutManagedFields(o) });
    const a = new SharedInformer(env.client, R.configmaps, { namespace: 'default', labelSelector: 'pg=yes', transform: view });
    a.start();
    await a.synced();
    // Another scope over the same resource (as the node authorizer's informer beside the controllers').
    const b = new SharedInformer(env.client, R.configmaps, { namespace: 'default', pageSize: 4, transform: view });
    const kept = new SharedInformer(env.client, R.configmaps, { namespace: 'default', labelSelector: 'pg=yes', keepManagedFields: true });
    b.start();
    kept.start();
    await Promise.all([b.synced(), kept.synced()]);
    for (const o of a.list()) {
      const key = `default/${o.metadata.name}`;
      assert.equal(b.get(key), o, `${key}: one object for both`);
      assert.notEqual(kept.get(key), o, `${key}: a different form is not shared`);
      assert.ok(kept.get(key)!.metadata.managedFields, 'the kept form has its managedFields');
    }
    assert.ok(b.sharedFromPeers >= 23);
    assert.equal(kept.sharedFromPeers, 0);
    // A change: each informer prepares the new version once between them, never the old one.
    await env.client.patch(R.configmaps, 'default', 'pg-03', 'merge', { data: { a: '3' } });
    await waitFor(() => a.get('default/pg-03')?.data?.a === '3' && b.get('default/pg-03')?.data?.a === '3', 'both updated');
    assert.equal(a.get('default/pg-03'), b.get('default/pg-03'));
    assert.equal(a.get('default/pg-03')!.metadata.managedFields, undefined);
    // A stopped informer is nobody's peer any more.
    a.stop();
    const c = new SharedInformer(env.client, R.configmaps, { namespace: 'default', labelSelector: 'pg=yes', transform: view });
    const before = c.sharedFromPeers;
    b.stop();
    c.start();
    await c.synced();
    assert.equal(c.sharedFromPeers, before, 'no peer running: its own copies');
    assert.deepEqual(c.get('default/pg-03'), withoutManagedFields(await env.client.get(R.configmaps, 'default', 'pg-03')));
    c.stop();
    kept.stop();
  });
});
