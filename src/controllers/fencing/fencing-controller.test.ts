// The fencing controller on a real API server with a fake clock and fake nodes (no agents): the
// wait, the fence on pod/PVC/PV, the brick nodes' acks, the force delete, MemberMoved, the lift; a
// local-path member staying put and moving empty once opted in; a node that does not self-fence
// and the out-of-service taint.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { rfc3339 } from '../../apis/time.ts';
import { ANN_FENCE, ANN_FENCE_ACK_PREFIX, ANN_NODE_FENCE_AFTER, ANN_REPLACE_WITH_EMPTY_VOLUME } from '../../apis/volumes/replicated.ts';
import { ANN_BRICKS } from '../../apis/volumes/replicated-volume.ts';
import { R } from '../../client/client.ts';
import { startControllerEnv, waitFor, type ControllerEnv } from '../control-plane.fixture.ts';
import { FakeClock } from '../cronjob/clock.ts';
import { STATEFULSETS } from '../statefulset/statefulset-controller.ts';
import { ANN_MOVED_FROM, FencingController } from './fencing-controller.ts';

const clock = new FakeClock(Date.parse('2026-12-06T10:00:00Z'));
let h: ControllerEnv<FencingController>;
const c = () => h.env.client;

before(async () => {
  h = await startControllerEnv((e, f) => new FencingController(e.client, f, e.log, { clock }), 1);
  for (const n of ['w1', 'w2', 'w3', 'w4']) await node(n, 'True', 5);
});
after(() => h.stop());

async function node(name: string, ready: string, fenceAfter?: number, taints?: object[]): Promise<void> {
  const cur = await c().get(R.nodes, undefined, name).catch(() => undefined);
  const obj: KubeObject = cur ?? { apiVersion: 'v1', kind: 'Node', metadata: { name } };
  obj.metadata.annotations = { ...(obj.metadata.annotations ?? {}), ...(fenceAfter ? { [ANN_NODE_FENCE_AFTER]: String(fenceAfter) } : {}), touched: String(Math.random()) };
  if (!fenceAfter) delete obj.metadata.annotations[ANN_NODE_FENCE_AFTER];
  obj.spec = { ...(obj.spec ?? {}), taints };
  const written = cur ? await c().update(R.nodes, undefined, obj) : await c().create(R.nodes, undefined, obj);
  await c().update(R.nodes, undefined, { ...written, status: { conditions: [{ type: 'Ready', status: ready, lastTransitionTime: rfc3339(clock.now()) }] } }, 'status');
}

/** Wakes the controller after the fake clock moved (its own timers run on real time). */
const touch = async (name: string) => c().patch(R.nodes, undefined, name, 'merge', { metadata: { annotations: { touched: String(Math.random()) } } });

async function member(ns: string, setName: string, ord: number, nodeName: string, claim?: string, setAnn: Record<string, string> = {}): Promise<KubeObject> {
  await c().create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
  let set = await c().get(STATEFULSETS, ns, setName).catch(() => undefined);
  set ??= await c().create(STATEFULSETS, ns, {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: setName, annotations: setAnn },
    spec: { serviceName: setName, selector: { matchLabels: { app: setName } }, template: { metadata: { labels: { app: setName } }, spec: { containers: [{ name: 'c', image: 'host' }] } } },
  });
  const pod = await c().create(R.pods, ns, {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `${setName}-${ord}`, labels: { app: setName }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: setName, uid: set.metadata.uid!, controller: true }] },
    spec: { nodeName, containers: [{ name: 'c', image: 'host' }], ...(claim ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: claim } }] } : {}) },
  });
  return c().update(R.pods, ns, { ...pod, status: { phase: 'Running' } }, 'status');
}

async function volume(ns: string, claim: string, pv: string, source: Record<string, unknown>, annotations: Record<string, string> = {}): Promise<void> {
  await c().create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
  const pvc = await c().create(R.persistentvolumeclaims, ns, { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: claim }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeName: pv } });
  await c().create(R.persistentvolumes, undefined, {
    apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: pv, annotations },
    spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], claimRef: { namespace: ns, name: claim, uid: pvc.metadata.uid }, ...source },
  });
}

async function reasons(ns: string, name: string, uid?: string): Promise<string[]> {
  const items = (await c().list(R.events, ns)).items.filter((e) => e.involvedObject?.name === name && (!uid || e.involvedObject?.uid === uid));
  return items.sort((a, b) => Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion)).map((e) => e.reason);
}
const gone = async (ns: string, name: string, uid: string) => {
  const p = await c().get(R.pods, ns, name).catch(() => undefined);
  return !p || p.metadata.uid !== uid;
};
const fenceOf = (o: KubeObject) => (o.metadata.annotations?.[ANN_FENCE] ? JSON.parse(o.metadata.annotations[ANN_FENCE]) : undefined);

