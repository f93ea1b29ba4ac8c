/** The disruption controller against a real API server (pods made and marked Ready by hand: no nodes run them). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { FakeClock } from '../cronjob/clock.ts';
import { markPodReady, startControllerEnv, waitFor, type ControllerEnv, type TestEnv } from '../control-plane.fixture.ts';
import { STATEFULSETS } from '../statefulset/statefulset-controller.ts';
import { DisruptionController, PDBS } from './disruption-controller.ts';

let env: TestEnv;
let harness: ControllerEnv<DisruptionController>;
const clock = new FakeClock(Date.now());

before(async () => {
  harness = await startControllerEnv((e, f) => new DisruptionController(e.client, f, e.log, { clock, resources: e.server.registry.types.map((t) => t.info) }), 2);
  ({ env } = harness);
});
after(() => harness.stop());

/** A StatefulSet object (no controller runs it) and `n` Ready member pods it controls. */
async function members(name: string, replicas: number, n = replicas): Promise<KubeObject> {
  const sts = await env.client.create(STATEFULSETS, 'default', {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
    spec: { replicas, serviceName: name, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'host' }] } } },
  });
  for (let i = 0; i < n; i++) await member(sts, i);
  return sts;
}

async function member(sts: KubeObject, i: number): Promise<KubeObject> {
  const name = sts.metadata.name!;
  const p = await env.client.create(R.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `${name}-${i}`, labels: { app: name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name, uid: sts.metadata.uid!, controller: true }] },
    spec: { containers: [{ name: 'c', image: 'host' }] },
  });
  await markPodReady(env.client, p);
  return p;
}

const budget = (name: string, spec: Record<string, unknown>) => env.client.create(PDBS, 'default', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name }, spec });
const status = async (name: string) => (await env.client.get(PDBS, 'default', name)).status ?? {};
const evict = (pod: string) => env.client.create(R.pods, 'default', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pod, namespace: 'default' } }, 'eviction');

test('maxUnavailable 1 over a 3-member StatefulSet: status, condition, and one eviction at a time', async () => {
  const sts = await members('web', 3);
  await budget('web', { maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } });
  const st = await waitFor(async () => { const s = await status('web'); return s.observedGeneration === 1 && s; }, 'status observed');
  assert.deepEqual({ ...st, conditions: undefined }, { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3, conditions: undefined });
  assert.deepEqual(st.conditions.map((c: Record<string, unknown>) => [c.type, c.status, c.reason, c.message, c.observedGeneration]), [['DisruptionAllowed', 'True', 'SufficientPods', '', 1]]);

  await evict('web-1');
  await assert.rejects(evict('web-2'), (err: Error & { http?: number }) => err.http === 429 && /needs 2 healthy pods and has [23] currently/.test(JSON.stringify(err)));
  // Unbound pods go at once; the controller drops the entry and counts two healthy.
  const down = await waitFor(async () => { const s = await status('web'); return s.currentHealthy === 2 && !s.disruptedPods && s; }, 'web-1 gone from the counts');
  assert.equal(down.disruptionsAllowed, 0);
  assert.equal(down.conditions[0].reason, 'InsufficientPods');
  await assert.rejects(evict('web-2'), /disruption budget/);

  // The member comes back under its name (a new pod) and becomes Ready: one disruption again.
  await member(sts, 1);
  await waitFor(async () => (await status('web')).disruptionsAllowed === 1, 'the replacement counts');
  await evict('web-2');
  await waitFor(async () => { const s = await status('web'); return s.currentHealthy === 2 && s.disruptionsAllowed === 0; }, 'web-2 evicted');
});

