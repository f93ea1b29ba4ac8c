import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { InformerFactory } from '../../client/informer-factory.ts';
import { type ControllerEnv, startControllerEnv, waitFor, type TestEnv } from '../control-plane.fixture.ts';
import { FakeClock } from '../cronjob/clock.ts';
import { NODE_LEASE_NAMESPACE, NodeLifecycleController, readinessTaints, unschedulableTaint } from './node-lifecycle-controller.ts';
import { rfc3339 } from '../../apis/time.ts';

let env: TestEnv;
let factory: InformerFactory;
let ctl: NodeLifecycleController;
let harness: ControllerEnv<NodeLifecycleController>;
const clock = new FakeClock(Date.now());

before(async () => {
  harness = await startControllerEnv((e, f) => new NodeLifecycleController(e.client, f, e.log, { clock, gracePeriodSeconds: 20 }), 2);
  ({ env, factory } = harness);
  ctl = harness.ctl;
});
after(() => harness.stop());

test('readinessTaints adds and removes the managed taints only', () => {
  const other = { key: 'x', effect: 'NoSchedule' };
  assert.deepEqual(readinessTaints('Unknown', [other], 't').map((t) => `${t.key}:${t.effect}`), ['x:NoSchedule', 'node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  assert.deepEqual(readinessTaints('False', [other], 't').map((t) => t.key), ['x', 'node.kubernetes.io/not-ready', 'node.kubernetes.io/not-ready']);
  assert.deepEqual(readinessTaints('True', readinessTaints('Unknown', [other], 't'), 't'), [other]);
});

const taintKeys = async (n: string) => ((await env.client.get(R.nodes, undefined, n)).spec?.taints ?? []).map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`).sort();

/** The node's conditions as the agent reports them: a status patch, not a read-modify-write the controller could race. */
async function setConditions(name: string, conditions: object[]): Promise<void> {
  await env.client.patch(R.nodes, undefined, name, 'merge', { status: { conditions } }, 'status');
}

async function renew(name: string): Promise<void> {
  const lease = await env.client.get(R.leases, NODE_LEASE_NAMESPACE, name);
  lease.spec.renewTime = new Date(clock.now()).toISOString().replace('Z', '000Z');
  await env.client.update(R.leases, NODE_LEASE_NAMESPACE, lease);
}

function pod(name: string, extra: Partial<KubeObject['metadata']> = {}, tolerations?: unknown[]): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...extra }, spec: { nodeName: 'w1', containers: [{ name: 'c', image: 'x' }], ...(tolerations ? { tolerations } : {}) } };
}
const gone = async (name: string) => { try { const p = await env.client.get(R.pods, 'default', name); return !!p.metadata.deletionTimestamp; } catch { return true; } };

test('unschedulableTaint: the cordon taint follows spec.unschedulable, other taints untouched', () => {
  const other = { key: 'x', effect: 'NoSchedule' };
  const cordoned = unschedulableTaint([other], true);
  assert.deepEqual(cordoned, [other, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }]);
  assert.equal(unschedulableTaint(cordoned, true), cordoned);
  assert.deepEqual(unschedulableTaint(cordoned, false), [other]);
});

test('a silent node goes Unknown and unreachable; pods are evicted per toleration; StatefulSet pods stay; recovery untaints', async () => {
  const t0 = clock.now();
  await env.client.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NODE_LEASE_NAMESPACE } }).catch(() => undefined);
  await env.client.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w1' }, spec: {} });
  await setConditions('w1', [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: rfc3339(t0), lastTransitionTime: rfc3339(t0) }, { type: 'MemoryPressure', status: 'False' }]);
  await env.client.create(R.leases, NODE_LEASE_NAMESPACE, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'w1' }, spec: { holderIdentity: 'w1', leaseDurationSeconds: 40, renewTime: new Date(t0).toISOString().replace('Z', '000Z') } });
  // Kubernetes' default 300 s, and a pod naming none (DefaultTolerationSeconds admission gives it 30 s).
  await env.client.create(R.pods, 'default', pod('plain', {}, ['not-ready', 'unreachable'].map((t) => ({ key: `node.kubernetes.io/${t}`, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }))));
  const defaulted = await env.client.create(R.pods, 'default', pod('defaulted'));
  assert.deepEqual(defaulted.spec.tolerations.map((t: { tolerationSeconds: number }) => t.tolerationSeconds), [30, 30]);
  await env.client.create(R.pods, 'default', pod('short', {}, [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }]));
  await env.client.create(R.pods, 'default', pod('forever', {}, [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]));
  // A real owner, or the garbage collector would delete the pod.
  const sts = await env.client.create({ group: 'apps', version: 'v1', resource: 'statefulsets' }, 'default', {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'sts' },
    spec: { serviceName: 'sts', selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } } },
  });
  await env.client.create(R.pods, 'default', pod('sts-0', { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'sts', uid: sts.metadata.uid!, controller: true }] }, [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }]));

  clock.advance(10_000);
  ctl.queue.add('w1');
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(await taintKeys('w1'), [], 'within the grace period');

  clock.advance(15_000);
  ctl.queue.add('w1');
  await waitFor(async () => (await taintKeys('w1')).length === 2, 'unreachable taints');
  assert.deepEqual(await taintKeys('w1'), ['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
  const node = await env.client.get(R.nodes, undefined, 'w1');
  for (const c of node.status.conditions) assert.deepEqual([c.status, c.reason, c.message], ['Unknown', 'NodeStatusUnknown', 'Kubelet stopped posting node status.']);
  assert.equal(await gone('plain'), false, '300 s toleration');

  clock.advance(6_000);
  ctl.queue.add('w1');
  await waitFor(() => gone('short'), 'short-toleration pod evicted');
  assert.equal(await gone('sts-0'), false, 'StatefulSet pods are not evicted');
  // Events are recorded after the writes they follow: wait for them.
  const reasons = await waitFor(async () => { const r = (await env.client.list(R.events, 'default')).items.map((e) => e.reason as string); return r.includes('TaintManagerEviction') && r.includes('NodeNotReady') && r; }, 'TaintManagerEviction and NodeNotReady events');
  assert.ok(reasons.includes('TaintManagerEviction') && reasons.includes('NodeNotReady'), reasons.join());
  assert.equal(await gone('defaulted'), false, 'within its 30 s');
  clock.advance(30_000);
  ctl.queue.add('w1');
  await waitFor(() => gone('defaulted'), 'the defaulted pod evicted after 30 s');
  assert.equal(await gone('plain'), false);

  clock.advance(300_000);
  ctl.queue.add('w1');
  await waitFor(() => gone('plain'), 'plain pod evicted after 300 s');
  assert.equal(await gone('forever'), false);

  // The kubelet comes back: a fresh lease and Ready=True.
  await renew('w1');
  await setConditions('w1', [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: rfc3339(clock.now()) }]);
  await waitFor(async () => (await taintKeys('w1')).length === 0, 'taints removed');
});

test('Ready=False gets the not-ready taints', async () => {
  await env.client.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w2' }, spec: {} });
  await setConditions('w2', [{ type: 'Ready', status: 'False', reason: 'KubeletNotReady', lastHeartbeatTime: rfc3339(clock.now()) }]);
  await waitFor(async () => JSON.stringify(await taintKeys('w2')) === JSON.stringify(['node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/not-ready:NoSchedule']), 'not-ready taints');
});

test('the grace period must cover two Lease renewals (2 s each): a shorter one is refused at construction', () => {
  assert.throws(() => new NodeLifecycleController(env.client, factory, undefined, { gracePeriodSeconds: 3 }),
    /--node-monitor-grace-period 3 s is too short: node agents renew their Lease every 2 s, so a grace under 4 s \(two renewals\) would make healthy nodes flap NotReady/);
  assert.throws(() => new NodeLifecycleController(env.client, factory, undefined, { gracePeriodSeconds: 0 }), /must be a positive number/);
});

test('a node whose clock is a minute behind: not NotReady while it renews, and reported once as NodeClockSkew', async () => {
  const behind = 60_000;
  const stamp = () => new Date(clock.now() - behind).toISOString().replace('Z', '000Z');
  await env.client.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w3' }, spec: {} });
  await setConditions('w3', [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: rfc3339(clock.now() - behind) }]);
  await env.client.create(R.leases, NODE_LEASE_NAMESPACE, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'w3' }, spec: { holderIdentity: 'w3', leaseDurationSeconds: 10, renewTime: stamp() } });
  // Renewals every 2 s (of the controller's clock) for 40 s, each stamped a minute late.
  for (let i = 0; i < 20; i++) {
    clock.advance(2000);
    const lease = await env.client.get(R.leases, NODE_LEASE_NAMESPACE, 'w3');
    lease.spec.renewTime = stamp();
    await env.client.update(R.leases, NODE_LEASE_NAMESPACE, lease);
    await new Promise((r) => setTimeout(r, 30));
  }
  await waitFor(async () => (await env.client.list(R.events, 'default')).items.some((e) => e.reason === 'NodeClockSkew' && e.involvedObject.name === 'w3'), 'a NodeClockSkew event');
  const skew = (await env.client.list(R.events, 'default')).items.filter((e) => e.reason === 'NodeClockSkew' && e.involvedObject.name === 'w3');
  assert.equal(skew.length, 1);
  assert.equal(skew[0].type, 'Warning');
  assert.match(skew[0].message, /stamped 6\d\.\d s behind the control plane's clock, more than the 20 s grace period/);
  const node = await env.client.get(R.nodes, undefined, 'w3');
  assert.equal(node.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True', 'never marked Unknown');
  assert.deepEqual(await taintKeys('w3'), []);
  // It stops renewing: NotReady one grace period after its last renewal arrived.
  clock.advance(21_000);
  ctl.queue.add('w3');
  await waitFor(async () => (await taintKeys('w3')).includes('node.kubernetes.io/unreachable:NoExecute'), 'unreachable once it is silent');
});

test('a node that stops posting status: its pods are marked not Ready at once (MarkPodsNotReady), before any eviction', async () => {
  const t0 = clock.now();
  await env.client.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'w4' }, spec: {} });
  await setConditions('w4', [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: rfc3339(t0) }]);
  await env.client.create(R.leases, NODE_LEASE_NAMESPACE, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'w4' }, spec: { holderIdentity: 'w4', leaseDurationSeconds: 10, renewTime: new Date(t0).toISOString().replace('Z', '000Z') } });
  const tolerations = [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }];
  await env.client.create(R.pods, 'default', { ...pod('served', {}, tolerations), spec: { ...pod('served').spec, nodeName: 'w4', tolerations } });
  await env.client.patch(R.pods, 'default', 'served', 'merge', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'ContainersReady', status: 'True' }] } }, 'status');
  clock.advance(25_000);
  ctl.queue.add('w4');
  const readyOf = async () => (await env.client.get(R.pods, 'default', 'served')).status.conditions.find((c: { type: string }) => c.type === 'Ready');
  await waitFor(async () => (await readyOf()).status === 'False', 'the pod not Ready');
  const ready = await readyOf();
  assert.equal(ready.reason, 'NodeNotReady');
  assert.equal(await gone('served'), false, 'still there: its toleration has 300 s');
});
