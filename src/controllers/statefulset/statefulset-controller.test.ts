/** The StatefulSet controller against a real API server (pods marked Ready by hand: no nodes run them). */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { startControllerEnv, listPods, markPodReady, waitFor, type ControllerEnv, type TestEnv } from '../control-plane.fixture.ts';
import { CONTROLLER_REVISIONS } from './stateful-set-revisions.ts';
import { STATEFULSETS, StatefulSetController } from './statefulset-controller.ts';

let env: TestEnv;
let harness: ControllerEnv<StatefulSetController>;

before(async () => {
  harness = await startControllerEnv((e, f) => new StatefulSetController(e.client, f, e.log), 2);
  ({ env } = harness);
});
after(() => harness.stop());

const sts = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name },
  spec: {
    replicas: 3, serviceName: name, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1d'] }] } },
    volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
    ...spec,
  },
});
const names = async (app: string) => (await listPods(env.client, 'default', `app=${app}`)).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name!).sort();
const readyAll = async (app: string) => { for (const p of await listPods(env.client, 'default', `app=${app}`)) if (p.status?.phase !== 'Running') await markPodReady(env.client, p); };
const status = async (name: string) => (await env.client.get(STATEFULSETS, 'default', name)).status ?? {};
/** Pods go at once: no agent finishes a graceful delete here. */
const purgeDeleting = async (app: string) => {
  for (const p of await listPods(env.client, 'default', `app=${app}`)) {
    if (p.metadata.deletionTimestamp) await env.client.delete(R.pods, 'default', p.metadata.name!, { gracePeriodSeconds: 0 }).catch(() => {});
  }
};

test('OrderedReady: members appear in order with their claims; status follows readiness', async () => {
  await env.client.create(STATEFULSETS, 'default', sts('web'));
  await waitFor(async () => JSON.stringify(await names('web')) === '["web-0"]', 'web-0 alone');
  const pvc = await env.client.get(R.persistentvolumeclaims, 'default', 'data-web-0');
  assert.equal(pvc.metadata.labels?.app, 'web');
  const [p0] = await listPods(env.client, 'default', 'app=web');
  assert.equal(p0.spec.hostname, 'web-0');
  assert.equal(p0.spec.subdomain, 'web');
  assert.deepEqual(p0.spec.volumes.find((v: { name: string }) => v.name === 'data').persistentVolumeClaim, { claimName: 'data-web-0' });
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await names('web'), ['web-0'], 'web-1 waits for web-0 to be Ready');
  await markPodReady(env.client, p0);
  await waitFor(async () => (await names('web')).includes('web-1'), 'web-1 after web-0 is Ready');
  await readyAll('web');
  await waitFor(async () => (await names('web')).length === 3, 'web-2');
  await readyAll('web');
  const st = await waitFor(async () => { const s = await status('web'); return s.readyReplicas === 3 && s; }, 'three ready');
  assert.equal(st.replicas, 3);
  assert.equal(st.currentRevision, st.updateRevision);
  assert.equal(st.observedGeneration, 1);
  assert.equal((await env.client.list(CONTROLLER_REVISIONS, 'default')).items.filter((r) => r.metadata.name!.startsWith('web-')).length, 1);
});

test('a deleted member comes back with the same name and claim; scale down goes from the top', async () => {
  await env.client.delete(R.pods, 'default', 'web-1', { gracePeriodSeconds: 0 });
  await waitFor(async () => (await names('web')).includes('web-1'), 'web-1 recreated');
  await readyAll('web');
  await env.client.patch(STATEFULSETS, 'default', 'web', 'merge', { spec: { replicas: 1 } });
  await waitFor(async () => { await purgeDeleting('web'); return JSON.stringify(await names('web')) === '["web-0"]'; }, 'scaled to 1');
  // Retain (the default): the claims stay.
  assert.equal((await env.client.get(R.persistentvolumeclaims, 'default', 'data-web-2')).metadata.name, 'data-web-2');
});

