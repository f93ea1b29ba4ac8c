import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { startTestEnv, waitFor, type TestEnv } from '../control-plane.fixture.ts';

// The test server runs the namespace controller itself (an `apiSemantics` controller runs with controllers off).
let env: TestEnv;
before(async () => { env = await startTestEnv(); });
after(() => env.close());

const HOLD = 'test.berth.dev/hold';
const exists = (p: Promise<unknown>) => p.then(() => true, (err) => { if (isNotFound(err)) return false; throw err; });

test('a deleted namespace is emptied — Events too — and goes once the last object held by a finalizer is released', async () => {
  const ns = 'ns-lifecycle';
  await env.client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  await env.client.create(R.configmaps, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'plain' } });
  await env.client.create(R.secrets, ns, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' } });
  await env.client.create(R.configmaps, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: [HOLD] } });
  await env.client.create(R.events, ns, {
    apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, reason: 'Test', message: 'm', type: 'Normal',
    involvedObject: { kind: 'ConfigMap', namespace: ns, name: 'plain' },
  });
  await env.client.delete(R.namespaces, undefined, ns);

  await waitFor(async () => (await env.client.list(R.configmaps, ns)).items.map((c) => c.metadata.name).join() === 'held'
    && !(await exists(env.client.get(R.secrets, ns, 's'))) && !(await exists(env.client.get(R.events, ns, 'e'))), 'everything but the held object deleted');
  const held = await env.client.get(R.configmaps, ns, 'held');
  assert.ok(held.metadata.deletionTimestamp, 'the held object is deleting');
  const terminating = await env.client.get(R.namespaces, undefined, ns);
  assert.equal(terminating.status?.phase, 'Terminating');
  assert.deepEqual(terminating.spec?.finalizers, ['kubernetes'], 'the namespace waits for its contents');

  await env.client.patch(R.configmaps, ns, 'held', 'merge', { metadata: { finalizers: null } });
  await waitFor(async () => !(await exists(env.client.get(R.namespaces, undefined, ns))), 'the namespace gone');
});

test('an empty namespace goes at once', async () => {
  await env.client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns-empty' } });
  await env.client.delete(R.namespaces, undefined, 'ns-empty');
  await waitFor(async () => !(await exists(env.client.get(R.namespaces, undefined, 'ns-empty'))), 'the namespace gone', 3000);
});