test('a replicated member of a lost node: NodeLost, then after fenceAfter + margin the fence on pod/PVC/PV, acks awaited, force delete, MemberMoved; fences lifted when the node is back', async () => {
  const bricks = JSON.stringify(['w1', 'w2', 'w3'].map((n) => ({ node: n, address: `198.18.0.${n.slice(1)}`, path: '/b' })));
  await volume('rep', 'data-db-0', 'pv-rep', { csi: { driver: 'berth.dev/replicated', volumeHandle: 'pv-rep' } }, { [ANN_BRICKS]: bricks });
  const old = await member('rep', 'db', 0, 'w1', 'data-db-0');
  await node('w1', 'Unknown', 5);
  await waitFor(async () => (await reasons('rep', 'db-0')).includes('NodeLost'), 'NodeLost');
  // Not before fenceAfter (5 s) + margin (2 s) since NotReady.
  clock.advance(6500);
  await touch('w1');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(fenceOf(await c().get(R.pods, 'rep', 'db-0')), undefined, 'fenced before fenceAfter + margin');
  clock.advance(600);
  await touch('w1');
  const fence = await waitFor(async () => fenceOf(await c().get(R.pods, 'rep', 'db-0')), 'the pod fence');
  assert.deepEqual({ node: fence.node, generation: fence.generation, pod: fence.pod }, { node: 'w1', generation: 1, pod: old.metadata.uid });
  await waitFor(async () => fenceOf(await c().get(R.persistentvolumes, undefined, 'pv-rep'))?.generation === 1, 'the PV fence');
  assert.equal(fenceOf(await c().get(R.persistentvolumeclaims, 'rep', 'data-db-0')).generation, 1);
  // Brick nodes w2 and w3 are live: the member is not deleted before both have blocked w1.
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!(await gone('rep', 'db-0', old.metadata.uid!)), 'deleted before the storage fence was acknowledged');
  await c().patch(R.persistentvolumes, undefined, 'pv-rep', 'merge', { metadata: { annotations: { [ANN_FENCE_ACK_PREFIX + 'w2']: '1' } } });
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(!(await gone('rep', 'db-0', old.metadata.uid!)), 'deleted with one ack of two');
  await c().patch(R.persistentvolumes, undefined, 'pv-rep', 'merge', { metadata: { annotations: { [ANN_FENCE_ACK_PREFIX + 'w3']: '1' } } });
  await waitFor(() => gone('rep', 'db-0', old.metadata.uid!), 'the old member deleted');
  assert.deepEqual(await reasons('rep', 'db-0', old.metadata.uid), ['NodeLost', 'WaitingForStorageFence', 'MemberFenced']);
  // Its StatefulSet makes it again (here: by hand) on another node; once Running: MemberMoved.
  const again = await member('rep', 'db', 0, 'w2', 'data-db-0');
  const story = await waitFor(async () => (await c().get(R.pods, 'rep', 'db-0')).metadata.annotations?.[ANN_MOVED_FROM], 'the moved-from story');
  assert.deepEqual((({ from, to, generation }) => ({ from, to, generation }))(JSON.parse(story)), { from: 'w1', to: 'w2', generation: 1 });
  await waitFor(async () => (await reasons('rep', 'db-0', again.metadata.uid)).includes('MemberMoved'), 'MemberMoved on the new pod');
  const story4 = ['NodeLost', 'WaitingForStorageFence', 'MemberFenced', 'MemberMoved'];
  for (const obj of ['db', 'data-db-0']) await waitFor(async () => (await reasons('rep', obj)).length === 4, `four events on ${obj}`);
  assert.deepEqual(await reasons('rep', 'db'), story4);
  assert.deepEqual(await reasons('rep', 'data-db-0'), story4);
  // w1 back and Ready, running nothing that uses the claim: the fence is lifted.
  await node('w1', 'True', 5);
  await waitFor(async () => fenceOf(await c().get(R.persistentvolumes, undefined, 'pv-rep')) === undefined, 'the PV fence lifted');
  assert.equal(fenceOf(await c().get(R.persistentvolumeclaims, 'rep', 'data-db-0')), undefined);
  assert.ok((await reasons('rep', 'data-db-0')).includes('FenceLifted'));
});

