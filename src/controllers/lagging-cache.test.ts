// Controllers that read their informers under a cache lagging their own writes (the watch events held
// back): expectations keep them from creating, deleting or counting twice; a CronJob's new Job stays
// active. Each sync is called by hand, the real server answers the writes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../apis/object.ts';
import { R, type Client, type ClientWatchEvent } from '../client/client.ts';
import { InformerFactory } from '../client/informer-factory.ts';
import { startTestEnv, waitFor, type TestEnv } from './control-plane.fixture.ts';
import { JOBS, JobController } from './job/job-controller.ts';
import { DAEMONSETS, DaemonSetController } from './daemonset/daemonset-controller.ts';
import { CRONJOBS, CronJobController } from './cronjob/cronjob-controller.ts';
import { FakeClock } from './cronjob/clock.ts';

/** `client` for informers, whose watch events can be held back and let go in order. */
function lagging(client: Client): { client: Client; hold(): void; release(): void } {
  let held: Array<() => void> | undefined;
  const lag: Client = Object.create(client);
  lag.watch = (ref, ns, opts, onEvent) => client.watch(ref, ns, opts, (ev: ClientWatchEvent) => {
    if (held) held.push(() => onEvent(ev));
    else onEvent(ev);
  });
  return {
    client: lag,
    hold() { held ??= []; },
    release() { const h = held ?? []; held = undefined; for (const f of h) f(); },
  };
}

let env: TestEnv;
let factory: InformerFactory;
let lag: ReturnType<typeof lagging>;
let jobs: JobController;
let daemons: DaemonSetController;
const clock = new FakeClock(Date.now());
let crons: CronJobController;

before(async () => {
  env = await startTestEnv();
  lag = lagging(env.client);
  factory = new InformerFactory(lag.client);
  // Built, never run: each test calls reconcile itself.
  jobs = new JobController(env.client, factory, env.log);
  daemons = new DaemonSetController(env.client, factory, env.log);
  crons = new CronJobController(env.client, factory, env.log, { clock });
  factory.start();
  await factory.waitForSync();
});
after(async () => {
  lag.release();
  factory.stop();
  await env.close();
});

const podsOf = async (label: string) => (await env.client.list(R.pods, 'default', { labelSelector: label })).items;
const cached = (label: string) => factory.forResource(R.pods).list('default').filter((p) => {
  const [k, v] = label.split('=');
  return p.metadata.labels?.[k] === v;
});

test('job: pods created but not yet in the cache are not created again; a pod counted but still cached with its finalizer is not counted again', async () => {
  lag.release(); // a failed case before may have left it held
  await env.client.create(JOBS, 'default', {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'lag' },
    spec: { parallelism: 2, completions: 2, template: { metadata: { labels: { t: 'lag-job' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
  });
  lag.hold();
  await jobs.reconcile('default/lag');
  assert.equal((await podsOf('t=lag-job')).length, 2);
  await jobs.reconcile('default/lag');
  assert.equal((await podsOf('t=lag-job')).length, 2, 'no second pair while the first is unseen');
  lag.release();
  await waitFor(() => cached('t=lag-job').length === 2, 'pods cached');
  await jobs.reconcile('default/lag');
  assert.equal((await podsOf('t=lag-job')).length, 2);

  // One pod succeeds; the cache sees it, then lags again while the Job counts it and removes its finalizer.
  const [p] = await podsOf('t=lag-job');
  await env.client.update(R.pods, 'default', { ...p, status: { ...p.status, phase: 'Succeeded' } }, 'status');
  await waitFor(() => cached('t=lag-job').some((x) => x.status?.phase === 'Succeeded'), 'success cached');
  lag.hold();
  await jobs.reconcile('default/lag');
  const after1 = await env.client.get(JOBS, 'default', 'lag');
  assert.equal(after1.status.succeeded, 1);
  assert.ok(!(await env.client.get(R.pods, 'default', p.metadata.name!)).metadata.finalizers?.length, 'finalizer removed');
  assert.ok(cached('t=lag-job').find((x) => x.metadata.uid === p.metadata.uid)?.metadata.finalizers?.length, 'the cache still shows it');
  await jobs.reconcile('default/lag');
  assert.equal((await env.client.get(JOBS, 'default', 'lag')).status.succeeded, 1, 'counted once');
  lag.release();
});

test('daemonset: daemon pods created but not yet in the cache are not created again; status is still written', async () => {
  lag.release(); // a failed case before may have left it held
  for (const n of ['lag-n1', 'lag-n2']) await env.client.create(R.nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: n } });
  await env.client.create(DAEMONSETS, 'default', {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'lag' },
    spec: { selector: { matchLabels: { t: 'lag-ds' } }, template: { metadata: { labels: { t: 'lag-ds' } }, spec: { containers: [{ name: 'c', image: 'agent:1' }] } } },
  });
  await waitFor(() => factory.forResource(R.nodes).list().filter((n) => n.metadata.name!.startsWith('lag-')).length === 2, 'nodes cached');
  lag.hold();
  await daemons.reconcile('default/lag');
  assert.equal((await podsOf('t=lag-ds')).length, 2);
  await daemons.reconcile('default/lag');
  assert.equal((await podsOf('t=lag-ds')).length, 2, 'no second pod per node while the first is unseen');
  assert.equal((await env.client.get(DAEMONSETS, 'default', 'lag')).status?.desiredNumberScheduled, 2);
  lag.release();
  await waitFor(() => cached('t=lag-ds').length === 2, 'pods cached');
  await daemons.reconcile('default/lag');
  assert.equal((await podsOf('t=lag-ds')).length, 2);
  assert.equal((await env.client.get(DAEMONSETS, 'default', 'lag')).status?.currentNumberScheduled, 2);
});

test('cronjob: a Job it just created, not yet in the cache, stays in status.active (looked up in the API)', async () => {
  lag.release(); // a failed case before may have left it held
  const cj = await env.client.create(CRONJOBS, 'default', {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'lag' },
    spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } } },
  });
  clock.set(Date.parse(cj.metadata.creationTimestamp!) + 61_000);
  lag.hold();
  await crons.reconcile('default/lag');
  const made = (await env.client.list(JOBS, 'default')).items.filter((j) => j.metadata.ownerReferences?.[0]?.uid === cj.metadata.uid);
  assert.equal(made.length, 1);
  await crons.reconcile('default/lag');
  const st = (await env.client.get(CRONJOBS, 'default', 'lag')).status;
  assert.deepEqual(st.active?.map((r: KubeObject) => r.uid), [made[0].metadata.uid], 'still active');
  const missing = (await env.client.list(R.events, 'default')).items.filter((e) => e.reason === 'MissingJob');
  assert.equal(missing.length, 0);
  lag.release();
});
