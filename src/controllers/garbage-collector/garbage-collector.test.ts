import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject, OwnerReference } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { startTestEnv, waitFor, type TestEnv } from '../control-plane.fixture.ts';

// The test server runs the garbage collector itself (an `apiSemantics` controller runs with controllers off).
let env: TestEnv;
before(async () => { env = await startTestEnv(); });
after(() => env.close());

const NS = 'default';
const HOLD = 'test.berth.dev/hold';
const RUNTIME_CLASSES = { group: 'node.k8s.io', version: 'v1', resource: 'runtimeclasses' };

const cm = (name: string, meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, ...meta } });
const create = (name: string, meta: Partial<KubeObject['metadata']> = {}) => env.client.create(R.configmaps, NS, cm(name, meta));
const ref = (owner: KubeObject, blockOwnerDeletion?: boolean): OwnerReference => ({ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name!, uid: owner.metadata.uid!, blockOwnerDeletion });
const get = (name: string) => env.client.get(R.configmaps, NS, name).catch((err) => { if (isNotFound(err)) return undefined; throw err; });
const gone = async (name: string) => (await get(name)) === undefined;
const release = (name: string) => env.client.patch(R.configmaps, NS, name, 'merge', { metadata: { finalizers: null } });

test('background: a dependent whose owners are all gone is deleted; one with a live owner only loses the reference', async () => {
  const a = await create('bg-a');
  const b = await create('bg-b');
  await create('bg-only-a', { ownerReferences: [ref(a)] });
  await create('bg-both', { ownerReferences: [ref(a), ref(b)] });
  await env.client.delete(R.configmaps, NS, 'bg-a');
  await waitFor(() => gone('bg-only-a'), 'bg-only-a collected');
  const both = await waitFor(async () => { const o = await get('bg-both'); return o?.metadata.ownerReferences?.length === 1 && o; }, 'the reference to bg-a removed');
  assert.equal(both.metadata.ownerReferences![0].uid, b.metadata.uid);
});

test('orphan: the owner goes, its dependents stay without the reference', async () => {
  const owner = await create('or-owner');
  await create('or-dep', { ownerReferences: [ref(owner, true)] });
  await env.client.delete(R.configmaps, NS, 'or-owner', { propagationPolicy: 'Orphan' });
  await waitFor(() => gone('or-owner'), 'owner gone');
  const dep = await get('or-dep');
  assert.ok(dep, 'the dependent stays');
  assert.equal(dep.metadata.ownerReferences, undefined);
  assert.equal(dep.metadata.deletionTimestamp, undefined);
});

test('foreground: the owner waits for blocking dependents only; non-blocking ones are deleted too', async () => {
  const owner = await create('fg-owner');
  await create('fg-blocking', { ownerReferences: [ref(owner, true)], finalizers: [HOLD] });
  await create('fg-loose', { ownerReferences: [ref(owner)], finalizers: [HOLD] });
  await env.client.delete(R.configmaps, NS, 'fg-owner', { propagationPolicy: 'Foreground' });
  await waitFor(async () => (await get('fg-blocking'))?.metadata.deletionTimestamp && (await get('fg-loose'))?.metadata.deletionTimestamp, 'both dependents deleting');
  await release('fg-loose');
  await waitFor(() => gone('fg-loose'), 'the non-blocking dependent gone');
  const held = await get('fg-owner');
  assert.ok(held?.metadata.finalizers?.includes('foregroundDeletion'), `the owner waits: ${JSON.stringify(held?.metadata)}`);
  await release('fg-blocking');
  await waitFor(async () => (await gone('fg-blocking')) && (await gone('fg-owner')), 'the blocking dependent, then the owner, gone');
});

test('foreground down a chain: a dependent with dependents of its own is deleted in the foreground too', async () => {
  const top = await create('ch-top');
  const mid = await create('ch-mid', { ownerReferences: [ref(top, true)] });
  await create('ch-leaf', { ownerReferences: [ref(mid, true)], finalizers: [HOLD] });
  await env.client.delete(R.configmaps, NS, 'ch-top', { propagationPolicy: 'Foreground' });
  await waitFor(async () => (await get('ch-leaf'))?.metadata.deletionTimestamp, 'the leaf deleting');
  const m = await get('ch-mid');
  assert.ok(m?.metadata.finalizers?.includes('foregroundDeletion'), `the middle waits for the leaf: ${JSON.stringify(m?.metadata)}`);
  assert.ok(await get('ch-top'), 'the top waits for the middle');
  await release('ch-leaf');
  await waitFor(async () => (await gone('ch-leaf')) && (await gone('ch-mid')) && (await gone('ch-top')), 'the chain gone, bottom up');
});

test('an owner that never existed, or was re-created, is gone; an unresolvable owner keeps its dependent', async () => {
  const rc = await env.client.create(RUNTIME_CLASSES, undefined, {
    apiVersion: 'node.k8s.io/v1', kind: 'RuntimeClass', handler: 'h',
    // A cluster-scoped object cannot have a namespaced owner: Kubernetes leaves such a reference alone.
    metadata: { name: 'gc-unresolvable', ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'no-such-uid' }] },
  });
  const old = await create('re-owner');
  await env.client.delete(R.configmaps, NS, 're-owner');
  await create('re-owner');
  await create('re-dep', { ownerReferences: [ref(old)] });
  await create('never-dep', { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'never', uid: 'never-uid' }] });
  await waitFor(async () => (await gone('re-dep')) && (await gone('never-dep')), 'dependents of gone owners collected');
  assert.ok(await get('re-owner'), 'the new owner of that name stays');
  const still = await env.client.get(RUNTIME_CLASSES, undefined, 'gc-unresolvable');
  assert.equal(still.metadata.uid, rc.metadata.uid);
  assert.equal(still.metadata.deletionTimestamp, undefined);
});
