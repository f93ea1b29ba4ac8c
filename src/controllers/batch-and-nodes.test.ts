import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { R } from '../client/client.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { startTestEnv, waitFor, type TestEnv } from './control-plane.fixture.ts';
import { startBatchAndNodeControllers } from './batch-and-nodes.ts';
import { JOBS } from './job/job-controller.ts';
import { SERVICE_ACCOUNTS } from './serviceaccount/serviceaccount-controller.ts';

let env: TestEnv;
let factory: InformerFactory;
let stop: () => Promise<void>;

before(async () => {
  env = await startTestEnv();
  factory = new InformerFactory(env.client);
  const c = await startBatchAndNodeControllers(env.client, factory, env.log, { nodeGracePeriodSeconds: 20 });
  stop = () => c.stop();
});
after(async () => {
  await stop();
  factory.stop();
  await env.close();
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
