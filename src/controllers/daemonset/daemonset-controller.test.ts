import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { InformerFactory } from '../../client/informer-factory.ts';
import { type ControllerEnv, startControllerEnv, listPods, markPodsReady, waitFor, type TestEnv } from '../control-plane.fixture.ts';
import { CONTROLLER_REVISIONS, DAEMONSETS, DaemonSetController } from './daemonset-controller.ts';
import { targetNodeOf } from './node-eligibility.ts';

let env: TestEnv;
let factory: InformerFactory;
let harness: ControllerEnv<DaemonSetController>;

before(async () => {
  harness = await startControllerEnv((e, f) => new DaemonSetController(e.client, f, e.log), 2);
  ({ env, factory } = harness);
});
after(() => harness.stop());

const node = (name: string, taints: unknown[] = []): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { taints } });
const ds = (name: string, updateStrategy: unknown): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name },
  spec: {
    selector: { matchLabels: { app: name } }, updateStrategy,
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'agent:1' }] } },
  },
});
const nodesOf = async (app: string) => (await listPods(env.client, 'default', `app=${app}`)).map((p) => targetNodeOf(p)).sort();
const status = async (name: string) => (await env.client.get(DAEMONSETS, 'default', name)).status ?? {};

test('one pod per eligible node; taints, new nodes, NoExecute eviction, status and revisions', async () => {
  await env.client.create(R.nodes, undefined, node('n1'));
  await env.client.create(R.nodes, undefined, node('n2', [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]));
  await env.client.create(R.nodes, undefined, node('n3', [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]));
  await env.client.create(DAEMONSETS, 'default', ds('agent', { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } }));
  await waitFor(async () => JSON.stringify(await nodesOf('agent')) === '["n1","n2"]', 'pods on n1 and n2');
  const [pod] = await listPods(env.client, 'default', 'app=agent');
  const terms = pod.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms;
  assert.equal(terms[0].matchFields[0].key, 'metadata.name');
  assert.equal(pod.spec.nodeName, undefined, 'left for the scheduler to bind');
  assert.ok(pod.spec.tolerations.some((t: { key: string; tolerationSeconds?: number }) => t.key === 'node.kubernetes.io/unreachable' && t.tolerationSeconds == null));
  assert.ok(pod.metadata.labels?.['controller-revision-hash']);
  const revs = (await env.client.list(CONTROLLER_REVISIONS, 'default')).items;
  assert.equal(revs.length, 1);
  assert.equal(revs[0].metadata.name, `agent-${pod.metadata.labels!['controller-revision-hash']}`);
  assert.equal((revs[0] as { revision?: number }).revision, 1);

  await env.client.create(R.nodes, undefined, node('n4'));
  await waitFor(async () => (await nodesOf('agent')).includes('n4'), 'pod on the new node');
  await env.client.patch(R.nodes, undefined, 'n1', 'merge', { spec: { taints: [{ key: 'evict', effect: 'NoExecute' }] } });
  await waitFor(async () => !(await nodesOf('agent')).includes('n1'), 'pod gone from the NoExecute node');

  await markPodsReady(env.client, 'default', 'app=agent');
  const st = await waitFor(async () => { const s = await status('agent'); return s.numberReady === 2 && s; }, 'numberReady');
  assert.equal(st.desiredNumberScheduled, 2);
  assert.equal(st.currentNumberScheduled, 2);
  assert.equal(st.numberAvailable, 2);
  assert.equal(st.updatedNumberScheduled, 2);
  assert.equal(st.numberMisscheduled, 0);
  assert.equal(st.observedGeneration, 1);
});

test('RollingUpdate replaces pods at most maxUnavailable at a time; a second revision appears', async () => {
  await env.client.patch(DAEMONSETS, 'default', 'agent', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } });
  let maxDown = 0;
  await waitFor(async () => {
    await markPodsReady(env.client, 'default', 'app=agent');
    const pods = await listPods(env.client, 'default', 'app=agent');
    const ready = pods.filter((p) => (p.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True'));
    maxDown = Math.max(maxDown, 2 - new Set(ready.map(targetNodeOf)).size);
    return pods.length === 2 && pods.every((p) => p.spec.containers[0].image === 'agent:2');
  }, 'all pods updated', 10_000);
  assert.ok(maxDown <= 1, `unavailable nodes ${maxDown}`);
  const revs = (await env.client.list(CONTROLLER_REVISIONS, 'default')).items.map((r) => (r as { revision?: number }).revision).sort();
  assert.deepEqual(revs, [1, 2]);
  await waitFor(async () => (await status('agent')).updatedNumberScheduled === 2, 'updatedNumberScheduled');
});

test('OnDelete keeps old pods until they are deleted', async () => {
  await env.client.create(DAEMONSETS, 'default', ds('od', { type: 'OnDelete' }));
  await waitFor(async () => (await nodesOf('od')).length === 2, 'od pods');
  await env.client.patch(DAEMONSETS, 'default', 'od', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'agent:2' }] } } } });
  await new Promise((r) => setTimeout(r, 300));
  const pods = await listPods(env.client, 'default', 'app=od');
  assert.ok(pods.every((p) => p.spec.containers[0].image === 'agent:1'));
  await env.client.delete(R.pods, 'default', pods[0].metadata.name!);
  await waitFor(async () => (await listPods(env.client, 'default', 'app=od')).filter((p) => p.spec.containers[0].image === 'agent:2').length === 1, 'replaced with the new template');
});
