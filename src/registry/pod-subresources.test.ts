import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { ApiError, errors } from '../errors/index.ts';
import { openStore } from '../storage/index.ts';
import { AdmissionChain, type AdmissionRequest } from './admission/admission.ts';
import { resourceTypes } from './kinds/index.ts';
import { bindPod } from './pod-subresources.ts';
import { Registry } from './registry.ts';
import type { ResourceStore } from './resource-store.ts';
import { deleteObject } from './store-delete.ts';

async function withPods(fn: (pods: ResourceStore, registry: Registry) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-binding-'));
  const backend = await openStore('sqlite', dir);
  try {
    const registry = new Registry(backend, resourceTypes());
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    await fn(registry.store('', 'pods')!, registry);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const pending = (pods: ResourceStore, name: string) =>
  pods.create('a', { apiVersion: 'v1', kind: 'Pod', metadata: { name, annotations: { keep: 'me' } }, spec: { containers: [{ name: 'c', image: 'host' }] } }, { fieldManager: 'creator' });
const binding = (name: string, node: string, meta: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Binding', metadata: { name, ...meta }, target: { apiVersion: 'v1', kind: 'Node', name: node } });

async function refused(p: Promise<unknown>): Promise<ApiError> {
  try { await p; } catch (err) { if (err instanceof ApiError) return err; throw err; }
  assert.fail('the binding was not refused');
}

test('a binding sets nodeName, PodScheduled=True in place and the Binding\'s annotations; managedFields stay as they were', async () => {
  await withPods(async (pods) => {
    await pending(pods, 'p');
    // As the scheduler leaves a pod that did not fit: PodScheduled=False, then another condition after it.
    const unsched = await pods.guaranteedUpdate('a', 'p', (p) => {
      p.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', lastTransitionTime: '2026-01-01T00:00:00Z' }, { type: 'Other', status: 'True' }] };
      return p;
    }, { subresource: 'status', fieldManager: 'sched' });
    assert.deepEqual(await bindPod(pods, 'a', 'p', binding('p', 'n1', { uid: unsched.metadata.uid, annotations: { added: 'yes' } })),
      { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const p = await pods.get('a', 'p');
    assert.equal(p.spec.nodeName, 'n1');
    assert.deepEqual(p.metadata.annotations, { keep: 'me', added: 'yes' });
    assert.deepEqual(p.status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`), ['PodScheduled=True', 'Other=True']);
    assert.notEqual(p.status.conditions[0].lastTransitionTime, '2026-01-01T00:00:00Z', 'the transition is now');
    assert.equal(p.status.conditions[0].reason, undefined);
    assert.deepEqual(p.metadata.managedFields, unsched.metadata.managedFields);
    assert.ok(Number(p.metadata.resourceVersion) > Number(unsched.metadata.resourceVersion));
  });
});

test('409 for a bound pod, a deleting pod, another uid or a stale resourceVersion; nothing is written', async () => {
  await withPods(async (pods) => {
    const p = await pending(pods, 'p');
    let err = await refused(bindPod(pods, 'a', 'p', binding('p', 'n1', { uid: 'not-the-uid' })));
    assert.equal(err.http, 409);
    assert.match(err.message, /Precondition failed: UID in precondition: not-the-uid/);
    err = await refused(bindPod(pods, 'a', 'p', binding('p', 'n1', { resourceVersion: '1' })));
    assert.equal(err.http, 409);
    assert.equal((await pods.get('a', 'p')).metadata.resourceVersion, p.metadata.resourceVersion, 'nothing written');
    await bindPod(pods, 'a', 'p', binding('p', 'n1', { resourceVersion: p.metadata.resourceVersion }));
    err = await refused(bindPod(pods, 'a', 'p', binding('p', 'n2')));
    assert.equal(err.http, 409);
    assert.equal(err.message, 'Operation cannot be fulfilled on pods "p": pod p is already assigned to node "n1"');
    assert.equal((await pods.get('a', 'p')).spec.nodeName, 'n1');

    await pending(pods, 'q');
    await pods.guaranteedUpdate('a', 'q', (q) => { q.metadata.finalizers = ['x/y']; return q; });
    await deleteObject(pods, 'a', 'q');
    err = await refused(bindPod(pods, 'a', 'q', binding('q', 'n1')));
    assert.equal(err.http, 409);
    assert.match(err.message, /pod q is being deleted, cannot be assigned to a host/);
    assert.equal((await refused(bindPod(pods, 'a', 'missing', binding('missing', 'n1')))).http, 404);
  });
});

test('a Binding is validated (name, target) and admitted as a CREATE of pods/binding; a dry run stores nothing', async () => {
  await withPods(async (pods, registry) => {
    const p = await pending(pods, 'p');
    assert.equal((await refused(bindPod(pods, 'a', 'p', binding('other', 'n1')))).http, 400);
    const invalid = await refused(bindPod(pods, 'a', 'p', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'p' }, target: { kind: 'Pod' } }));
    assert.equal(invalid.http, 422);
    assert.deepEqual(invalid.details?.causes?.map((c) => c.field), ['target.kind', 'target.name']);

    const seen: AdmissionRequest[] = [];
    registry.admission = new AdmissionChain([{ name: 'Record', validate(req) { seen.push(req); } }]);
    await bindPod(pods, 'a', 'p', binding('p', 'n1'), { dryRun: true });
    assert.deepEqual(seen.map((r) => `${r.operation} ${r.resource.plural}/${r.subresource} ${r.name} ${r.object?.kind} ${r.dryRun}`), ['CREATE pods/binding p Binding true']);
    assert.equal((await pods.get('a', 'p')).metadata.resourceVersion, p.metadata.resourceVersion, 'a dry run writes nothing');

    registry.admission = new AdmissionChain([{ name: 'Deny', validate() { throw errors.forbidden('', 'pods', 'p', 'no bindings here'); } }]);
    assert.equal((await refused(bindPod(pods, 'a', 'p', binding('p', 'n1')))).http, 403);
    assert.equal((await pods.get('a', 'p')).spec.nodeName, undefined);
  });
});

test('a status write racing the binding is retried, not lost: both land', async () => {
  await withPods(async (pods) => {
    await pending(pods, 'p');
    const store = pods.backend;
    let raced = false;
    const update = store.update.bind(store);
    // The first binding write finds the pod changed since it was read (a status patch came between).
    store.update = async (key, value, rev) => {
      if (!raced && key.endsWith('/a/p') && value.includes('"nodeName"')) {
        raced = true;
        await pods.guaranteedUpdate('a', 'p', (p) => { p.status = { ...(p.status ?? {}), message: 'hello' }; return p; }, { subresource: 'status' });
      }
      return update(key, value, rev);
    };
    await bindPod(pods, 'a', 'p', binding('p', 'n1'));
    const p = await pods.get('a', 'p');
    assert.ok(raced);
    assert.equal(p.spec.nodeName, 'n1');
    assert.equal(p.status.message, 'hello');
  });
});
