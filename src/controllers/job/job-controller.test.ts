import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { InformerFactory } from '../../client/informer-factory.ts';
import { isNotFound } from '../../client/errors.ts';
import { type ControllerEnv, startControllerEnv, listPods, waitFor, type TestEnv } from '../control-plane.fixture.ts';
import { JOBS, JobController } from './job-controller.ts';

let env: TestEnv;
let factory: InformerFactory;
let harness: ControllerEnv<JobController>;

before(async () => {
  harness = await startControllerEnv((e, f) => new JobController(e.client, f, e.log, { backoff: { baseMs: 20, maxMs: 100 } }), 2);
  ({ env, factory } = harness);
});
after(() => harness.stop());

function job(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
  };
}

async function setPhase(pod: KubeObject, phase: 'Succeeded' | 'Failed'): Promise<void> {
  const cur = await env.client.get(R.pods, 'default', pod.metadata.name!);
  cur.status = { ...cur.status, phase };
  await env.client.update(R.pods, 'default', cur, 'status');
}

const sel = (name: string) => `batch.kubernetes.io/job-name=${name}`;
const running = async (name: string) => (await listPods(env.client, 'default', sel(name))).filter((p) => !['Succeeded', 'Failed'].includes(p.status?.phase));
const getJob = (name: string) => env.client.get(JOBS, 'default', name);
const cond = (j: KubeObject, type: string) => (j.status?.conditions ?? []).find((c: { type: string }) => c.type === type);

