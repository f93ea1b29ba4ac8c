import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Attributes } from '../../auth/attributes.ts';
import { startTestEnv, type TestEnv } from '../control-plane.fixture.ts';
import { registryScales } from './scale-client.ts';

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
let env: TestEnv;
before(async () => { env = await startTestEnv(); });
after(async () => { await env.close(); });

test('scale client: kinds resolve to their scale subresource; get and update through the Scale, a stale resourceVersion is a conflict', async () => {
  const scales = registryScales(env.server.registry);
  assert.deepEqual(scales.resolve('apps/v1', 'Deployment'), DEPLOYMENTS);
  assert.deepEqual(scales.resolve('v1', 'ReplicationController'), { group: '', version: 'v1', resource: 'replicationcontrollers' });
  assert.deepEqual(scales.resolve('apps/v1beta2', 'StatefulSet'), { group: 'apps', version: 'v1', resource: 'statefulsets' }, 'another version of the group\'s kind');
  assert.equal(scales.resolve('v1', 'Pod'), undefined, 'no scale subresource');
  assert.equal(scales.resolve('example.com/v1', 'Deployment'), undefined);
  await env.client.create(DEPLOYMENTS, 'default', {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'host' }] } } },
  });
  const scale = await scales.get(DEPLOYMENTS, 'default', 'd');
  assert.equal(scale.kind, 'Scale');
  assert.equal(scale.spec.replicas, 2);
  assert.equal(scale.status.selector, 'app=d');
  const updated = await scales.update(DEPLOYMENTS, 'default', { ...scale, spec: { replicas: 5 } });
  assert.equal(updated.spec.replicas, 5);
  assert.equal((await env.client.get(DEPLOYMENTS, 'default', 'd')).spec.replicas, 5);
  await assert.rejects(scales.update(DEPLOYMENTS, 'default', { ...scale, spec: { replicas: 1 } }), (err: Error & { reason?: string }) => err.reason === 'Conflict');
});

test('scale client: authorized as get/update of <resource>/scale for the client\'s identity', async () => {
  const asked: Attributes[] = [];
  const client = env.client.as({
    user: { name: 'system:serviceaccount:kube-system:horizontal-pod-autoscaler', groups: [] },
    authorizer: { authorize: (a) => { asked.push(a); return a.verb === 'get' ? 'allow' : 'deny'; } },
  });
  const scales = registryScales(env.server.registry, client);
  const scale = await scales.get(DEPLOYMENTS, 'default', 'd');
  assert.deepEqual({ verb: asked[0].verb, resource: asked[0].resource, subresource: asked[0].subresource, path: asked[0].path },
    { verb: 'get', resource: 'deployments', subresource: 'scale', path: '/apis/apps/v1/namespaces/default/deployments/d/scale' });
  await assert.rejects(scales.update(DEPLOYMENTS, 'default', { ...scale, spec: { replicas: 1 } }), (err: Error & { reason?: string }) => err.reason === 'Forbidden');
});
