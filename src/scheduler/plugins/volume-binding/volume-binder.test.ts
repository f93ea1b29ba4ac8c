/**
 * The scheduler with its volume binder, the PV controller and the local-path provisioner on a real
 * server (nodes are objects only): WaitForFirstConsumer claims are provisioned or bound on the node
 * the pod gets, before the pod is bound.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../../../apis/object.ts';
import { ANN_LOCAL_PATH_DIR, ANN_SELECTED_NODE, LOCAL_PATH_PROVISIONER, NO_PROVISIONER } from '../../../apis/volumes/annotations.ts';
import { R } from '../../../client/client.ts';
import { startNamedControllers, startTestEnv, waitFor, type TestEnv } from '../../../controllers/control-plane.fixture.ts';
import type { RunningControllers } from '../../../controllers/start-controllers.ts';
import { makeNode, makePod } from '../../cluster.fixture.ts';
import { startScheduler, type RunningScheduler } from '../../scheduler.ts';
import { STORAGE_CLASSES } from './volume-binder.ts';

describe('volume binding in the scheduler', () => {
  let env: TestEnv;
  let controllers: RunningControllers;
  let scheduler: RunningScheduler;
  const c = () => env.client;
  const node = (name: string, storage = '100Gi') => {
    const n = makeNode(name, { extra: { 'ephemeral-storage': storage } });
    n.metadata.annotations = { [ANN_LOCAL_PATH_DIR]: `/srv/${name}/storage` };
    return n;
  };
  const claim = (name: string, cls: string, size = '1Gi'): KubeObject => ({
    apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: cls, resources: { requests: { storage: size } } },
  });
  const podUsing = (name: string, ...claims: string[]) => {
    const p = makePod(name, { spec: { volumes: claims.map((n, i) => ({ name: `v${i}`, persistentVolumeClaim: { claimName: n } })) } });
    return { ...p, metadata: { name } };
  };
  const nodeOf = (name: string) => waitFor(async () => (await c().get(R.pods, 'default', name)).spec?.nodeName as string | undefined, `${name} bound`, 15_000);
  const failedScheduling = (name: string, re: RegExp) => waitFor(async () => (await c().list(R.events, 'default')).items
    .find((e) => e.involvedObject?.name === name && e.reason === 'FailedScheduling' && re.test(e.message)), `FailedScheduling ${re} for ${name}`, 15_000);

  before(async () => {
    env = await startTestEnv();
    await c().create(R.nodes, undefined, node('n1'));
    await c().create(R.nodes, undefined, node('n2'));
    await c().create(STORAGE_CLASSES, undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'lp' }, provisioner: LOCAL_PATH_PROVISIONER, volumeBindingMode: 'WaitForFirstConsumer' });
    await c().create(STORAGE_CLASSES, undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'local-storage' }, provisioner: NO_PROVISIONER, volumeBindingMode: 'WaitForFirstConsumer' });
    await c().create(STORAGE_CLASSES, undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'now' }, provisioner: 'example.com/none', volumeBindingMode: 'Immediate' });
    controllers = await startNamedControllers(env, ['persistentvolume-binder', 'local-path-provisioner']);
    scheduler = await startScheduler(c(), env.log, { eventIntervalMs: 100, initialBackoffMs: 50, maxBackoffMs: 200 });
  });
  after(async () => {
    await scheduler.stop();
    await controllers.stop();
    await env.close();
  });

  it('provisions a local-path claim on the node the pod gets, before binding the pod; the next user follows the volume', async () => {
    await c().create(R.persistentvolumeclaims, 'default', claim('data', 'lp'));
    await c().create(R.pods, 'default', podUsing('first', 'data'));
    const where = await nodeOf('first');
    const pvc = await c().get(R.persistentvolumeclaims, 'default', 'data');
    assert.equal(pvc.status.phase, 'Bound', 'the claim is bound before the pod is');
    assert.equal(pvc.metadata.annotations?.[ANN_SELECTED_NODE], where);
    const pv = await c().get(R.persistentvolumes, undefined, pvc.spec.volumeName);
    assert.equal(pv.spec.local.path, `/srv/${where}/storage/${pv.metadata.name}_default_data`);
    assert.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, [where]);
    for (const n of ['second', 'third']) {
      await c().create(R.pods, 'default', podUsing(n, 'data'));
      assert.equal(await nodeOf(n), where, `${n} follows the volume`);
    }
  });

  it('binds a free static local PV of a no-provisioner class on its node only', async () => {
    await c().create(R.persistentvolumes, undefined, {
      apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'disk-n2' },
      spec: {
        capacity: { storage: '10Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: 'local-storage', local: { path: '/mnt/disk' },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }] } },
      },
    });
    await c().create(R.persistentvolumeclaims, 'default', claim('static', 'local-storage', '5Gi'));
    await c().create(R.pods, 'default', podUsing('on-disk', 'static'));
    assert.equal(await nodeOf('on-disk'), 'n2');
    const pvc = await c().get(R.persistentvolumeclaims, 'default', 'static');
    assert.equal(pvc.spec.volumeName, 'disk-n2');
    // No second free PV: a second claim of the class finds none anywhere.
    await c().create(R.persistentvolumeclaims, 'default', claim('static-2', 'local-storage'));
    await c().create(R.pods, 'default', podUsing('no-disk', 'static-2'));
    await failedScheduling('no-disk', /0\/2 nodes are available: 2 node\(s\) didn't find available persistent volumes to bind/);
  });

  it('explains what it cannot place: an unbound Immediate claim, a claim no node can hold, a missing claim until it appears', async () => {
    await c().create(R.persistentvolumeclaims, 'default', claim('immediate', 'now'));
    await c().create(R.pods, 'default', podUsing('waits-for-pv', 'immediate'));
    await failedScheduling('waits-for-pv', /pod has unbound immediate PersistentVolumeClaims/);
    await c().create(R.persistentvolumeclaims, 'default', claim('huge', 'lp', '1Pi'));
    await c().create(R.pods, 'default', podUsing('too-big', 'huge'));
    await failedScheduling('too-big', /0\/2 nodes are available: 2 node\(s\) did not have enough free storage/);
    assert.equal((await c().get(R.persistentvolumeclaims, 'default', 'huge')).status.phase, 'Pending');
    await c().create(R.pods, 'default', podUsing('early', 'later'));
    await failedScheduling('early', /persistentvolumeclaim "later" not found/);
    await c().create(R.persistentvolumeclaims, 'default', claim('later', 'lp'));
    assert.ok(await nodeOf('early'), 'scheduled once its claim exists');
  });
});
