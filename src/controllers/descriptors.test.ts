import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R, type ResourceRef } from '../client/client.ts';
import { InformerFactory, type InformerScope } from '../client/informer-factory.ts';
import type { SharedInformer } from '../client/informer.ts';
import { controllerContext, startNamedControllers, startTestEnv, waitFor, type TestEnv } from './control-plane.fixture.ts';
import type { ControllerDescriptor } from './controller-descriptor.ts';
import { CONTROLLER_DESCRIPTORS, descriptorsNamed } from './descriptors.ts';
import { everyResource, refOf } from './every-resource.ts';
import { JOBS } from './job/job-controller.ts';
import { SERVICE_ACCOUNTS } from './serviceaccount/serviceaccount-controller.ts';
import { startControllers } from './start-controllers.ts';

let env: TestEnv;
let stop: () => Promise<void>;

/** Every controller the leader runs beyond the API's own (which the test server already runs). */
const LEADER_ONLY = CONTROLLER_DESCRIPTORS.filter((d) => !d.apiSemantics).map((d) => d.name);

before(async () => {
  env = await startTestEnv();
  const c = await startNamedControllers(env, LEADER_ONLY, { nodeGracePeriodSeconds: 20 });
  stop = () => c.stop();
});
after(async () => {
  await stop();
  await env.close();
});

/** A factory that notes every informer asked of it (never started). */
class RecordingFactory extends InformerFactory {
  readonly asked = new Set<string>();
  override forResource(ref: ResourceRef, scope: InformerScope = {}): SharedInformer {
    this.asked.add(watchId(ref, scope));
    return super.forResource(ref, scope);
  }
}

function watchId(ref: ResourceRef, scope: InformerScope = {}): string {
  return [ref.group, ref.version, ref.resource, scope.namespace ?? '', scope.labelSelector ?? '', scope.fieldSelector ?? ''].join('|');
}

function declared(d: ControllerDescriptor): Set<string> {
  const every = everyResource(env.server.registry.types.map((t) => t.info));
  if (d.watches === 'every-resource') return new Set(every.map((i) => watchId(refOf(i))));
  // Namespaces themselves too: their deletion is what it acts on.
  if (d.watches === 'every-namespaced-resource') return new Set([watchId(R.namespaces), ...every.filter((i) => i.namespaced).map((i) => watchId(refOf(i)))]);
  return new Set(d.watches.map((w) => watchId(w.ref, w.scope)));
}

test('every descriptor watches exactly what it declares', () => {
  for (const d of CONTROLLER_DESCRIPTORS) {
    const factory = new RecordingFactory(env.client);
    d.build({ ...controllerContext(env), factory }, env.log);
    assert.deepEqual([...factory.asked].sort(), [...declared(d)].sort(), `${d.name}: the informers it asks for differ from its watches`);
  }
});

test('names are unique; an unknown name or a name twice is refused', async () => {
  const names = CONTROLLER_DESCRIPTORS.map((d) => d.name);
  assert.equal(new Set(names).size, names.length);
  assert.throws(() => descriptorsNamed('job', 'no-such-controller'), /unknown controllers: no-such-controller/);
  const job = descriptorsNamed('job');
  await assert.rejects(startControllers([...job, ...job], controllerContext(env)), /unique/);
});

test('every namespace gets a default ServiceAccount, re-created when deleted', async () => {
  await env.client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } });
  const sa = () => env.client.get(SERVICE_ACCOUNTS, 'team-a', 'default').then(() => true, () => false);
  await waitFor(sa, 'default SA');
  await env.client.delete(SERVICE_ACCOUNTS, 'team-a', 'default');
  await waitFor(sa, 'default SA again');
  assert.ok(await sa());
});

test('the wired controllers run Jobs', async () => {
  await env.client.create(JOBS, 'default', {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'wired' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  await waitFor(async () => (await env.client.list(R.pods, 'default', { labelSelector: 'batch.kubernetes.io/job-name=wired' })).items.length === 1, 'job pod');
});
