import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { APPS, controllerRefOf } from '../controller-utils.ts';
import { listPods, markPodReady, markPodsReady, startNamedControllers, startTestEnv, waitFor, type TestEnv } from '../control-plane.fixture.ts';
import { slowStartBatch } from './replicaset-controller.ts';

const NS = 'default';
const container = { name: 'c', image: 'busybox' };
const rsObj = (name: string, replicas: number, app = name): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name },
  spec: { replicas, selector: { matchLabels: { app } }, template: { metadata: { labels: { app } }, spec: { containers: [container] } } },
});

describe('ReplicaSet controller', () => {
  let env: TestEnv;
  let ctl: { stop(): Promise<void> };
  before(async () => {
    env = await startTestEnv();
    ctl = await startNamedControllers(env, ['replicaset', 'replicationcontroller', 'deployment']);
  });
  after(async () => {
    await ctl.stop();
    await env.close();
  });

  it('creates owned pods from the template, writes status, and scales down not-ready pods first', async () => {
    const { client } = env;
    const rs = await client.create(APPS.replicasets, NS, rsObj('web', 3));
    const pods = await waitFor(async () => { const p = await listPods(client, NS, 'app=web'); return p.length === 3 && p; }, '3 pods');
    for (const p of pods) {
      assert.match(p.metadata.name!, /^web-/);
      assert.deepEqual(controllerRefOf(p), { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true });
    }
    // Two ready, one not: scaling to 2 removes the not-ready one.
    await markPodReady(client, pods[0]);
    await markPodReady(client, pods[1]);
    await waitFor(async () => (await client.get(APPS.replicasets, NS, 'web')).status?.readyReplicas === 2, 'ready 2');
    await client.patch(APPS.replicasets, NS, 'web', 'merge', { spec: { replicas: 2 } });
    await waitFor(async () => (await listPods(client, NS, 'app=web')).length === 2, 'scaled to 2');
    const left = (await listPods(client, NS, 'app=web')).map((p) => p.metadata.name).sort();
    assert.deepEqual(left, [pods[0].metadata.name, pods[1].metadata.name].sort());
    const st = await waitFor(async () => { const s = (await client.get(APPS.replicasets, NS, 'web')).status; return s?.replicas === 2 && s; }, 'status');
    assert.equal(st.fullyLabeledReplicas, 2);
    assert.equal(st.readyReplicas, 2);
    assert.equal(st.availableReplicas, 2);
    assert.equal(st.observedGeneration, 2);
    const events = (await client.list(R.events, NS)).items.filter((e) => e.involvedObject?.name === 'web');
    assert.equal(events.filter((e) => e.reason === 'SuccessfulCreate').length, 3);
    assert.equal(events.filter((e) => e.reason === 'SuccessfulDelete').length, 1);
  });

  it('replaces a deleted pod', async () => {
    const { client } = env;
    await client.create(APPS.replicasets, NS, rsObj('rep', 2));
    const pods = await waitFor(async () => { const p = await listPods(client, NS, 'app=rep'); return p.length === 2 && p; }, '2 pods');
    await client.delete(R.pods, NS, pods[0].metadata.name!);
    const now = await waitFor(async () => {
      const p = await listPods(client, NS, 'app=rep');
      return p.length === 2 && !p.some((x) => x.metadata.name === pods[0].metadata.name) && p;
    }, 'replacement');
    assert.ok(now.some((x) => x.metadata.name === pods[1].metadata.name));
  });

  it('adopts a matching orphan and releases a pod whose labels stop matching', async () => {
    const { client } = env;
    const orphan = await client.create(R.pods, NS, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'orphan', labels: { app: 'adopt' } }, spec: { containers: [container] } });
    const rs = await client.create(APPS.replicasets, NS, rsObj('adopt', 2));
    await waitFor(async () => (await listPods(client, NS, 'app=adopt')).length === 2, '2 pods');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal((await listPods(client, NS, 'app=adopt')).length, 2, 'only one created: the orphan counts');
    const adopted = await client.get(R.pods, NS, 'orphan');
    assert.equal(controllerRefOf(adopted)?.uid, rs.metadata.uid);
    assert.equal(adopted.metadata.uid, orphan.metadata.uid);
    await client.patch(R.pods, NS, 'orphan', 'merge', { metadata: { labels: { app: 'gone' } } });
    await waitFor(async () => !controllerRefOf(await client.get(R.pods, NS, 'orphan')), 'released');
    await waitFor(async () => (await listPods(client, NS, 'app=adopt')).length === 2, 'replacement for the released pod');
    assert.equal(await markPodsReady(client, NS, 'app=adopt'), 2);
  });

  it('a ReplicationController (core/v1, map selector defaulted from the template) keeps its pods, owned as v1 ReplicationController', async () => {
    const { client } = env;
    const rcRef = { group: '', version: 'v1', resource: 'replicationcontrollers' };
    const rc = await client.create(rcRef, NS, {
      apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'nginx' },
      spec: { replicas: 3, template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [container] } } },
    });
    assert.deepEqual(rc.spec.selector, { app: 'nginx' }, 'the selector defaults to the template labels');
    assert.deepEqual(rc.metadata.labels, { app: 'nginx' }, 'so do the RC\'s own labels');
    const pods = await waitFor(async () => { const p = await listPods(client, NS, 'app=nginx'); return p.length === 3 && p; }, '3 pods');
    assert.deepEqual(controllerRefOf(pods[0]), { apiVersion: 'v1', kind: 'ReplicationController', name: 'nginx', uid: rc.metadata.uid, controller: true, blockOwnerDeletion: true });
    await markPodsReady(client, NS, 'app=nginx');
    await waitFor(async () => (await client.get(rcRef, NS, 'nginx')).status?.readyReplicas === 3, 'ready 3');
    await client.patch(rcRef, NS, 'nginx', 'merge', { spec: { replicas: 1 } });
    await waitFor(async () => (await listPods(client, NS, 'app=nginx')).length === 1, 'scaled to 1');
    // A ReplicaSet selecting the same labels does not take the RC's pods (they have a controller).
    await client.create(APPS.replicasets, NS, rsObj('rival', 1, 'nginx'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await listPods(client, NS, 'app=nginx')).filter((p) => controllerRefOf(p)?.kind === 'ReplicationController').length, 1);
  });

  it('slowStartBatch grows 1, 2, 4 and stops at the first failing batch', async () => {
    let calls = 0;
    const ok = await slowStartBatch(10, 1, async () => { calls++; });
    assert.deepEqual([ok.ok, ok.failed, calls], [10, false, 10]);
    calls = 0;
    const bad = await slowStartBatch(10, 1, async () => { if (++calls > 3) throw new Error('no'); });
    assert.equal(bad.failed, true);
    assert.equal(calls, 7, 'batches 1, 2, 4 then stop');
    assert.equal(bad.ok, 3);
  });
});
