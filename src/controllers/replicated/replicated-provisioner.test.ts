/**
 * The replicated provisioner with the PV binder against a real API server; the storage nodes' side
 * (engine volume made, health, deletion) is played by hand through the PV's annotations.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { REPLICATED_PROVISIONER, STORAGE_NODE_LABEL } from '../../apis/volumes/replicated.ts';
import {
  ANN_BRICK_DIR, ANN_BRICK_FULL_PREFIX, ANN_BRICK_REMOVED_PREFIX, ANN_HEALTH, ANN_REPLACE, ANN_VOLUME_STATE, bricksOf, engineVolumeName, isReplicatedVolume,
} from '../../apis/volumes/replicated-volume.ts';
import { R } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { startNamedControllers, startTestEnv, waitFor, type TestEnv } from '../control-plane.fixture.ts';
import { STORAGE_CLASSES } from '../persistentvolume/pv-controller.ts';
import type { RunningControllers } from '../start-controllers.ts';

let env: TestEnv;
let running: RunningControllers;

before(async () => {
  env = await startTestEnv();
  running = await startNamedControllers(env, ['persistentvolume-binder', 'replicated-provisioner']);
  // The server made the class at start (server/bootstrap.ts).
  assert.equal((await c().get(STORAGE_CLASSES, undefined, 'replicated')).provisioner, REPLICATED_PROVISIONER);
});
after(async () => {
  await running.stop();
  await env.close();
});

const c = () => env.client;
let ip = 10;
async function storageNode(name: string, extra: { zone?: string; ready?: boolean } = {}): Promise<void> {
  const labels: Record<string, string> = { [STORAGE_NODE_LABEL]: 'true', ...(extra.zone ? { 'topology.kubernetes.io/zone': extra.zone } : {}) };
  await c().create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name, labels, annotations: { [ANN_BRICK_DIR]: `/data/${name}/bricks` } } });
  const node = await c().get(R.nodes, undefined, name);
  await c().update(R.nodes, undefined, {
    ...node,
    status: {
      addresses: [{ type: 'InternalIP', address: `198.18.9.${ip++}` }],
      conditions: [{ type: 'Ready', status: extra.ready === false ? 'False' : 'True', reason: 'KubeletReady' }],
    },
  }, 'status');
}
const claim = (name: string): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, storageClassName: 'replicated' },
});
const events = async (name: string) => (await c().list(R.events, undefined, { fieldSelector: `involvedObject.name=${name}` })).items.map((e) => `${e.reason}: ${e.message}`);
const hasEvent = (name: string, re: RegExp) => waitFor(async () => (await events(name)).find((e) => re.test(e)), `event ${re} on ${name}`);
const bound = (name: string) => waitFor(async () => { const x = await c().get(R.persistentvolumeclaims, 'default', name); return x.status?.phase === 'Bound' ? x : undefined; }, `${name} Bound`);
const annotate = (pv: string, annotations: Record<string, string | null>) => c().patch(R.persistentvolumes, undefined, pv, 'merge', { metadata: { annotations } });

test('with two storage nodes a claim stays Pending and says why; a third node gets it a PV with three bricks on three nodes', async () => {
  await storageNode('s-1');
  await storageNode('s-2');
  await storageNode('s-down', { ready: false });
  const pvc = await c().create(R.persistentvolumeclaims, 'default', claim('data'));
  const why = await hasEvent('data', /ProvisioningFailed: waiting for 3 storage nodes/);
  assert.match(why, /2 available \(s-1, s-2\); not available: s-down \(not Ready\)/);
  assert.equal((await c().get(R.persistentvolumeclaims, 'default', 'data')).status?.phase, 'Pending');
  await storageNode('s-3');
  const b = await bound('data');
  assert.equal(b.spec.volumeName, `pvc-${pvc.metadata.uid}`);
  const pv = await c().get(R.persistentvolumes, undefined, b.spec.volumeName);
  assert.ok(isReplicatedVolume(pv));
  assert.equal(engineVolumeName(pv), pv.metadata.name);
  const bricks = bricksOf(pv);
  assert.deepEqual(bricks.map((x) => x.node).sort(), ['s-1', 's-2', 's-3']);
  assert.deepEqual(bricks.map((x) => x.path).sort(), ['s-1', 's-2', 's-3'].map((n) => `/data/${n}/bricks/${pv.metadata.name}/brick`));
  assert.equal(new Set(bricks.map((x) => x.address)).size, 3);
  assert.equal(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
  assert.equal(pv.spec.nodeAffinity, undefined);
  await hasEvent('data', /ProvisioningSucceeded: Successfully provisioned volume pvc-.* \(glusterfs replica 3: /);
});

test('a degraded report becomes the status message and one VolumeDegraded event (PV and claim); healed, one VolumeHealed', async () => {
  const pvName = (await bound('data')).spec.volumeName;
  const report = (online: number, offline: string[], pendingHeal: number) => annotate(pvName, { [ANN_HEALTH]: JSON.stringify({ online, total: 3, offline, pendingHeal, checkedAt: new Date().toISOString() }) });
  await report(3, [], 0);
  await report(2, ['s-2'], 5);
  const pv = await waitFor(async () => { const x = await c().get(R.persistentvolumes, undefined, pvName); return /^degraded/.test(x.status?.message ?? '') ? x : undefined; }, 'degraded message');
  assert.equal(pv.status.message, 'degraded: 2 of 3 replicas online; offline: s-2; 5 entries to heal');
  await hasEvent(pvName, /VolumeDegraded: volume pvc-.* is degraded: 2 of 3 replicas online/);
  await hasEvent('data', /VolumeDegraded/);
  await report(2, ['s-2'], 7);
  await report(3, [], 0);
  await hasEvent(pvName, /VolumeHealed: volume pvc-.* is whole again: healthy: 3 of 3 replicas online/);
  await hasEvent('data', /VolumeHealed/);
  assert.equal((await events(pvName)).filter((e) => e.startsWith('VolumeDegraded')).length, 1);
});

test('a brick whose filesystem is full makes the volume Degraded with the node and its space; space back, Healed', async () => {
  const pvName = (await bound('data')).spec.volumeName;
  await annotate(pvName, { [ANN_HEALTH]: JSON.stringify({ online: 3, total: 3, offline: [], pendingHeal: 0, checkedAt: new Date().toISOString() }) });
  // The same Healed message as an earlier case's is aggregated into that event: count it.
  const healedCount = async () => (await c().list(R.events, undefined, { fieldSelector: `involvedObject.name=${pvName}` })).items
    .filter((e) => e.reason === 'VolumeHealed').reduce((n, e) => n + (e.count ?? 1), 0);
  const healed = await healedCount();
  await annotate(pvName, { [`${ANN_BRICK_FULL_PREFIX}s-1`]: JSON.stringify({ free: 524288, total: 67108864 }) });
  const pv = await waitFor(async () => { const x = await c().get(R.persistentvolumes, undefined, pvName); return /full/.test(x.status?.message ?? '') ? x : undefined; }, 'full message');
  assert.equal(pv.status.message, 'degraded: 3 of 3 replicas online; brick disk full on s-1 (0.5 MiB free of 64.0 MiB)');
  await hasEvent(pvName, /VolumeDegraded: volume pvc-.* is degraded: .*brick disk full on s-1/);
  await hasEvent('data', /VolumeDegraded: .*brick disk full on s-1/);
  await annotate(pvName, { [`${ANN_BRICK_FULL_PREFIX}s-1`]: null });
  await waitFor(async () => (await healedCount()) > healed || undefined, 'healed again');
  assert.match((await c().get(R.persistentvolumes, undefined, pvName)).status.message, /^healthy: 3 of 3/);
});

test('a replica whose node has not been Ready for the rebuild wait moves to a spare storage node (ReplicaMoved)', async () => {
  const pvName = (await bound('data')).spec.volumeName;
  await storageNode('s-4');
  const lost = bricksOf(await c().get(R.persistentvolumes, undefined, pvName))[1];
  const n = await c().get(R.nodes, undefined, lost.node);
  await c().update(R.nodes, undefined, { ...n, status: { ...n.status, conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', lastTransitionTime: new Date(Date.now() - 60_000).toISOString() }] } }, 'status');
  const pv = await waitFor(async () => { const x = await c().get(R.persistentvolumes, undefined, pvName); return x.metadata.annotations?.[ANN_REPLACE] ? x : undefined; }, 'replace requested');
  const { from, to } = JSON.parse(pv.metadata.annotations![ANN_REPLACE]);
  assert.equal(from.node, lost.node);
  assert.equal(to.node, 's-4');
  assert.deepEqual(bricksOf(pv).map((b) => b.node).sort(), ['s-1', 's-2', 's-3', 's-4'].filter((x) => x !== lost.node));
  await hasEvent(pvName, new RegExp(`ReplicaMoved: replica of ${pvName} moves from ${lost.node} to s-4 \\(${lost.node} is not Ready\\)`));
  // The storage nodes did it: no second move while the first one stands.
  await annotate(pvName, { [ANN_REPLACE]: null });
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await c().get(R.persistentvolumes, undefined, pvName)).metadata.annotations?.[ANN_REPLACE], undefined);
});

test('a released Delete volume goes once the engine volume is deleted and every live brick node removed its brick', async () => {
  const pvName = (await bound('data')).spec.volumeName;
  await c().delete(R.persistentvolumeclaims, 'default', 'data');
  await waitFor(async () => (await c().get(R.persistentvolumes, undefined, pvName)).status?.phase === 'Released' || undefined, 'Released');
  const holders = bricksOf(await c().get(R.persistentvolumes, undefined, pvName)).map((b) => b.node);
  await annotate(pvName, { [ANN_VOLUME_STATE]: 'Deleted', ...Object.fromEntries(holders.slice(0, 2).map((n) => [ANN_BRICK_REMOVED_PREFIX + n, 'true'])) });
  await new Promise((r) => setTimeout(r, 300));
  assert.ok(await c().get(R.persistentvolumes, undefined, pvName), `still waits for ${holders[2]}`);
  await annotate(pvName, { [ANN_BRICK_REMOVED_PREFIX + holders[2]]: 'true' });
  await waitFor(async () => { try { await c().get(R.persistentvolumes, undefined, pvName); return undefined; } catch (err) { return isNotFound(err) || undefined; } }, 'PV deleted');
});
