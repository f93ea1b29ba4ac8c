/**
 * End to end on a real clock: a CronJob `* * * * *` on `berth up` creates a Job every minute whose
 * process pod runs `true`, and keeps only `successfulJobsHistoryLimit` finished Jobs. Takes two to
 * three minutes of wall time (the schedule is real). Needs root (process pods). Pods 10.54.0.0/24,
 * services 10.55.0.0/16, bridge `berthcron0`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';

const BRIDGE = 'berthcron0';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('CronJob on a real clock (berth up)', { concurrency: false }, () => {
  let b: BerthServer;
  const k = (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 30_000 });

  before(async () => {
    assert.equal(process.getuid?.(), 0, 'process pods need root');
    b = await startBerth({ command: 'up', extraArgs: ['--cluster-cidr', '10.54.0.0/16', '--pod-cidr', '10.54.0.0/24', '--service-cidr', '10.55.0.0/16', '--bridge', BRIDGE, '--node-name', 'cron-node'] });
  });
  after(async () => {
    if (b) {
      await k(['delete', 'cronjobs,jobs,pods', '--all', '--grace-period=1', '--wait=true']).catch(() => {});
      await b.cleanup();
    }
    for (const cmd of [['ip', 'link', 'del', BRIDGE], ['ip', 'route', 'del', 'unreachable', '10.54.0.0/16'], ['ip', 'route', 'del', '10.55.0.0/16'], ['nft', 'delete', 'table', 'inet', `berth-egress-${BRIDGE}`], ['nft', 'delete', 'table', 'ip', `berth-proxy-${BRIDGE}`]]) {
      try { execFileSync(cmd[0]!, cmd.slice(1), { stdio: 'ignore' }); } catch { /* not there */ }
    }
  });

  test('every minute a Job; finished ones kept to the history limit', async () => {
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'tick' },
      spec: {
        schedule: '* * * * *', successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1,
        jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'c', image: 'host', command: ['true'] }] } } } },
      },
    })), 'cronjob');
    const seen = new Set<string>();
    const deadline = Date.now() + 200_000;
    let completedSeen = 0;
    while (Date.now() < deadline) {
      const jobs = parseJson<any>(assertOk(await k(['get', 'jobs', '-o', 'json']), 'jobs'), 'jobs').items as any[];
      for (const j of jobs) seen.add(j.metadata.name);
      const complete = jobs.filter((j) => j.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True'));
      completedSeen = Math.max(completedSeen, complete.length);
      assert.ok(complete.length <= 1, `history limit 1, but ${complete.length} complete Jobs are kept`);
      if (seen.size >= 2 && complete.length === 1 && !jobs.some((j) => j.metadata.name === [...seen][0])) break;
      await sleep(2000);
    }
    assert.ok(seen.size >= 2, `the CronJob made ${seen.size} Job(s) in ${Math.round((200_000 - (deadline - Date.now())) / 1000)} s`);
    const names = [...seen];
    // Job names carry the scheduled minute (Kubernetes: <cronjob>-<unix minutes>).
    for (const n of names) assert.match(n, /^tick-\d{8}$/);
    const cj = parseJson<any>(assertOk(await k(['get', 'cronjob', 'tick', '-o', 'json']), 'cronjob'), 'cronjob');
    assert.ok(cj.status.lastScheduleTime, 'lastScheduleTime set');
    assert.ok(cj.status.lastSuccessfulTime, 'lastSuccessfulTime set');
    const jobs = parseJson<any>(assertOk(await k(['get', 'jobs', '-o', 'json']), 'jobs'), 'jobs').items as any[];
    assert.ok(!jobs.some((j) => j.metadata.name === names[0]), `the oldest Job ${names[0]} was removed by the history limit`);
  });
});
