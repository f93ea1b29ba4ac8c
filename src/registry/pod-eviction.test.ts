import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { ApiError } from '../errors/index.ts';
import { openStore } from '../storage/index.ts';
import { AdmissionChain, type AdmissionRequest } from './admission/admission.ts';
import { resourceTypes } from './kinds/index.ts';
import { evictPod } from './pod-subresources.ts';
import { Registry } from './registry.ts';
import type { ResourceStore } from './resource-store.ts';

interface Env { registry: Registry; pods: ResourceStore; pdbs: ResourceStore }

async function withRegistry(fn: (env: Env) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-eviction-'));
  const backend = await openStore('sqlite', dir);
  try {
    const registry = new Registry(backend, resourceTypes());
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    await fn({ registry, pods: registry.store('', 'pods')!, pdbs: registry.store('policy', 'poddisruptionbudgets')! });
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** A pod bound to a node (so deletion is graceful), in `phase`, Ready or not. */
async function pod(pods: ResourceStore, name: string, opts: { phase?: string; ready?: boolean; labels?: Record<string, string> } = {}): Promise<KubeObject> {
  await pods.create('a', { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: opts.labels ?? { app: 'web' } }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'host' }] } });
  return pods.guaranteedUpdate('a', name, (p) => {
    p.status = { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] };
    return p;
  }, { subresource: 'status' });
}

/** A budget whose status says what the disruption controller would have written. */
async function budget(pdbs: ResourceStore, name: string, status: Record<string, unknown>, spec: Record<string, unknown> = {}): Promise<KubeObject> {
  await pdbs.create('a', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } }, ...spec } });
  return pdbs.guaranteedUpdate('a', name, (p) => { p.status = { observedGeneration: 1, ...status }; return p; }, { subresource: 'status' });
}

const eviction = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name, namespace: 'a' }, ...extra });
const evict = (env: Env, name: string, extra: Record<string, unknown> = {}) => evictPod(env.pods, 'a', name, eviction(name, extra), {}, env.pdbs);

async function refused(p: Promise<unknown>): Promise<ApiError> {
  try { await p; } catch (err) { if (err instanceof ApiError) return err; throw err; }
  assert.fail('the eviction was not refused');
}

test('no budget: the pod is marked DisruptionTarget and deleted gracefully; 201 Success', async () => {
  await withRegistry(async (env) => {
    await pod(env.pods, 'p1', { labels: { app: 'other' } });
    await budget(env.pdbs, 'web', { disruptionsAllowed: 0 });
    assert.deepEqual(await evict(env, 'p1'), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    const p = await env.pods.get('a', 'p1');
    assert.ok(p.metadata.deletionTimestamp, 'deleting');
    const c = p.status.conditions.find((x: { type: string }) => x.type === 'DisruptionTarget');
    assert.deepEqual({ ...c, lastTransitionTime: undefined }, { type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: undefined, reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' });
  });
});

test('a budget allowing one disruption: the first eviction takes it (recorded in disruptedPods), the next gets 429', async () => {
  await withRegistry(async (env) => {
    for (const n of ['w0', 'w1', 'w2']) await pod(env.pods, n);
    await budget(env.pdbs, 'web', { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 });
    await evict(env, 'w1');
    const after = await env.pdbs.get('a', 'web');
    assert.equal(after.status.disruptionsAllowed, 0);
    assert.deepEqual(Object.keys(after.status.disruptedPods), ['w1']);
    assert.match(after.status.disruptedPods.w1, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const cond = after.status.conditions.find((c: { type: string }) => c.type === 'DisruptionAllowed');
    assert.deepEqual([cond.status, cond.reason, cond.message, cond.observedGeneration], ['False', 'InsufficientPods', '', 1]);
    const err = await refused(evict(env, 'w2'));
    assert.deepEqual(err.toStatus(), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 429, reason: 'TooManyRequests',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      details: { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web needs 2 healthy pods and has 3 currently' }] },
    });
    assert.equal((await env.pods.get('a', 'w2')).metadata.deletionTimestamp, undefined, 'w2 untouched');
  });
});

test('two evictions at once against one allowed disruption: exactly one gets through', async () => {
  await withRegistry(async (env) => {
    for (const n of ['w0', 'w1', 'w2']) await pod(env.pods, n);
    await budget(env.pdbs, 'web', { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 });
    const results = await Promise.allSettled([evict(env, 'w0'), evict(env, 'w1'), evict(env, 'w2')]);
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results));
    for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as ApiError).http, 429);
    assert.equal(Object.keys((await env.pdbs.get('a', 'web')).status.disruptedPods).length, 1);
  });
});

test('a budget whose generation the controller has not observed yet: 429, retry after 10 s', async () => {
  await withRegistry(async (env) => {
    await pod(env.pods, 'w0');
    await budget(env.pdbs, 'web', { disruptionsAllowed: 1 });
    await env.pdbs.guaranteedUpdate('a', 'web', (p) => { p.spec.maxUnavailable = 2; return p; });
    const err = await refused(evict(env, 'w0'));
    assert.equal(err.http, 429);
    assert.deepEqual(err.details, { causes: [{ reason: 'DisruptionBudget', message: 'The disruption budget web is still being processed by the server.' }], retryAfterSeconds: 10 });
  });
});

