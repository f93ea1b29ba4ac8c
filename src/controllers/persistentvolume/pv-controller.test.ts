/**
 * The PersistentVolume binder with the protection controllers and the local-path provisioner, against
 * a real API server (no nodes run anything: helper pods are marked Succeeded by hand).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import {
  ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_DEFAULT_CLASS, ANN_LOCAL_PATH_DIR, ANN_PROVISIONED_BY, ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER, LOCAL_PATH_PROVISIONER, PVC_PROTECTION_FINALIZER, PV_PROTECTION_FINALIZER,
} from '../../apis/volumes/annotations.ts';
import { R } from '../../client/client.ts';
import { isNotFound } from '../../client/errors.ts';
import { startNamedControllers, startTestEnv, waitFor, type TestEnv } from '../control-plane.fixture.ts';
import type { RunningControllers } from '../start-controllers.ts';
import { STORAGE_CLASSES } from './pv-controller.ts';

let env: TestEnv;
let running: RunningControllers;

before(async () => {
  env = await startTestEnv();
  running = await startNamedControllers(env, ['persistentvolume-binder', 'pvc-protection', 'pv-protection', 'local-path-provisioner']);
});
after(async () => {
  await running.stop();
  await env.close();
});

const c = () => env.client;
const pv = (name: string, size: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], storageClassName: 'manual', hostPath: { path: `/tmp/${name}` }, ...spec },
});
const pvc = (name: string, size: string, spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, ...meta },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } }, storageClassName: 'manual', ...spec },
});
const sc = (name: string, extra: Record<string, unknown> = {}, annotations: Record<string, string> = {}): KubeObject => ({
  apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name, annotations }, provisioner: LOCAL_PATH_PROVISIONER,
  volumeBindingMode: 'WaitForFirstConsumer', reclaimPolicy: 'Delete', ...extra,
});
const getPvc = (name: string, ns = 'default') => c().get(R.persistentvolumeclaims, ns, name);
const getPv = (name: string) => c().get(R.persistentvolumes, undefined, name);
const gone = async (fn: () => Promise<unknown>) => { try { await fn(); return false; } catch (err) { return isNotFound(err); } };
const events = async (name: string) => (await c().list(R.events, undefined, { fieldSelector: `involvedObject.name=${name}` })).items.map((e) => `${e.reason}: ${e.message}`);
const hasEvent = (name: string, re: RegExp) => waitFor(async () => (await events(name)).find((e) => re.test(e)), `event ${re} on ${name}`);

test('an Immediate claim binds the smallest matching Available volume; both get the binding annotations and phases', async () => {
  await c().create(R.persistentvolumes, undefined, pv('big', '10Gi'));
  await c().create(R.persistentvolumes, undefined, pv('fit', '2Gi'));
  // Only Available volumes are matched (as upstream): the claim must not race fit's first sync.
  await waitFor(async () => (await getPv('fit')).status?.phase === 'Available' && (await getPv('big')).status?.phase === 'Available', 'volumes Available');
  await c().create(R.persistentvolumeclaims, 'default', pvc('data', '1Gi'));
  const claim = await waitFor(async () => { const x = await getPvc('data'); return x.status?.phase === 'Bound' ? x : undefined; }, 'data Bound');
  assert.equal(claim.spec.volumeName, 'fit');
  assert.equal(claim.metadata.annotations![ANN_BIND_COMPLETED], 'yes');
  assert.equal(claim.metadata.annotations![ANN_BOUND_BY_CONTROLLER], 'yes');
  assert.deepEqual(claim.status.capacity, { storage: '2Gi' });
  assert.deepEqual(claim.status.accessModes, ['ReadWriteOnce']);
  const vol = await waitFor(async () => { const x = await getPv('fit'); return x.status?.phase === 'Bound' ? x : undefined; }, 'fit Bound');
  assert.equal(vol.spec.claimRef.uid, claim.metadata.uid);
  assert.equal(vol.metadata.annotations![ANN_BOUND_BY_CONTROLLER], 'yes');
  assert.ok(vol.metadata.finalizers!.includes(PV_PROTECTION_FINALIZER));
  assert.ok(claim.metadata.finalizers!.includes(PVC_PROTECTION_FINALIZER));
  await waitFor(async () => (await getPv('big')).status?.phase === 'Available', 'big Available');
});

test('volumeName and claimRef pre-bindings are honoured; a mismatch is an event', async () => {
  await c().create(R.persistentvolumes, undefined, pv('reserved', '1Gi', { claimRef: { namespace: 'default', name: 'wants-reserved' } }));
  await c().create(R.persistentvolumes, undefined, pv('named', '1Gi'));
  await c().create(R.persistentvolumes, undefined, pv('too-small', '1Mi'));
  await c().create(R.persistentvolumeclaims, 'default', pvc('wants-reserved', '1Gi'));
  await c().create(R.persistentvolumeclaims, 'default', pvc('wants-named', '1Gi', { volumeName: 'named' }));
  await c().create(R.persistentvolumeclaims, 'default', pvc('wants-small', '1Gi', { volumeName: 'too-small' }));
  await waitFor(async () => (await getPvc('wants-reserved')).spec.volumeName === 'reserved', 'reserved bound');
  const named = await waitFor(async () => { const x = await getPvc('wants-named'); return x.status?.phase === 'Bound' ? x : undefined; }, 'named bound');
  // A user's binding is not the controller's.
  assert.equal(named.metadata.annotations![ANN_BOUND_BY_CONTROLLER], undefined);
  await hasEvent('wants-small', /^VolumeMismatch: Cannot bind to requested volume "too-small": requested PV is too small$/);
  assert.equal((await getPvc('wants-small')).status.phase, 'Pending');
});

test('a released volume: Retain keeps it Released; Delete of a static volume fails with an event', async () => {
  await c().create(R.persistentvolumes, undefined, pv('keep', '1Gi', { storageClassName: 'retain', persistentVolumeReclaimPolicy: 'Retain' }));
  await c().create(R.persistentvolumes, undefined, pv('static-delete', '1Gi', { storageClassName: 'delete', persistentVolumeReclaimPolicy: 'Delete' }));
  await c().create(R.persistentvolumeclaims, 'default', pvc('r1', '1Gi', { storageClassName: 'retain' }));
  await c().create(R.persistentvolumeclaims, 'default', pvc('d1', '1Gi', { storageClassName: 'delete' }));
  await waitFor(async () => (await getPv('keep')).status?.phase === 'Bound' && (await getPv('static-delete')).status?.phase === 'Bound', 'both bound');
  await c().delete(R.persistentvolumeclaims, 'default', 'r1');
  await c().delete(R.persistentvolumeclaims, 'default', 'd1');
  await waitFor(async () => (await getPv('keep')).status?.phase === 'Released', 'keep Released');
  await waitFor(async () => (await getPv('static-delete')).status?.phase === 'Failed', 'static-delete Failed');
  await hasEvent('static-delete', /^VolumeFailedDelete: error getting deleter volume plugin/);
});

test('protection: a claim used by a scheduled pod and a bound volume stay Terminating until released', async () => {
  await c().create(R.persistentvolumes, undefined, pv('prot', '1Gi', { storageClassName: 'prot' }));
  await c().create(R.persistentvolumeclaims, 'default', pvc('prot', '1Gi', { storageClassName: 'prot' }));
  await waitFor(async () => (await getPvc('prot')).status?.phase === 'Bound' && (await getPvc('prot')).metadata.finalizers?.length, 'prot bound');
  await waitFor(async () => (await getPv('prot')).metadata.finalizers?.length, 'pv finalizer');
  await c().create(R.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'user' },
    spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'host' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'prot' } }] },
  });
  await c().delete(R.persistentvolumes, undefined, 'prot');
  await c().delete(R.persistentvolumeclaims, 'default', 'prot');
  await new Promise((r) => setTimeout(r, 300));
  assert.ok((await getPvc('prot')).metadata.deletionTimestamp, 'the claim waits for its pod');
  assert.ok((await getPv('prot')).metadata.deletionTimestamp, 'the volume waits for its claim');
  await c().delete(R.pods, 'default', 'user', { gracePeriodSeconds: 0 });
  await waitFor(() => gone(() => getPvc('prot')), 'claim gone');
  await waitFor(() => gone(() => getPv('prot')), 'volume gone');
});

test('a claim naming no class gets the default class; an unknown class is a ProvisioningFailed event', async () => {
  await c().create(STORAGE_CLASSES, undefined, sc('dflt', { provisioner: 'example.com/none' }, { [ANN_DEFAULT_CLASS]: 'true' }));
  await c().create(R.persistentvolumeclaims, 'default', pvc('classless', '1Gi', { storageClassName: undefined }));
  await waitFor(async () => (await getPvc('classless')).spec.storageClassName === 'dflt', 'default class assigned');
  await hasEvent('classless', /^WaitForFirstConsumer: waiting for first consumer to be created before binding$/);
  await c().create(R.persistentvolumeclaims, 'default', pvc('nowhere', '1Gi', { storageClassName: 'no-such-class' }));
  await hasEvent('nowhere', /^ProvisioningFailed: storageclass\.storage\.k8s\.io "no-such-class" not found$/);
});

test('local-path: WaitForFirstConsumer waits for its pod, provisions on the selected node, deletes through a helper pod', async () => {
  await c().create(STORAGE_CLASSES, undefined, sc('lp', { allowVolumeExpansion: false }));
  await c().create(R.nodes, undefined, {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'n1' }, annotations: { [ANN_LOCAL_PATH_DIR]: '/var/lib/berth-test/storage' } },
    status: { capacity: { 'ephemeral-storage': '100Gi' } },
  });
  await c().create(R.persistentvolumeclaims, 'default', pvc('lp1', '1Gi', { storageClassName: 'lp' }));
  await c().create(R.pods, 'default', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'consumer' },
    spec: { containers: [{ name: 'c', image: 'host' }], volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'lp1' } }] },
  });
  await hasEvent('lp1', /^WaitForPodScheduled: waiting for pod consumer to be scheduled$/);
  assert.equal((await getPvc('lp1')).status.phase, 'Pending');
  // What the scheduler does in PreBind.
  const claim = await getPvc('lp1');
  claim.metadata.annotations = { ...(claim.metadata.annotations ?? {}), [ANN_SELECTED_NODE]: 'n1' };
  await c().update(R.persistentvolumeclaims, 'default', claim);
  const bound = await waitFor(async () => { const x = await getPvc('lp1'); return x.status?.phase === 'Bound' ? x : undefined; }, 'lp1 Bound');
  assert.equal(bound.metadata.annotations![ANN_STORAGE_PROVISIONER], LOCAL_PATH_PROVISIONER);
  const vol = await getPv(bound.spec.volumeName);
  assert.equal(vol.metadata.name, `pvc-${bound.metadata.uid}`);
  assert.equal(vol.metadata.annotations![ANN_PROVISIONED_BY], LOCAL_PATH_PROVISIONER);
  assert.equal(vol.spec.local.path, `/var/lib/berth-test/storage/${vol.metadata.name}_default_lp1`);
  assert.deepEqual(vol.spec.nodeAffinity.required.nodeSelectorTerms, [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }]);
  assert.equal(vol.spec.persistentVolumeReclaimPolicy, 'Delete');
  assert.equal(vol.spec.storageClassName, 'lp');
  const seen = await events('lp1');
  assert.ok(seen.some((e) => /^ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'berth\.dev\/local-path'/.test(e)), seen.join('\n'));
  assert.ok(seen.includes('Provisioning: External provisioner is provisioning volume for claim "default/lp1"'), seen.join('\n'));
  assert.ok(seen.includes(`ProvisioningSucceeded: Successfully provisioned volume ${vol.metadata.name}`), seen.join('\n'));

  // Growing: refused by the class (condition + event), then allowed by another volume's class.
  const grow = await getPvc('lp1');
  grow.spec.resources.requests.storage = '2Gi';
  await c().update(R.persistentvolumeclaims, 'default', grow);
  const refused = await waitFor(async () => { const x = await getPvc('lp1'); return x.status?.conditions?.find((k: any) => k.type === 'ControllerResizeError'); }, 'resize refused');
  assert.match(refused.message, /does not allow volume expansion/);
  assert.equal((await getPv(vol.metadata.name!)).spec.capacity.storage, '1Gi');

  await c().delete(R.pods, 'default', 'consumer', { gracePeriodSeconds: 0 });
  await c().delete(R.persistentvolumeclaims, 'default', 'lp1');
  const helperName = `helper-pod-delete-${vol.metadata.name}`;
  const helper = await waitFor(async () => { try { return await c().get(R.pods, 'kube-system', helperName); } catch { return undefined; } }, 'helper pod');
  assert.equal(helper.spec.nodeName, 'n1');
  assert.deepEqual(helper.spec.containers[0].command, ['rm', '-rf', '--one-file-system', '--', vol.spec.local.path]);
  assert.equal((await getPv(vol.metadata.name!)).status.phase, 'Released');
  // The node's agent ran it.
  await c().update(R.pods, 'kube-system', { ...helper, status: { phase: 'Succeeded' } }, 'status');
  await waitFor(() => gone(() => getPv(vol.metadata.name!)), 'volume deleted');
  await waitFor(() => gone(() => c().get(R.pods, 'kube-system', helperName)), 'helper pod deleted');
});

test('local-path: expansion allowed by the class grows the volume and the claim at once', async () => {
  await c().create(STORAGE_CLASSES, undefined, sc('lp-grow', { allowVolumeExpansion: true }));
  await c().create(R.persistentvolumeclaims, 'default', pvc('g1', '1Gi', { storageClassName: 'lp-grow' }, { annotations: { [ANN_SELECTED_NODE]: 'n1' } }));
  const bound = await waitFor(async () => { const x = await getPvc('g1'); return x.status?.phase === 'Bound' ? x : undefined; }, 'g1 Bound');
  bound.spec.resources.requests.storage = '3Gi';
  await c().update(R.persistentvolumeclaims, 'default', bound);
  await waitFor(async () => (await getPvc('g1')).status?.capacity?.storage === '3Gi', 'claim capacity 3Gi');
  assert.equal((await getPv(bound.spec.volumeName)).spec.capacity.storage, '3Gi');
  await hasEvent('g1', /^VolumeResizeSuccessful: resize volume "pvc-.*" by resizer "berth\.dev\/local-path" finished successfully \(the size is recorded, not enforced/);
  // Too big for the node: refused, nothing changes.
  const big = await getPvc('g1');
  big.spec.resources.requests.storage = '1Pi';
  await c().update(R.persistentvolumeclaims, 'default', big);
  await waitFor(async () => (await getPvc('g1')).status?.conditions?.some((k: any) => k.type === 'ControllerResizeError' && /more than node "n1" holds/.test(k.message)), 'refused for size');
  assert.equal((await getPv(bound.spec.volumeName)).spec.capacity.storage, '3Gi');
});

test('a claim whose volume disappears is Lost', async () => {
  await c().create(R.persistentvolumes, undefined, pv('fleeting', '1Gi', { storageClassName: 'fleeting' }));
  await c().create(R.persistentvolumeclaims, 'default', pvc('f1', '1Gi', { storageClassName: 'fleeting' }));
  await waitFor(async () => (await getPvc('f1')).status?.phase === 'Bound', 'f1 Bound');
  // Deleted, then forced out by removing the protection finalizer (an administrator insisting).
  await c().delete(R.persistentvolumes, undefined, 'fleeting');
  const v = await getPv('fleeting');
  assert.ok(v.metadata.deletionTimestamp && v.metadata.finalizers!.includes(PV_PROTECTION_FINALIZER), 'a bound volume waits');
  await c().update(R.persistentvolumes, undefined, { ...v, metadata: { ...v.metadata, finalizers: [] } });
  await waitFor(async () => (await getPvc('f1')).status?.phase === 'Lost', 'f1 Lost');
  await hasEvent('f1', /^ClaimLost: Bound claim has lost its PersistentVolume\. Data on the volume is lost!$/);
});
