/**
 * A CronJob on a real clock (the CronJob controller, upstream pkg/controller/cronjob, against the
 * wall clock): `* * * * *` makes a Job every minute whose process pod runs `true`, and only
 * `successfulJobsHistoryLimit: 1` finished Job is kept. Two minute boundaries are the least that
 * shows both (a second Job, then the first one removed), so the case takes 60–120 s of wall time
 * that is nearly all waiting: a `berth up` suite starts it in its `before` and checks it at its end,
 * and its own cases fill the wait (formerly a suite of its own that held the machine lock idle).
 *
 *   const cron = await startCronJobClock(k, { nodeName: NODE, kubeconfig, cacheDir });   // right after the node is Ready
 *   … the suite's cases …
 *   test('CronJob on a real clock …', () => cron.verify());        // before the suite's clean-up checks
 *
 * A Job watch (kubectl get -w) runs from the start, so Jobs made and trimmed before verify() is
 * called count: a poll begun in verify() missed a first Job already removed and waited a third
 * minute for its pair (~50 s of every run). The history limit is checked on that timeline: upstream
 * too trims the oldest finished Job when the CronJob controller sees the newer one finish, so two
 * finished Jobs can be seen for a moment — for no longer than TRIM_MS.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { findKubectl, type KubectlResult } from '../support/kubectl.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The second boundary is at most 120 s after the CronJob is made; its Job then has to run. */
const DEADLINE_MS = 200_000;
/** How long two finished Jobs may both be kept: the controller's reaction to the newer one's completion. */
const TRIM_MS = 10_000;

export interface CronJobClock {
  /** Waits for two Jobs and the first one's removal, checks names and status, then deletes the namespace (not waiting). */
  verify(): Promise<void>;
}

/** What the watch has seen: Jobs in order of appearance, which are finished now, and the longest span with two finished. */
class JobTimeline {
  readonly order: string[] = [];
  readonly deleted = new Set<string>();
  readonly complete = new Set<string>();
  private twoSince: number | undefined;
  longestTwoMs = 0;

  /** One watch line: `TYPE|name|Complete-status`, arrived at `at`. */
  add(line: string, at: number): void {
    const [type, name, complete] = line.split('|');
    if (!name) return;
    if (!this.order.includes(name)) this.order.push(name);
    if (type === 'DELETED') { this.deleted.add(name); this.complete.delete(name); } else if (complete === 'True') this.complete.add(name); else this.complete.delete(name);
    if (this.complete.size > 1) this.twoSince ??= at;
    else if (this.twoSince !== undefined) { this.longestTwoMs = Math.max(this.longestTwoMs, at - this.twoSince); this.twoSince = undefined; }
  }

  /** The longest span with more than one finished Job kept, counting one still open at `now`. */
  longestTwo(now: number): number {
    return Math.max(this.longestTwoMs, this.twoSince === undefined ? 0 : now - this.twoSince);
  }
}

export async function startCronJobClock(
  k: (args: string[], input?: string) => Promise<KubectlResult>,
  o: { nodeName: string; namespace?: string; kubeconfig: string; cacheDir: string },
): Promise<CronJobClock> {
  const ns = o.namespace ?? 'cron';
  const kn = (args: string[], input?: string) => k([...args, '-n', ns], input);
  assertOk(await k(['create', 'namespace', ns]), `namespace ${ns}`);
  const timeline = new JobTimeline();
  const watch = spawn(await findKubectl(), [`--kubeconfig=${o.kubeconfig}`, `--cache-dir=${o.cacheDir}`, 'get', 'jobs', '-n', ns, '-w', '--output-watch-events',
    '-o', 'jsonpath={.type}|{.object.metadata.name}|{.object.status.conditions[?(@.type=="Complete")].status}{"\\n"}'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let partial = '';
  let watchErr = '';
  watch.stdout.on('data', (d: Buffer) => {
    const at = Date.now();
    const lines = (partial + d.toString()).split('\n');
    partial = lines.pop()!;
    for (const line of lines) timeline.add(line, at);
  });
  watch.stderr.on('data', (d: Buffer) => { watchErr += d.toString(); });
  const watchEnded = new Promise<void>((resolve) => watch.on('close', () => resolve()));
  process.once('exit', () => watch.kill('SIGKILL'));
  let watching = true;
  void watchEnded.then(() => { watching = false; });
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
      try {
        const done = () => timeline.order.length >= 2 && timeline.deleted.has(timeline.order[0]!) && timeline.complete.size === 1;
        while (!done() && Date.now() < deadline) {
          assert.ok(watching, `the Job watch ended: ${watchErr}`);
          await sleep(500);
        }
        const names = timeline.order;
        assert.ok(names.length >= 2, `the CronJob made ${names.length} Job(s) in ${Math.round((Date.now() - appliedAt) / 1000)} s`);
        assert.ok(timeline.longestTwo(Date.now()) <= TRIM_MS, `history limit 1, but two complete Jobs were kept for ${timeline.longestTwo(Date.now())} ms`);
        assert.ok(done(), `the oldest Job ${names[0]} removed and one complete Job kept: ${JSON.stringify({ names, deleted: [...timeline.deleted], complete: [...timeline.complete] })}`);
        // Job names carry the scheduled minute (Kubernetes: <cronjob>-<unix minutes>), one minute apart.
        for (const n of names) assert.match(n, /^tick-\d{8}$/);
        assert.equal(Number(names[1]!.slice(5)) - Number(names[0]!.slice(5)), 1, `Jobs of consecutive minutes: ${names.join(', ')}`);
        const cj = parseJson<any>(assertOk(await kn(['get', 'cronjob', 'tick', '-o', 'json']), 'cronjob'), 'cronjob');
        assert.ok(cj.status.lastScheduleTime, 'lastScheduleTime set');
        assert.ok(cj.status.lastSuccessfulTime, 'lastSuccessfulTime set');
        assert.ok(!(await jobsNow()).some((j) => j.metadata.name === names[0]), `the oldest Job ${names[0]} was removed by the history limit`);
        const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
        process.stdout.write(`# CronJob on the clock: Jobs ${names.join(', ')}; done ${s(Date.now() - appliedAt)} after the CronJob was made, ${s(Date.now() - calledAt)} of it waited for here\n`);
      } finally {
        watch.kill('SIGKILL');
        await watchEnded;
        // Its pods have finished (or, on a failure, no more Jobs come); the suite's own clean-up checks wait for them to go.
        await k(['delete', 'namespace', ns, '--wait=false']);
      }
    },
  };
}