test('more than one budget: a 500 Status without reason', async () => {
  await withRegistry(async (env) => {
    await pod(env.pods, 'w0');
    await budget(env.pdbs, 'web', { disruptionsAllowed: 1 });
    await budget(env.pdbs, 'all', { disruptionsAllowed: 1 }, { selector: {} });
    const err = await refused(evict(env, 'w0'));
    assert.deepEqual(err.toStatus(), { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code: 500, message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' });
  });
});

test('an empty selector covers every pod of the namespace, an absent one none', async () => {
  await withRegistry(async (env) => {
    await pod(env.pods, 'w0', { labels: { anything: 'x' } });
    await pod(env.pods, 'w1', { labels: { anything: 'x' } });
    await budget(env.pdbs, 'everything', { disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 2 }, { selector: {} });
    assert.equal((await refused(evict(env, 'w0'))).http, 429);
    await env.pdbs.guaranteedUpdate('a', 'everything', (p) => { delete p.spec.selector; return p; });
    await env.pdbs.guaranteedUpdate('a', 'everything', (p) => { p.status.observedGeneration = 2; return p; }, { subresource: 'status' });
    await evict(env, 'w1');
    assert.ok((await env.pods.get('a', 'w1')).metadata.deletionTimestamp);
  });
});

test('terminal and Pending pods are evicted whatever the budget says; a terminal pod goes at once', async () => {
  await withRegistry(async (env) => {
    await pod(env.pods, 'done', { phase: 'Failed', ready: false });
    await pod(env.pods, 'pending', { phase: 'Pending', ready: false });
    await budget(env.pdbs, 'web', { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 2 });
    await evict(env, 'done');
    await assert.rejects(env.pods.get('a', 'done'), /not found/);
    await evict(env, 'pending');
    assert.ok((await env.pods.get('a', 'pending')).metadata.deletionTimestamp);
    assert.equal((await env.pdbs.get('a', 'web')).status.disruptedPods, undefined, 'nothing taken from the budget');
  });
});

test('unready pods: evicted without taking a disruption while the budget is met, or always with AlwaysAllow', async () => {
  await withRegistry(async (env) => {
    await pod(env.pods, 'sick', { ready: false });
    await pod(env.pods, 'sick2', { ready: false });
    await budget(env.pdbs, 'web', { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2 });
    // IfHealthyBudget (the default) and the budget is not met: the unready pod is protected too.
    assert.equal((await refused(evict(env, 'sick'))).http, 429);
    await env.pdbs.guaranteedUpdate('a', 'web', (p) => { p.status.currentHealthy = 2; return p; }, { subresource: 'status' });
    await evict(env, 'sick');
    assert.ok((await env.pods.get('a', 'sick')).metadata.deletionTimestamp);
    await env.pdbs.guaranteedUpdate('a', 'web', (p) => { p.spec.unhealthyPodEvictionPolicy = 'AlwaysAllow'; return p; });
    await env.pdbs.guaranteedUpdate('a', 'web', (p) => { p.status = { ...p.status, currentHealthy: 0, observedGeneration: 2 }; return p; }, { subresource: 'status' });
    await evict(env, 'sick2');
    assert.ok((await env.pods.get('a', 'sick2')).metadata.deletionTimestamp);
    const after = await env.pdbs.get('a', 'web');
    assert.equal(after.status.disruptionsAllowed, 0);
    assert.equal(after.status.disruptedPods, undefined);
  });
});

test('dry run: the budget is checked but nothing is written, in the eviction body or as an option', async () => {
  await withRegistry(async (env) => {
    await pod(env.pods, 'w0');
    const before = await budget(env.pdbs, 'web', { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2 });
    await evict(env, 'w0', { deleteOptions: { dryRun: ['All'] } });
    await evictPod(env.pods, 'a', 'w0', eviction('w0'), { dryRun: true }, env.pdbs);
    assert.equal((await env.pdbs.get('a', 'web')).metadata.resourceVersion, before.metadata.resourceVersion);
    const p = await env.pods.get('a', 'w0');
    assert.equal(p.metadata.deletionTimestamp, undefined);
    assert.equal(p.status.conditions.some((c: { type: string }) => c.type === 'DisruptionTarget'), false);
    await env.pdbs.guaranteedUpdate('a', 'web', (b) => { b.status.disruptionsAllowed = 0; return b; }, { subresource: 'status' });
    assert.equal((await refused(evict(env, 'w0', { deleteOptions: { dryRun: ['All'] } }))).http, 429);
  });
});

test("the eviction's deleteOptions apply (grace period, uid precondition); admission sees CREATE pods/eviction", async () => {
  await withRegistry(async (env) => {
    const seen: AdmissionRequest[] = [];
    env.registry.admission = new AdmissionChain([{ name: 'Record', validate(req) { seen.push(req); } }]);
    const p = await pod(env.pods, 'w0');
    const user = { name: 'jane', groups: ['system:authenticated'] };
    const err = await refused(evictPod(env.pods, 'a', 'w0', eviction('w0', { deleteOptions: { preconditions: { uid: 'not-it' } } }), { user }, env.pdbs));
    assert.equal(err.http, 409);
    await evictPod(env.pods, 'a', 'w0', eviction('w0', { deleteOptions: { gracePeriodSeconds: 7, preconditions: { uid: p.metadata.uid } } }), { user }, env.pdbs);
    assert.equal((await env.pods.get('a', 'w0')).metadata.deletionGracePeriodSeconds, 7);
    const ev = seen.filter((r) => r.subresource === 'eviction');
    assert.deepEqual(ev.map((r) => [r.operation, r.name, r.user.name, r.object?.kind]), [['CREATE', 'w0', 'jane', 'Eviction'], ['CREATE', 'w0', 'jane', 'Eviction']]);
    assert.ok(seen.some((r) => r.operation === 'DELETE' && r.user.name === 'system:apiserver'), 'the delete is the API server\'s own');
  });
});
