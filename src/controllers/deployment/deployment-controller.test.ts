import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { APPS, controllerRefOf, isPodReady } from '../controller-utils.ts';
import { listPods, markPodsReady, startNamedControllers, startTestEnv, waitFor, type TestEnv } from '../control-plane.fixture.ts';
import { REVISION } from './deployment-util.ts';
import { POD_TEMPLATE_HASH, templateHash } from './template-hash.ts';

const NS = 'default';
const deployment = (name: string, replicas: number, image: string, extra: Record<string, any> = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, annotations: { 'kubernetes.io/change-cause': `image ${image}` } },
  spec: {
    replicas, selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } }, ...extra,
  },
});

describe('Deployment controller', () => {
  let env: TestEnv;
  let ctl: { stop(): Promise<void> };
  /** Plays the node: keeps marking the app's pods ready until stopped. */
  const fakeNode = (app: string) => {
    let on = true;
    const loop = (async () => { while (on) { await markPodsReady(env.client, NS, `app=${app}`); await new Promise((r) => setTimeout(r, 15)); } })();
    return async () => { on = false; await loop; };
  };
  const rsOf = async (name: string) => (await env.client.list(APPS.replicasets, NS, { labelSelector: `app=${name}` })).items
    .sort((a, b) => Number(a.metadata.annotations?.[REVISION]) - Number(b.metadata.annotations?.[REVISION]));
  const getD = (name: string) => env.client.get(APPS.deployments, NS, name);
  const complete = async (name: string, replicas: number) => {
    const d = await getD(name);
    const s = d.status ?? {};
    return s.observedGeneration === d.metadata.generation && s.updatedReplicas === replicas && s.replicas === replicas && s.availableReplicas === replicas && d;
  };

  before(async () => {
    env = await startTestEnv();
    ctl = await startNamedControllers(env, ['replicaset', 'deployment']);
  });
  after(async () => {
    await ctl.stop();
    await env.close();
  });

  it('creates a hashed, revisioned ReplicaSet and its pods, and reports status and conditions', async () => {
    const { client } = env;
    const d0 = await client.create(APPS.deployments, NS, deployment('web', 3, 'nginx:1'));
    const stop = fakeNode('web');
    const d = await waitFor(() => complete('web', 3), 'complete');
    await stop();
    const [rs] = await rsOf('web');
    const hash = templateHash(d0.spec.template);
    assert.equal(rs.metadata.name, `web-${hash}`);
    assert.equal(rs.metadata.labels?.[POD_TEMPLATE_HASH], hash);
    assert.equal(rs.spec.selector.matchLabels[POD_TEMPLATE_HASH], hash);
    assert.equal(rs.metadata.annotations?.[REVISION], '1');
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '3');
    assert.equal(rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas'], '4');
    assert.equal(rs.metadata.annotations?.['kubernetes.io/change-cause'], 'image nginx:1');
    assert.equal(controllerRefOf(rs)?.uid, d0.metadata.uid);
    assert.equal(d.metadata.annotations?.[REVISION], '1');
    assert.equal(d.status.readyReplicas, 3);
    assert.equal(d.status.unavailableReplicas, 0);
    const cond = (t: string) => d.status.conditions.find((c: { type: string }) => c.type === t);
    assert.equal(cond('Available').reason, 'MinimumReplicasAvailable');
    await waitFor(async () => (await getD('web')).status.conditions.find((c: { type: string }) => c.type === 'Progressing')?.reason === 'NewReplicaSetAvailable', 'NewReplicaSetAvailable');
    const events = (await client.list(R.events, NS)).items.filter((e) => e.reason === 'ScalingReplicaSet');
    assert.ok(events.some((e) => e.message === `Scaled up replica set web-${hash} from 0 to 3`), JSON.stringify(events.map((e) => e.message)));
  });

  it('rolls a new template out within maxSurge/maxUnavailable, and undo reuses the old ReplicaSet', async () => {
    const { client } = env;
    await client.create(APPS.deployments, NS, deployment('roll', 4, 'app:1', {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } },
    }));
    let stop = fakeNode('roll');
    await waitFor(() => complete('roll', 4), 'v1 complete');
    await stop();
    await client.patch(APPS.deployments, NS, 'roll', 'merge', {
      metadata: { annotations: { 'kubernetes.io/change-cause': 'image app:2' } },
      spec: { template: { spec: { containers: [{ name: 'c', image: 'app:2' }] } } },
    });
    // Sample while the node (slowly) brings pods up: never more than 5 pods, never fewer than 3 ready.
    let maxPods = 0, minReady = Infinity, samples = 0;
    const sampler = (async () => {
      for (;;) {
        const pods = await listPods(client, NS, 'app=roll');
        maxPods = Math.max(maxPods, pods.length);
        minReady = Math.min(minReady, pods.filter(isPodReady).length);
        samples++;
        if (await complete('roll', 4) && (await rsOf('roll')).length === 2 && pods.length === 4) return;
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    stop = fakeNode('roll');
    await Promise.race([sampler, new Promise((_, rej) => setTimeout(() => rej(new Error('rollout timed out')), 10_000))]);
    await stop();
    assert.ok(samples > 3);
    assert.ok(maxPods <= 5, `surge exceeded: ${maxPods} pods`);
    assert.ok(minReady >= 3, `availability dropped to ${minReady}`);
    const [old, cur] = await rsOf('roll');
    assert.equal(old.metadata.annotations?.[REVISION], '1');
    assert.equal(old.spec.replicas, 0);
    assert.equal(cur.metadata.annotations?.[REVISION], '2');
    assert.equal(cur.metadata.annotations?.['kubernetes.io/change-cause'], 'image app:2');
    assert.equal(cur.spec.template.spec.containers[0].image, 'app:2');
    // kubectl rollout undo: restore revision 1's template (and its annotations).
    const tmpl = structuredClone(old.spec.template);
    delete tmpl.metadata.labels[POD_TEMPLATE_HASH];
    await client.patch(APPS.deployments, NS, 'roll', 'json', [
      { op: 'replace', path: '/spec/template', value: tmpl },
      { op: 'replace', path: '/metadata/annotations', value: { 'kubernetes.io/change-cause': 'image app:1', [REVISION]: '2' } },
    ]);
    stop = fakeNode('roll');
    await waitFor(async () => (await complete('roll', 4)) && (await rsOf('roll')).find((r) => r.metadata.uid === old.metadata.uid)?.spec.replicas === 4, 'undo complete');
    await stop();
    const after = await rsOf('roll');
    assert.equal(after.length, 2, 'no third ReplicaSet');
    const reused = after.find((r) => r.metadata.uid === old.metadata.uid)!;
    assert.equal(reused.metadata.annotations?.[REVISION], '3');
    assert.equal((await getD('roll')).metadata.annotations?.[REVISION], '3');
  });

  it('Recreate scales the old ReplicaSet to zero before creating the new one', async () => {
    const { client } = env;
    await client.create(APPS.deployments, NS, deployment('rec', 2, 'r:1', { strategy: { type: 'Recreate' } }));
    let stop = fakeNode('rec');
    await waitFor(() => complete('rec', 2), 'v1');
    await stop();
    const [v1] = await rsOf('rec');
    await client.patch(APPS.deployments, NS, 'rec', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'r:2' }] } } } });
    // While old pods exist no new ReplicaSet may have pods.
    let overlap = false;
    stop = fakeNode('rec');
    await waitFor(async () => {
      const pods = await listPods(client, NS, 'app=rec');
      const owners = new Set(pods.map((p) => controllerRefOf(p)?.uid));
      if (owners.has(v1.metadata.uid) && owners.size > 1) overlap = true;
      return complete('rec', 2);
    }, 'v2');
    await stop();
    assert.equal(overlap, false);
    const rss = await rsOf('rec');
    assert.equal(rss.length, 2);
    assert.equal(rss[0].spec.replicas, 0);
    assert.equal(rss[1].spec.replicas, 2);
  });

  it('paused: no rollout, but scaling applies; rollout restart; revisionHistoryLimit', async () => {
    const { client } = env;
    await client.create(APPS.deployments, NS, deployment('pz', 2, 'p:1', { revisionHistoryLimit: 1 }));
    const stop = fakeNode('pz');
    await waitFor(() => complete('pz', 2), 'v1');
    await client.patch(APPS.deployments, NS, 'pz', 'merge', { spec: { paused: true, replicas: 3, template: { spec: { containers: [{ name: 'c', image: 'p:2' }] } } } });
    await waitFor(async () => (await listPods(client, NS, 'app=pz')).length === 3, 'scaled while paused');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await rsOf('pz')).length, 1, 'no new ReplicaSet while paused');
    const pausedCond = (await getD('pz')).status.conditions.find((c: { type: string }) => c.type === 'Progressing');
    assert.equal(pausedCond.reason, 'DeploymentPaused');
    await client.patch(APPS.deployments, NS, 'pz', 'merge', { spec: { paused: false } });
    await waitFor(async () => (await complete('pz', 3)) && (await rsOf('pz')).length === 2, 'resumed rollout');
    // kubectl rollout restart: a template annotation → another ReplicaSet; history keeps one old.
    await client.patch(APPS.deployments, NS, 'pz', 'merge', { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } } } });
    await waitFor(async () => {
      const rss = await rsOf('pz');
      return (await complete('pz', 3)) && rss.length === 2 && rss[1].metadata.annotations?.[REVISION] === '3' && rss;
    }, 'restart rolled out, revision 1 cleaned up');
    await stop();
    const revs = (await rsOf('pz')).map((r) => r.metadata.annotations?.[REVISION]);
    assert.deepEqual(revs, ['2', '3']);
  });

  it('scaling mid-rollout spreads the change over the active ReplicaSets', async () => {
    const { client } = env;
    await client.create(APPS.deployments, NS, deployment('prop', 4, 'q:1', { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } }));
    const stop = fakeNode('prop');
    await waitFor(() => complete('prop', 4), 'v1');
    await stop();
    // New template, no node: the new RS gets its surge pod, which never becomes ready.
    await client.patch(APPS.deployments, NS, 'prop', 'merge', { spec: { template: { spec: { containers: [{ name: 'c', image: 'q:2' }] } } } });
    await waitFor(async () => (await rsOf('prop')).length === 2 && (await rsOf('prop'))[1].spec.replicas === 1, 'surge');
    await client.patch(APPS.deployments, NS, 'prop', 'merge', { spec: { replicas: 8 } });
    const rss = await waitFor(async () => { const r = await rsOf('prop'); return r[0].spec.replicas + r[1].spec.replicas === 9 && r; }, 'proportional');
    // Kubernetes' arithmetic too: the old RS's share (4 of 5) rounds to +3, the remainder goes to the largest.
    assert.deepEqual([rss[0].spec.replicas, rss[1].spec.replicas], [8, 1]);
    assert.equal(rss[0].metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], '8');
  });

  it('claims ReplicaSets by index: a matching orphan adopted, another controller\'s left alone, one whose labels stop matching released', async () => {
    const { client } = env;
    const rs = (name: string, owner?: KubeObject): KubeObject => ({
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: { name, labels: { app: 'claim' }, ...(owner ? { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true }] } : {}) },
      spec: { replicas: 0, selector: { matchLabels: { app: 'claim', v: name } }, template: { metadata: { labels: { app: 'claim', v: name } }, spec: { containers: [{ name: 'c', image: name }] } } },
    });
    // Its controller exists (the garbage collector would delete a ReplicaSet of a missing one).
    const cm = await client.create(R.configmaps, NS, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'claim-owner' } });
    await client.create(APPS.replicasets, NS, rs('claim-orphan'));
    await client.create(APPS.replicasets, NS, rs('claim-theirs', cm));
    const d = await client.create(APPS.deployments, NS, deployment('claim', 1, 'c:1'));
    const controllerOf = async (name: string) => controllerRefOf(await client.get(APPS.replicasets, NS, name))?.uid;
    await waitFor(async () => (await controllerOf('claim-orphan')) === d.metadata.uid, 'the orphan adopted');
    await waitFor(async () => (await rsOf('claim')).some((r) => r.metadata.name!.startsWith('claim-') && r.metadata.name !== 'claim-orphan' && r.metadata.name !== 'claim-theirs'), 'its own ReplicaSet');
    assert.equal(await controllerOf('claim-theirs'), cm.metadata.uid, 'another controller\'s ReplicaSet is not claimed');
    await client.patch(APPS.replicasets, NS, 'claim-orphan', 'merge', { metadata: { labels: { app: 'gone' } } });
    await waitFor(async () => (await controllerOf('claim-orphan')) === undefined, 'released once its labels stop matching');
  });
});
