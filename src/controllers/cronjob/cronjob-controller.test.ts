import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { R } from '../../client/client.ts';
import { InformerFactory } from '../../client/informer-factory.ts';
import { type ControllerEnv, startControllerEnv, waitFor, type TestEnv } from '../control-plane.fixture.ts';
import { JOBS } from '../job/job-controller.ts';
import { FakeClock } from './clock.ts';
import { CRONJOBS, CronJobController, SCHEDULED_TIMESTAMP } from './cronjob-controller.ts';
import { rfc3339 } from '../../apis/time.ts';

let env: TestEnv;
let factory: InformerFactory;
let ctl: CronJobController;
let harness: ControllerEnv<CronJobController>;
/**
 * The first schedule time of the test's `* * * * *` cron jobs: the next whole minute after the
 * jobs are created (their creationTimestamp is real time). before() starts at least 25 s ahead of a
 * minute boundary, so no earlier boundary falls between a job's creation and minute0, and the fake
 * clock starts before minute0.
 */
let minute0 = 0;
const clock = new FakeClock(0);

before(async () => {
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 35_000) await new Promise((r) => setTimeout(r, 60_000 - intoMinute + 500));
  minute0 = Math.ceil((Date.now() + 1) / 60_000) * 60_000;
  clock.set(minute0 - 20_000);
  harness = await startControllerEnv((e, f) => new CronJobController(e.client, f, e.log, { clock }));
  ({ env, factory } = harness);
  ctl = harness.ctl;
});
after(() => harness.stop());

function cronJob(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name },
    spec: {
      schedule: '* * * * *',
      jobTemplate: { metadata: { labels: { app: name } }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
      ...spec,
    },
  };
}

const jobsOf = async (cj: string) => (await env.client.list(JOBS, 'default', { labelSelector: `app=${cj}` })).items.filter((j) => !j.metadata.deletionTimestamp);
const events = async (name: string) => (await env.client.list(R.events, 'default')).items.filter((e) => e.involvedObject?.name === name).map((e) => e.reason);

/** Moves the fake clock and pokes the controller (as its requeue timer would). */
function tick(at: number, name: string): void {
  clock.set(at);
  ctl.queue.add(`default/${name}`);
}

async function finishJob(name: string, type: 'Complete' | 'Failed', at: number): Promise<void> {
  const j = await env.client.get(JOBS, 'default', name);
  const t = rfc3339(at);
  j.status = { ...j.status, startTime: t, ...(type === 'Complete' ? { completionTime: t } : {}), conditions: [{ type, status: 'True', lastTransitionTime: t }] };
  await env.client.update(JOBS, 'default', j, 'status');
}

test('creates a Job per schedule time; Forbid skips while one runs; completion updates status', async () => {
  await env.client.create(CRONJOBS, 'default', cronJob('tick', { concurrencyPolicy: 'Forbid' }));
  tick(minute0 - 10_000, 'tick');
  await new Promise((r) => setTimeout(r, 200));
  const early = await jobsOf('tick');
  const cj0 = await env.client.get(CRONJOBS, 'default', 'tick');
  assert.equal(early.length, 0, `nothing before the first schedule time (jobs ${early.map((j) => j.metadata.name).join(',')}; created ${cj0.metadata.creationTimestamp}; clock ${new Date(clock.now()).toISOString()}; minute0 ${new Date(minute0).toISOString()})`);
  tick(minute0 + 5_000, 'tick');
  const [job] = await waitFor(async () => { const j = await jobsOf('tick'); return j.length === 1 && j; }, 'first job');
  assert.equal(job.metadata.name, `tick-${minute0 / 60_000}`);
  assert.equal(job.metadata.annotations?.[SCHEDULED_TIMESTAMP], new Date(minute0).toISOString().replace('.000Z', 'Z'));
  assert.equal(job.metadata.ownerReferences?.[0].kind, 'CronJob');
  const cj = await waitFor(async () => { const c = await env.client.get(CRONJOBS, 'default', 'tick'); return c.status?.active?.length === 1 && c; }, 'status.active');
  assert.equal(Date.parse(cj.status.lastScheduleTime), minute0);

  tick(minute0 + 65_000, 'tick');
  await waitFor(async () => (await events('tick')).includes('JobAlreadyActive'), 'JobAlreadyActive');
  assert.equal((await jobsOf('tick')).length, 1);

  await finishJob(job.metadata.name!, 'Complete', minute0 + 30_000);
  // The skipped 10:01 run is still due (no startingDeadlineSeconds), so it starts now.
  const done = await waitFor(async () => {
    const c = await env.client.get(CRONJOBS, 'default', 'tick');
    return c.status?.lastSuccessfulTime && c.status?.active?.length === 1 && c.status.active[0].name !== job.metadata.name && c;
  }, 'finished job leaves active; the due one starts');
  assert.equal(Date.parse(done.status.lastSuccessfulTime), minute0 + 30_000);
  assert.equal(done.status.active[0].name, `tick-${minute0 / 60_000 + 1}`);
  assert.equal((await jobsOf('tick')).length, 2);
  assert.ok((await events('tick')).includes('SawCompletedJob'));
});

test('Replace deletes the running Job; history limits prune finished Jobs', async () => {
  await env.client.create(CRONJOBS, 'default', cronJob('rep', { concurrencyPolicy: 'Replace', successfulJobsHistoryLimit: 1 }));
  tick(minute0 + 5_000, 'rep');
  const [first] = await waitFor(async () => { const j = await jobsOf('rep'); return j.length === 1 && j; }, 'first job');
  tick(minute0 + 65_000, 'rep');
  const [second] = await waitFor(async () => { const j = await jobsOf('rep'); return j.length === 1 && j[0].metadata.name !== first.metadata.name && j; }, 'replaced');
  assert.equal(second.metadata.name, `rep-${minute0 / 60_000 + 1}`);
  await finishJob(second.metadata.name!, 'Complete', minute0 + 70_000);
  tick(minute0 + 125_000, 'rep');
  const third = await waitFor(async () => (await jobsOf('rep')).find((j) => j.metadata.name === `rep-${minute0 / 60_000 + 2}`), 'third job');
  await finishJob(third.metadata.name!, 'Complete', minute0 + 130_000);
  await waitFor(async () => { const j = await jobsOf('rep'); return j.length === 1 && j[0].metadata.name === third.metadata.name; }, 'oldest successful pruned');
});

test('suspend, startingDeadlineSeconds and TooManyMissedTimes', async () => {
  await env.client.create(CRONJOBS, 'default', cronJob('sus', { suspend: true }));
  tick(minute0 + 5_000, 'sus');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await jobsOf('sus')).length, 0);

  await env.client.create(CRONJOBS, 'default', cronJob('late', { startingDeadlineSeconds: 3 }));
  tick(minute0 + 5_000, 'late');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await jobsOf('late')).length, 0, 'schedule missed by more than the deadline');

  await env.client.create(CRONJOBS, 'default', cronJob('many', {}));
  const far = minute0 + 200 * 60_000 + 5_000;
  tick(far, 'many');
  await waitFor(async () => (await events('many')).includes('TooManyMissedTimes'), 'TooManyMissedTimes');
  const [j] = await waitFor(async () => { const j = await jobsOf('many'); return j.length === 1 && j; }, 'job for the latest time');
  assert.equal(j.metadata.name, `many-${minute0 / 60_000 + 200}`);
});