test('pods by label index: a member relabelled out of the selector stops counting, and counts again when relabelled back', async () => {
  await members('lab', 3);
  await budget('lab', { minAvailable: 1, selector: { matchLabels: { app: 'lab' } } });
  await waitFor(async () => (await status('lab')).expectedPods === 3, 'three pods counted');
  await env.client.patch(R.pods, 'default', 'lab-2', 'merge', { metadata: { labels: { app: 'elsewhere' } } });
  const s = await waitFor(async () => { const x = await status('lab'); return x.expectedPods === 2 && x; }, 'lab-2 not counted');
  assert.equal(s.currentHealthy, 2);
  await env.client.patch(R.pods, 'default', 'lab-2', 'merge', { metadata: { labels: { app: 'lab' } } });
  await waitFor(async () => { const x = await status('lab'); return x.expectedPods === 3 && x.currentHealthy === 3; }, 'lab-2 counted again');
});

test('a spec change is observed (generation), and evictions wait for it', async () => {
  await members('api', 4);
  await budget('api', { minAvailable: '50%', selector: { matchLabels: { app: 'api' } } });
  await waitFor(async () => (await status('api')).disruptionsAllowed === 2, 'two allowed at 50% of 4');
  const b = await env.client.get(PDBS, 'default', 'api');
  await env.client.update(PDBS, 'default', { ...b, spec: { ...b.spec, minAvailable: 3 } });
  const s = await waitFor(async () => { const x = await status('api'); return x.observedGeneration === 2 && x; }, 'generation 2 observed');
  assert.deepEqual([s.expectedPods, s.desiredHealthy, s.disruptionsAllowed], [4, 3, 1]);
});

test('pods of a controller without scale: the budget fails safe with SyncFailed and an event', async () => {
  const ds = await env.client.create({ group: 'apps', version: 'v1', resource: 'daemonsets' }, 'default', {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent' },
    spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'host' }] } } },
  });
  const p = await env.client.create(R.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'agent-x', labels: { app: 'agent' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: ds.metadata.uid!, controller: true }] },
    spec: { containers: [{ name: 'c', image: 'host' }] },
  });
  await markPodReady(env.client, p);
  await budget('agent', { maxUnavailable: 1, selector: { matchLabels: { app: 'agent' } } });
  const s = await waitFor(async () => { const x = await status('agent'); return x.conditions?.length && x; }, 'a condition');
  assert.equal(s.disruptionsAllowed, 0);
  assert.deepEqual([s.conditions[0].status, s.conditions[0].reason, s.conditions[0].message], ['False', 'SyncFailed', 'daemonsets.apps does not implement the scale subresource']);
  const events = await waitFor(async () => {
    const ev = (await env.client.list(R.events, 'default')).items.filter((e) => e.involvedObject?.name === 'agent' && e.reason === 'CalculateExpectedPodCountFailed');
    return ev.length > 0 && ev;
  }, 'the event');
  assert.match(events[0].message, /Failed to calculate the number of expected pods: daemonsets.apps does not implement the scale subresource/);
  // With an integer minAvailable no scale is needed: the same pod is counted as it is.
  const b = await env.client.get(PDBS, 'default', 'agent');
  await env.client.update(PDBS, 'default', { ...b, spec: { minAvailable: 0, selector: b.spec.selector } });
  await waitFor(async () => { const x = await status('agent'); return x.observedGeneration === 2 && x.disruptionsAllowed === 1 && x.conditions[0].reason === 'SufficientPods'; }, 'counted with minAvailable 0');
});

test('a DisruptionTarget condition left by an eviction that did not delete is reset to False after two minutes', async () => {
  const p = await env.client.create(R.pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stuck' }, spec: { containers: [{ name: 'c', image: 'host' }] } });
  const cur = await env.client.get(R.pods, 'default', p.metadata.name!);
  const since = new Date(clock.now() - 3 * 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
  cur.status = { phase: 'Running', conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting', lastTransitionTime: since }] };
  await env.client.update(R.pods, 'default', cur, 'status');
  const c = await waitFor(async () => {
    const x = (await env.client.get(R.pods, 'default', 'stuck')).status.conditions.find((y: { type: string }) => y.type === 'DisruptionTarget');
    return x.status === 'False' && x;
  }, 'condition reset');
  assert.equal(c.reason, undefined);
});
