/**
 * A CronJob on a real clock (the CronJob controller, upstream pkg/controller/cronjob, against the
 * wall clock): `* * * * *` makes a Job every minute whose process pod runs `true`, and only
 * `successfulJobsHistoryLimit: 1` finished Job is kept. Two minute boundaries are the least that
 * shows both (a second Job, then the first one removed), so the case takes 60–120 s of wall time
 * that is nearly all waiting: a `berth up` suite starts it in its `before` and checks it at its end,
 * and its own cases fill the wait (formerly a suite of its own that held the machine lock idle).
 *
 *   const cron = await startCronJobClock(k, { nodeName: NODE });   // right after the node is Ready
 *   … the suite's cases …
 *   test('CronJob on a real clock …', () => cron.verify());        // before the suite's clean-up checks
 */
import assert from 'node:assert/strict';
import type { KubectlResult } from '../support/kubectl.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The second boundary is at most 120 s after the CronJob is made; its Job then has to run. */
const DEADLINE_MS = 200_000;

export interface CronJobClock {
  /** Waits for two Jobs and the first one's removal, checks names and status, then deletes the namespace (not waiting). */
  verify(): Promise<void>;
}

export async function startCronJobClock(k: (args: string[], input?: string) => Promise<KubectlResult>, o: { nodeName: string; namespace?: string }): Promise<CronJobClock> {
  const ns = o.namespace ?? 'cron';
  const kn = (args: string[], input?: string) => k([...args, '-n', ns], input);
  assertOk(await k(['create', 'namespace', ns]), `namespace ${ns}`);
  assertOk(await kn(['apply', '-f', '-'], JSON.stringify({
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick' },
    spec: {
      schedule: '* * * * *', successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1,
      jobTemplate: {
        spec: {
          template: {
            spec: {
              // A process pod on the suite's real node, whatever the node's default runtime class.
              runtimeClassName: 'process', nodeSelector: { 'kubernetes.io/hostname': o.nodeName },
              restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'host', command: ['true'] }],
            },
          },
        },
      },
    },
  })), 'cronjob');
  const appliedAt = Date.now();
  const deadline = appliedAt + DEADLINE_MS;
  const jobsNow = async () => parseJson<any>(assertOk(await kn(['get', 'jobs', '-o', 'json']), 'jobs'), 'jobs').items as any[];
  return {
    async verify() {
      const calledAt = Date.now();
      const seen = new Set<string>();
      while (Date.now() < deadline) {
        const jobs = await jobsNow();
        for (const j of jobs) seen.add(j.metadata.name);
        const complete = jobs.filter((j) => j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True'));
        assert.ok(complete.length <= 1, `history limit 1, but ${complete.length} complete Jobs are kept`);
        if (seen.size >= 2 && complete.length === 1 && !jobs.some((j) => j.metadata.name === [...seen][0])) break;
        await sleep(1000);
      }
      assert.ok(seen.size >= 2, `the CronJob made ${seen.size} Job(s) in ${Math.round((DEADLINE_MS - (deadline - Date.now())) / 1000)} s`);
      const names = [...seen];
      // Job names carry the scheduled minute (Kubernetes: <cronjob>-<unix minutes>), one minute apart.
      for (const n of names) assert.match(n, /^tick-\d{8}$/);
      assert.equal(Number(names[1]!.slice(5)) - Number(names[0]!.slice(5)), 1, `Jobs of consecutive minutes: ${names.join(', ')}`);
      const cj = parseJson<any>(assertOk(await kn(['get', 'cronjob', 'tick', '-o', 'json']), 'cronjob'), 'cronjob');
      assert.ok(cj.status.lastScheduleTime, 'lastScheduleTime set');
      assert.ok(cj.status.lastSuccessfulTime, 'lastSuccessfulTime set');
      assert.ok(!(await jobsNow()).some((j) => j.metadata.name === names[0]), `the oldest Job ${names[0]} was removed by the history limit`);
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      process.stdout.write(`# CronJob on the clock: Jobs ${names.join(', ')}; done ${s(Date.now() - appliedAt)} after the CronJob was made, ${s(Date.now() - calledAt)} of it waited for here\n`);
      // Its pods have finished; the suite's own clean-up checks wait for them to go.
      assertOk(await k(['delete', 'namespace', ns, '--wait=false']), `delete namespace ${ns}`);
    },
  };
}