test('a rolling update with a partition updates only the members at or above it; a new revision per template', async () => {
  await env.client.create(STATEFULSETS, 'default', sts('db', { podManagementPolicy: 'Parallel', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } }));
  await waitFor(async () => (await names('db')).length === 3, 'three members at once');
  await readyAll('db');
  await waitFor(async () => (await status('db')).readyReplicas === 3, 'ready');
  const before = await status('db');
  await env.client.patch(STATEFULSETS, 'default', 'db', 'merge', { spec: { template: { metadata: { annotations: { v: '2' } } } } });
  await waitFor(async () => { await purgeDeleting('db'); await readyAll('db'); const s = await status('db'); return s.updatedReplicas === 1 && s.readyReplicas === 3 && s; }, 'db-2 updated');
  const pods = await listPods(env.client, 'default', 'app=db');
  const rev = (n: string) => pods.find((p) => p.metadata.name === n)!.metadata.labels!['controller-revision-hash'];
  const after = await status('db');
  assert.notEqual(after.updateRevision, before.updateRevision);
  assert.equal(rev('db-2'), after.updateRevision);
  assert.equal(rev('db-0'), before.currentRevision);
  assert.equal(rev('db-1'), before.currentRevision);
  const revisions = (await env.client.list(CONTROLLER_REVISIONS, 'default')).items.filter((r) => r.metadata.name!.startsWith('db-'));
  assert.deepEqual(revisions.map((r) => (r as { revision?: number }).revision).sort(), [1, 2]);
});

test('PVC retention Delete: the claims are owned by the set (deleted with it by the garbage collector)', async () => {
  await env.client.create(STATEFULSETS, 'default', sts('tmp', { replicas: 1, persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } }));
  await waitFor(async () => (await names('tmp')).length === 1, 'tmp-0');
  const set = await env.client.get(STATEFULSETS, 'default', 'tmp');
  await readyAll('tmp');
  const pvc = await waitFor(async () => {
    const c = await env.client.get(R.persistentvolumeclaims, 'default', 'data-tmp-0');
    return c.metadata.ownerReferences?.some((o) => o.uid === set.metadata.uid) && c;
  }, 'claim owned by the set');
  assert.equal(pvc.metadata.ownerReferences?.[0].kind, 'StatefulSet');
});

test('claiming by index: a member-named orphan is adopted, a member-named pod of another controller is left alone, a member whose labels stop matching is released', async () => {
  const podNamed = (name: string, owner?: { uid: string; name: string }): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      name, labels: { app: 'adopt' },
      ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.name, uid: owner.uid, controller: true }] } : {}),
    },
    spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', '1d'] }] },
  });
  await env.client.create(R.pods, 'default', podNamed('adopt-0'));
  // Named as member 3 of a 1-member set: claimed, it would be deleted as surplus. Its controller
  // exists (the garbage collector would delete a pod of a missing one).
  const owner = await env.client.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other' } });
  await env.client.create(R.pods, 'default', podNamed('adopt-3', { uid: owner.metadata.uid!, name: 'other' }));
  await env.client.create(STATEFULSETS, 'default', sts('adopt', { replicas: 1, volumeClaimTemplates: [] }));
  const set = await env.client.get(STATEFULSETS, 'default', 'adopt');
  await waitFor(async () => (await env.client.get(R.pods, 'default', 'adopt-0')).metadata.ownerReferences?.some((r) => r.uid === set.metadata.uid), 'adopt-0 adopted');
  // The adopted member has no revision label: the update replaces it (as upstream), so wait for the set to settle.
  await waitFor(async () => { await purgeDeleting('adopt'); await readyAll('adopt'); return (await status('adopt')).readyReplicas === 1; }, 'one member ready');
  const other = await env.client.get(R.pods, 'default', 'adopt-3');
  assert.equal(other.metadata.deletionTimestamp, undefined, 'another controller\'s pod is not deleted');
  assert.deepEqual(other.metadata.ownerReferences?.map((r) => r.uid), [owner.metadata.uid]);

  await env.client.patch(R.pods, 'default', 'adopt-0', 'merge', { metadata: { labels: { app: 'gone' } } });
  await waitFor(async () => !(await env.client.get(R.pods, 'default', 'adopt-0')).metadata.ownerReferences?.some((r) => r.uid === set.metadata.uid), 'adopt-0 released');
  // The released pod holds the member's name: once it goes, the set makes its own adopt-0.
  await env.client.delete(R.pods, 'default', 'adopt-0', { gracePeriodSeconds: 0 });
  await waitFor(async () => {
    const p = await env.client.get(R.pods, 'default', 'adopt-0').catch(() => undefined);
    return p?.metadata.labels?.app === 'adopt' && p.metadata.ownerReferences?.some((r) => r.uid === set.metadata.uid);
  }, 'adopt-0 made again by the set');
});