test('a local-path member stays put with a condition and the reason; opted in, its claim is deleted and it is moved empty', async () => {
  await volume('lp', 'data-lp-0', 'pv-lp', { local: { path: '/var/lib/berth/storage/x' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['w3'] }] }] } } });
  const old = await member('lp', 'lp', 0, 'w3', 'data-lp-0');
  await node('w3', 'Unknown', 5);
  clock.advance(8000);
  await touch('w3');
  const cond = await waitFor(async () => (await c().get(R.pods, 'lp', 'lp-0')).status?.conditions?.find((x: { type: string }) => x.type === 'MemberNotMoved'), 'the MemberNotMoved condition');
  assert.equal(cond.reason, 'LocalVolumeOnLostNode');
  assert.match(cond.message, /local volume data-lp-0 \(pv-lp\) is on node w3, which is lost; annotate StatefulSet lp berth.dev\/replace-with-empty-volume=true/);
  assert.deepEqual(await reasons('lp', 'lp-0'), ['NodeLost', 'MemberNotMoved']);
  assert.ok(!(await gone('lp', 'lp-0', old.metadata.uid!)));
  assert.equal(fenceOf(await c().get(R.pods, 'lp', 'lp-0')), undefined, 'a member left in place is not fenced');
  // The opt-in alone wakes the controller.
  await c().patch(STATEFULSETS, 'lp', 'lp', 'merge', { metadata: { annotations: { [ANN_REPLACE_WITH_EMPTY_VOLUME]: 'true' } } });
  await waitFor(() => gone('lp', 'lp-0', old.metadata.uid!), 'the member deleted');
  await waitFor(async () => !(await c().get(R.persistentvolumeclaims, 'lp', 'data-lp-0').catch(() => undefined)), 'its local claim deleted');
  assert.deepEqual(await reasons('lp', 'lp-0', old.metadata.uid), ['NodeLost', 'MemberNotMoved', 'MemberFenced', 'MemberReplacedEmpty']);
  await node('w3', 'True', 5);
});

test('a node that does not self-fence: members are not moved (the reason says how); the out-of-service taint moves them at once', async () => {
  await node('w4', 'True');
  const old = await member('oos', 'web', 0, 'w4');
  await node('w4', 'Unknown');
  clock.advance(60_000);
  await touch('w4');
  const cond = await waitFor(async () => (await c().get(R.pods, 'oos', 'web-0')).status?.conditions?.find((x: { type: string }) => x.type === 'MemberNotMoved'), 'the condition');
  assert.equal(cond.reason, 'NodeNotFenced');
  assert.match(cond.message, /does not self-fence .* taint it node.kubernetes.io\/out-of-service=nodeshutdown:NoExecute/);
  assert.ok(!(await gone('oos', 'web-0', old.metadata.uid!)));
  await node('w4', 'Unknown', undefined, [{ key: 'node.kubernetes.io/out-of-service', value: 'nodeshutdown', effect: 'NoExecute' }]);
  await waitFor(() => gone('oos', 'web-0', old.metadata.uid!), 'the member deleted after the taint');
  // Back and Ready: a member's MemberNotMoved condition is cleared.
  await node('w4', 'True');
  const other = await member('oos', 'web', 1, 'w4');
  await c().update(R.pods, 'oos', { ...other, status: { phase: 'Running', conditions: [{ type: 'MemberNotMoved', status: 'True', reason: 'NodeNotFenced', message: 'x' }] } }, 'status');
  await touch('w4');
  await waitFor(async () => !(await c().get(R.pods, 'oos', 'web-1')).status?.conditions?.some((x: { type: string }) => x.type === 'MemberNotMoved'), 'the condition cleared');
  const events = (await c().list(R.events, 'oos')).items.filter((e) => e.reason === 'MemberFenced');
  assert.match(events[0].message, /node.kubernetes.io\/out-of-service taint .*fence generation 1 recorded on the pod \(no replicated volume to block\)/);
});

test('a node Ready again lifts the fences naming it, found by index, and leaves another node\'s and a claim its pods still use', async () => {
  const fence = (n: string) => ({ [ANN_FENCE]: JSON.stringify({ node: n, generation: 3 }) });
  await volume('lift', 'mine', 'pv-mine', { hostPath: { path: '/tmp/x' } }, fence('w2'));
  await volume('lift', 'theirs', 'pv-theirs', { hostPath: { path: '/tmp/y' } }, fence('w9'));
  await volume('lift', 'used', 'pv-used', { hostPath: { path: '/tmp/z' } });
  await member('lift', 'u', 0, 'w2', 'used');
  // Fences set after the objects were cached: the index follows the updates.
  for (const [claim, n] of [['mine', 'w2'], ['theirs', 'w9'], ['used', 'w2']]) {
    await c().patch(R.persistentvolumeclaims, 'lift', claim, 'merge', { metadata: { annotations: fence(n) } });
  }
  await c().patch(R.persistentvolumes, undefined, 'pv-used', 'merge', { metadata: { annotations: fence('w2') } });
  await node('w2', 'True', 5);
  await waitFor(async () => fenceOf(await c().get(R.persistentvolumeclaims, 'lift', 'mine')) === undefined, 'w2\'s fence lifted from its claim');
  await waitFor(async () => fenceOf(await c().get(R.persistentvolumes, undefined, 'pv-mine')) === undefined, 'and from its PV');
  assert.equal(fenceOf(await c().get(R.persistentvolumeclaims, 'lift', 'theirs'))?.node, 'w9', 'another node\'s fence stays');
  assert.equal(fenceOf(await c().get(R.persistentvolumes, undefined, 'pv-theirs'))?.node, 'w9');
  assert.equal(fenceOf(await c().get(R.persistentvolumeclaims, 'lift', 'used'))?.node, 'w2', 'a claim a pod of w2 uses keeps its fence');
});
