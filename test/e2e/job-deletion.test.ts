/**
 * End to end: deleting Jobs and their namespace with real kubectl against `berth server` (controllers
 * on, no node, so the Job's pods stay Pending and unbound). A Job's pods carry the
 * `batch.kubernetes.io/job-tracking` finalizer; whichever way the Job goes — with its namespace,
 * `--cascade=orphan`, `--cascade=foreground` — the finalizer must come off, or the pods stay
 * Terminating and `kubectl delete namespace` never finishes (Kubernetes' job controller releases the
 * pods of Jobs that are gone or going: pkg/controller/job, orphan pods).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk, parseJson } from '../support/kubectl-assert.ts';
import { waitFor } from '../support/wait.ts';

const FINALIZER = 'batch.kubernetes.io/job-tracking';
const T = { timeout: 120_000 };

const job = (name: string, ns: string) => JSON.stringify({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: ns },
  spec: {
    parallelism: 2, completions: 4,
    template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'host', command: ['sleep', '3600'] }] } },
  },
});

describe('deleting Jobs whose pods hold the job-tracking finalizer', { concurrency: false }, () => {
  let b: BerthServer | undefined;
  const srv = (): BerthServer => {
    assert.ok(b, 'Berth server did not start (see the before hook failure)');
    return b;
  };
  const ok = async (args: string[], input?: string, timeoutMs = 30_000): Promise<string> =>
    assertOk(await srv().kubectl(args, { input, timeoutMs }), `kubectl ${args.join(' ')}`);
  const podsOf = async (name: string, ns: string): Promise<any[]> =>
    parseJson<any>(await ok(['get', 'pods', '-n', ns, '-l', `batch.kubernetes.io/job-name=${name}`, '-o', 'json']), 'pods').items;
  const logTail = () => srv().logs().slice(-3000);

  /** Creates the Job and waits until its two pods exist with the tracking finalizer. */
  const startJob = async (name: string, ns: string): Promise<any[]> => {
    await ok(['apply', '-f', '-'], job(name, ns));
    return waitFor(`2 pods of ${name} with the tracking finalizer`, async () => {
      const pods = await podsOf(name, ns);
      return pods.length === 2 && pods.every((p) => (p.metadata.finalizers ?? []).includes(FINALIZER)) && pods;
    }, 30_000, logTail);
  };

  /** `kubectl delete namespace` must finish: nothing in it may stay Terminating. */
  const deleteNamespace = async (ns: string): Promise<void> => {
    const out = await ok(['delete', 'namespace', ns, '--timeout=60s'], undefined, 75_000);
    assert.equal(out, `namespace "${ns}" deleted\n`);
    const gone = await srv().kubectl(['get', 'namespace', ns]);
    assert.notEqual(gone.code, 0, `the namespace is still there:\n${gone.stdout}`);
    assert.match(gone.stderr, /NotFound/);
  };

  before(async () => { b = await startBerth(); });
  after(async () => { await b?.cleanup(); });

  it('kubectl delete namespace with a running Job finishes', T, async () => {
    await ok(['create', 'namespace', 'e2e-jobs-ns']);
    await startJob('work', 'e2e-jobs-ns');
    await deleteNamespace('e2e-jobs-ns');
  });

  it('--cascade=orphan keeps the pods, without the Job reference or the finalizer; the namespace then goes', T, async () => {
    await ok(['create', 'namespace', 'e2e-jobs-orphan']);
    const before = await startJob('kept', 'e2e-jobs-orphan');
    await ok(['delete', 'job', 'kept', '-n', 'e2e-jobs-orphan', '--cascade=orphan', '--timeout=30s'], undefined, 45_000);
    const pods = await waitFor('the orphaned pods released', async () => {
      const pods = await podsOf('kept', 'e2e-jobs-orphan');
      return pods.every((p) => !(p.metadata.finalizers ?? []).includes(FINALIZER) && !p.metadata.ownerReferences?.length) && pods;
    }, 30_000, logTail);
    assert.deepEqual(pods.map((p) => p.metadata.uid).sort(), before.map((p) => p.metadata.uid).sort(), 'the same pods remain');
    assert.ok(pods.every((p) => !p.metadata.deletionTimestamp), 'orphaned pods are not deleted');
    await deleteNamespace('e2e-jobs-orphan');
  });

  it('--cascade=foreground deletes the pods, then the Job; the namespace then goes', T, async () => {
    await ok(['create', 'namespace', 'e2e-jobs-fg']);
    await startJob('fg', 'e2e-jobs-fg');
    await ok(['delete', 'job', 'fg', '-n', 'e2e-jobs-fg', '--cascade=foreground', '--timeout=60s'], undefined, 75_000);
    await waitFor('the Job and its pods gone', async () => {
      const jobs = parseJson<any>(await ok(['get', 'jobs', '-n', 'e2e-jobs-fg', '-o', 'json']), 'jobs').items;
      return jobs.length === 0 && (await podsOf('fg', 'e2e-jobs-fg')).length === 0;
    }, 30_000, logTail);
    await deleteNamespace('e2e-jobs-fg');
  });

  it('a background delete removes the pods; the namespace then goes', T, async () => {
    await ok(['create', 'namespace', 'e2e-jobs-bg']);
    await startJob('bg', 'e2e-jobs-bg');
    await ok(['delete', 'job', 'bg', '-n', 'e2e-jobs-bg', '--cascade=background']);
    await waitFor('the pods of the deleted Job gone', async () => (await podsOf('bg', 'e2e-jobs-bg')).length === 0, 30_000, logTail);
    await deleteNamespace('e2e-jobs-bg');
  });
});