test('completions and parallelism: at most 2 active, completes after 3 successes', async () => {
  await env.client.create(JOBS, 'default', job('pi', { completions: 3, parallelism: 2 }));
  let done = 0;
  while (done < 3) {
    const pods = await waitFor(async () => { const p = await running('pi'); return p.length > 0 && p; }, 'job pods');
    assert.ok(pods.length <= 2, `active ${pods.length} > parallelism`);
    const p = pods[0];
    assert.equal(p.metadata.ownerReferences?.[0].controller, true);
    assert.ok(p.metadata.generateName === 'pi-');
    assert.ok(p.metadata.finalizers?.includes('batch.kubernetes.io/job-tracking'));
    await setPhase(p, 'Succeeded');
    done++;
    await waitFor(async () => (await getJob('pi')).status?.succeeded === done, `succeeded=${done}`);
  }
  const j = await waitFor(async () => { const x = await getJob('pi'); return cond(x, 'Complete')?.status === 'True' && x; }, 'Complete');
  assert.equal(j.status.succeeded, 3);
  assert.equal(j.status.active, 0);
  assert.ok(j.status.completionTime && j.status.startTime);
  assert.equal(cond(j, 'SuccessCriteriaMet')?.status, 'True');
  // Finished pods lose the tracking finalizer.
  const all = (await env.client.list(R.pods, 'default', { labelSelector: sel('pi') })).items;
  assert.equal(all.length, 3);
  assert.ok(all.every((p) => !(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking')));
  // Events are recorded after the status write they follow (as upstream's recorder): wait for them.
  const reasonsOf = async (name: string) => (await env.client.list(R.events, 'default')).items.filter((e) => e.involvedObject?.name === name).map((e) => e.reason as string);
  const events = await waitFor(async () => { const r = await reasonsOf('pi'); return r.includes('SuccessfulCreate') && r.includes('Completed') && r; }, 'SuccessfulCreate and Completed events');
  assert.ok(events.includes('SuccessfulCreate') && events.includes('Completed'), events.join());
});

test('backoffLimit: failures are retried with back-off, then the Job fails', async () => {
  await env.client.create(JOBS, 'default', job('flaky', { backoffLimit: 1 }));
  for (let n = 1; n <= 2; n++) {
    const [p] = await waitFor(async () => { const p = await running('flaky'); return p.length > 0 && p; }, `pod ${n}`);
    await setPhase(p, 'Failed');
    await waitFor(async () => (await getJob('flaky')).status?.failed === n, `failed=${n}`);
  }
  const j = await waitFor(async () => { const x = await getJob('flaky'); return cond(x, 'Failed')?.status === 'True' && x; }, 'Failed');
  assert.equal(cond(j, 'Failed').reason, 'BackoffLimitExceeded');
  assert.equal(cond(j, 'FailureTarget')?.status, 'True');
  assert.equal((await running('flaky')).length, 0);
  const events = await waitFor(async () => { const r = (await env.client.list(R.events, 'default')).items.filter((e) => e.involvedObject?.name === 'flaky').map((e) => e.reason as string); return r.includes('BackoffLimitExceeded') && r; }, 'BackoffLimitExceeded event');
  assert.ok(events.includes('BackoffLimitExceeded'));
});

test('Indexed: one pod per index with the index annotation, label and env; completedIndexes', async () => {
  await env.client.create(JOBS, 'default', job('idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
  const pods = await waitFor(async () => { const p = await running('idx'); return p.length === 3 && p; }, '3 indexed pods');
  const idx = pods.map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort();
  assert.deepEqual(idx, ['0', '1', '2']);
  const p0 = pods.find((p) => p.metadata.labels?.['batch.kubernetes.io/job-completion-index'] === '0')!;
  assert.ok(p0.metadata.name!.startsWith('idx-0-'));
  assert.equal(p0.spec.hostname, 'idx-0');
  assert.ok(p0.spec.containers[0].env.some((e: { name: string }) => e.name === 'JOB_COMPLETION_INDEX'));
  for (const p of pods) await setPhase(p, 'Succeeded');
  const j = await waitFor(async () => { const x = await getJob('idx'); return cond(x, 'Complete')?.status === 'True' && x; }, 'Complete');
  assert.equal(j.status.completedIndexes, '0-2');
});

test('suspend deletes active pods and sets Suspended; resume starts again', async () => {
  await env.client.create(JOBS, 'default', job('sus', { parallelism: 2, completions: 4 }));
  await waitFor(async () => (await running('sus')).length === 2, 'pods');
  await env.client.patch(JOBS, 'default', 'sus', 'merge', { spec: { suspend: true } });
  const j = await waitFor(async () => { const x = await getJob('sus'); return cond(x, 'Suspended')?.status === 'True' && x; }, 'Suspended');
  assert.equal(j.status.active, 0);
  await waitFor(async () => (await running('sus')).length === 0, 'pods deleted');
  assert.equal((await getJob('sus')).status.failed ?? 0, 0, 'suspension is no failure');
  await env.client.patch(JOBS, 'default', 'sus', 'merge', { spec: { suspend: false } });
  await waitFor(async () => (await running('sus')).length === 2, 'pods again');
  assert.equal(cond(await getJob('sus'), 'Suspended')?.status, 'False');
});

test('activeDeadlineSeconds fails the Job with DeadlineExceeded', async () => {
  await env.client.create(JOBS, 'default', job('slow', { activeDeadlineSeconds: 1 }));
  const j = await waitFor(async () => { const x = await getJob('slow'); return cond(x, 'Failed')?.status === 'True' && x; }, 'Failed', 5000);
  assert.equal(cond(j, 'Failed').reason, 'DeadlineExceeded');
  await waitFor(async () => (await running('slow')).length === 0, 'pods deleted');
});

test('ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
  await env.client.create(JOBS, 'default', job('ttl', { ttlSecondsAfterFinished: 0 }));
  const [p] = await waitFor(async () => { const p = await running('ttl'); return p.length > 0 && p; }, 'pod');
  await setPhase(p, 'Succeeded');
  await waitFor(async () => { try { await getJob('ttl'); return false; } catch (e) { return isNotFound(e); } }, 'job deleted');
  await waitFor(async () => (await env.client.list(R.pods, 'default', { labelSelector: sel('ttl') })).items.length === 0, 'pods deleted');
});

test('a deleted Job\'s pods lose the tracking finalizer and go; orphaned pods stay, released', async () => {
  const all = async (name: string) => (await env.client.list(R.pods, 'default', { labelSelector: sel(name) })).items;
  const tracked = (p: KubeObject) => (p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking');
  for (const name of ['gone', 'orphaned']) {
    await env.client.create(JOBS, 'default', job(name, { parallelism: 2, completions: 4 }));
    await waitFor(async () => { const p = await all(name); return p.length === 2 && p.every(tracked); }, `2 tracked pods of ${name}`);
  }
  // Background: the Job goes at once, the garbage collector deletes the pods, the finalizer must come off.
  await env.client.delete(JOBS, 'default', 'gone');
  await waitFor(async () => (await all('gone')).length === 0, 'pods of the deleted Job gone');
  await env.client.delete(JOBS, 'default', 'orphaned', { propagationPolicy: 'Orphan' });
  const kept = await waitFor(async () => { const p = await all('orphaned'); return p.length === 2 && p.every((x) => !tracked(x) && !x.metadata.ownerReferences) && p; }, 'orphaned pods released');
  assert.ok(kept.every((p) => !p.metadata.deletionTimestamp), 'orphaned pods are not deleted');
});
