/**
 * The Client contract, run against each implementation (local-client.test.ts, http-client.test.ts,
 * port-client.test.ts): the same calls must give the same results and the same error reasons
 * in-process, over HTTP and over a worker thread's MessagePort.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apis/object.ts';
import { R, type Client, type ClientWatchEvent } from './client.ts';
import { isAlreadyExists, isConflict, isNotFound } from './errors.ts';

/** What a suite needs: a client onto a fresh server, and a way to stop both. */
export interface ClientFixture {
  client: Client;
  stop(): Promise<void>;
}

async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function cm(name: string, labels: Record<string, string> = {}, data: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels }, data };
}

function pod(name: string): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'case' } },
    spec: { containers: [{ name: 'a', image: 'busybox:1' }, { name: 'b', image: 'busybox:1' }] },
  };
}

async function rejectsWith(p: Promise<unknown>, check: (e: unknown) => boolean, what: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(check(e), `expected ${what}, got ${(e as Error)?.message ?? String(e)}`);
    return true;
  });
}

/** Registers the shared cases under `describe(name)`; `make` is called once for the suite. */
export function runClientSuite(name: string, make: () => Promise<ClientFixture>): void {
  describe(name, () => {
    let fx: ClientFixture;
    let c: Client;
    const ns = `case-${Math.random().toString(36).slice(2, 8)}`;

    before(async () => {
      fx = await make();
      c = fx.client;
      await c.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    });
    after(async () => { await fx?.stop(); });

    it('creates, gets and lists with label and field selectors', async () => {
      const created = await c.create(R.configmaps, ns, cm('one', { app: 'x', tier: 'a' }, { k: 'v' }));
      assert.equal(created.metadata.name, 'one');
      assert.equal(created.metadata.namespace, ns);
      assert.ok(created.metadata.uid);
      assert.ok(created.metadata.resourceVersion);
      await c.create(R.configmaps, ns, cm('two', { app: 'x', tier: 'b' }));
      await c.create(R.configmaps, ns, cm('three', { app: 'y' }));
      const got = await c.get(R.configmaps, ns, 'one');
      assert.deepEqual(got.data, { k: 'v' });
      assert.equal(got.metadata.resourceVersion, created.metadata.resourceVersion);
      const all = await c.list(R.configmaps, ns);
      assert.deepEqual(all.items.map((o) => o.metadata.name).sort(), ['one', 'three', 'two']);
      assert.match(all.resourceVersion, /^\d+$/);
      const byLabel = await c.list(R.configmaps, ns, { labelSelector: 'app=x,tier!=b' });
      assert.deepEqual(byLabel.items.map((o) => o.metadata.name), ['one']);
      const byField = await c.list(R.configmaps, ns, { fieldSelector: 'metadata.name=three' });
      assert.deepEqual(byField.items.map((o) => o.metadata.name), ['three']);
      await rejectsWith(c.create(R.configmaps, ns, cm('one')), isAlreadyExists, 'AlreadyExists');
      await rejectsWith(c.get(R.configmaps, ns, 'nope'), isNotFound, 'NotFound');
    });

    it('pages a limited list with continue, every page at the first page\'s revision', async () => {
      for (const n of ['page-a', 'page-b', 'page-c']) await c.create(R.configmaps, ns, cm(n, { paged: 'yes' }));
      const first = await c.list(R.configmaps, ns, { labelSelector: 'paged=yes', limit: 2 });
      assert.equal(first.items.length, 2);
      assert.ok(first.continue, 'a continue token');
      await c.create(R.configmaps, ns, cm('page-d', { paged: 'yes' }));
      const rest = await c.list(R.configmaps, ns, { labelSelector: 'paged=yes', limit: 2, continue: first.continue });
      assert.deepEqual([...first.items, ...rest.items].map((o) => o.metadata.name), ['page-a', 'page-b', 'page-c']);
      assert.equal(rest.continue, undefined);
      assert.equal(rest.resourceVersion, first.resourceVersion);
    });

    it('leaves the caller\'s object untouched on create', async () => {
      const obj = cm('untouched', { app: 'u' });
      const before = structuredClone(obj);
      await c.create(R.configmaps, ns, obj);
      assert.deepEqual(obj, before);
    });

    it('reports a stale update as a conflict', async () => {
      const v1 = await c.create(R.configmaps, ns, cm('conf', {}, { n: '1' }));
      const v2 = await c.update(R.configmaps, ns, { ...v1, data: { n: '2' } });
      assert.notEqual(v2.metadata.resourceVersion, v1.metadata.resourceVersion);
      await rejectsWith(c.update(R.configmaps, ns, { ...v1, data: { n: '3' } }), isConflict, 'Conflict');
      assert.deepEqual((await c.get(R.configmaps, ns, 'conf')).data, { n: '2' });
    });

    it('updates status through the status subresource only', async () => {
      const p = await c.create(R.pods, ns, pod('stat'));
      const cond = { type: 'Ready', status: 'False', lastProbeTime: null, lastTransitionTime: '2025-01-01T00:00:00Z' };
      const withStatus = { ...p, metadata: { ...p.metadata, labels: { app: 'changed' } }, status: { ...p.status, conditions: [cond] } };
      const after = await c.update(R.pods, ns, withStatus, 'status');
      assert.deepEqual(after.status.conditions.find((x: { type: string }) => x.type === 'Ready')?.status, 'False');
      assert.equal(after.metadata.labels?.app, 'case', 'a status update must not change labels');
      // A main-resource update ignores status.
      const main = await c.update(R.pods, ns, { ...after, status: { phase: 'Failed' } });
      assert.notEqual(main.status.phase, 'Failed');
    });

    it('applies merge, strategic and JSON patches', async () => {
      await c.create(R.configmaps, ns, cm('patched', { app: 'p' }, { a: '1', b: '2' }));
      const merged = await c.patch(R.configmaps, ns, 'patched', 'merge', { data: { a: 'one', b: null, c: '3' } });
      assert.deepEqual(merged.data, { a: 'one', c: '3' });
      const jsonPatched = await c.patch(R.configmaps, ns, 'patched', 'json', [{ op: 'add', path: '/metadata/labels/extra', value: 'y' }]);
      assert.equal(jsonPatched.metadata.labels?.extra, 'y');
      await c.create(R.pods, ns, pod('smp'));
      const smp = await c.patch(R.pods, ns, 'smp', 'strategic', { spec: { containers: [{ name: 'b', image: 'busybox:2' }] } });
      assert.deepEqual(smp.spec.containers.map((x: { name: string; image: string }) => `${x.name}=${x.image}`), ['a=busybox:1', 'b=busybox:2']);
      const statusPatched = await c.patch(R.pods, ns, 'smp', 'merge', { status: { message: 'hello' } }, 'status');
      assert.equal(statusPatched.status.message, 'hello');
      await rejectsWith(c.patch(R.configmaps, ns, 'missing', 'merge', { data: {} }), isNotFound, 'NotFound');
      await rejectsWith(c.patch(R.configmaps, ns, 'patched', 'merge', { metadata: { resourceVersion: '1' } }), isConflict, 'Conflict');
    });

    it('deletes, honouring a uid precondition', async () => {
      const obj = await c.create(R.configmaps, ns, cm('gone'));
      await rejectsWith(c.delete(R.configmaps, ns, 'gone', { preconditions: { uid: 'not-the-uid' } }), isConflict, 'Conflict');
      await c.delete(R.configmaps, ns, 'gone', { preconditions: { uid: obj.metadata.uid } });
      await rejectsWith(c.get(R.configmaps, ns, 'gone'), isNotFound, 'NotFound');
      await rejectsWith(c.delete(R.configmaps, ns, 'gone'), isNotFound, 'NotFound');
    });

    it('watches ADDED, MODIFIED and DELETED in order, then ends on close', async () => {
      const start = await c.list(R.configmaps, ns);
      const events: ClientWatchEvent[] = [];
      const w = await c.watch(R.configmaps, ns, { resourceVersion: start.resourceVersion, labelSelector: 'watched=yes' }, (ev) => events.push(ev));
      const obj = await c.create(R.configmaps, ns, cm('w1', { watched: 'yes' }, { v: '1' }));
      await c.create(R.configmaps, ns, cm('ignored', { watched: 'no' }));
      await c.update(R.configmaps, ns, { ...obj, data: { v: '2' } });
      await c.delete(R.configmaps, ns, 'w1');
      await waitFor(() => events.length >= 3, 'three watch events');
      assert.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
      assert.equal(events[1].object.data.v, '2');
      w.close();
      await w.done;
    });

    it('sends initial ADDED events for a watch without resourceVersion', async () => {
      await c.create(R.configmaps, ns, cm('pre', { initial: 'yes' }));
      const events: ClientWatchEvent[] = [];
      const w = await c.watch(R.configmaps, ns, { labelSelector: 'initial=yes' }, (ev) => events.push(ev));
      await waitFor(() => events.length >= 1, 'the initial event');
      assert.equal(events[0].type, 'ADDED');
      assert.equal(events[0].object.metadata.name, 'pre');
      w.close();
      await w.done;
    });

    it('binds a pod: spec.nodeName and PodScheduled, once', async () => {
      await c.create(R.pods, ns, pod('bindme'));
      const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bindme' }, target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' } };
      const res = await c.create(R.pods, ns, binding, 'binding');
      assert.equal((res as unknown as { status: string }).status, 'Success');
      const bound = await c.get(R.pods, ns, 'bindme');
      assert.equal(bound.spec.nodeName, 'node-a');
      const sched = bound.status.conditions.find((x: { type: string }) => x.type === 'PodScheduled');
      assert.equal(sched?.status, 'True');
      await rejectsWith(c.create(R.pods, ns, { ...binding, target: { kind: 'Node', name: 'node-b' } }, 'binding'), isConflict, 'Conflict');
    });

    it('evicts a pod', async () => {
      await c.create(R.pods, ns, pod('evictme'));
      await c.create(R.pods, ns, { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evictme', namespace: ns } }, 'eviction');
      await rejectsWith(c.get(R.pods, ns, 'evictme'), isNotFound, 'NotFound');
    });
  });
}
