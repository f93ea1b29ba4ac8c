/**
 * Pod garbage collection against a real `bin/berth server` (controllers on) and real kubectl: pods
 * bound to a Node that is deleted go within the quarantine (40 s) plus one pass (20 s); finished
 * pods above `--terminated-pod-gc-threshold` go oldest first; a pod on a node that exists stays.
 * Run: node --import tsx --test test/e2e/pod-gc.test.ts
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { waitFor } from '../support/wait.ts';

describe('pod garbage collection (kubectl, real server)', () => {
  let berth: BerthServer;
  const ok = async (args: string[], input?: string) => {
    const r = await berth.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const apply = (obj: object) => ok(['apply', '-f', '-'], JSON.stringify(obj));
  const pod = (name: string, nodeName: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'c', image: 'host' }] } });
  const podNames = async () => (JSON.parse(await ok(['get', 'pods', '-n', 'default', '-o', 'json'])).items as any[]).map((p) => p.metadata.name as string).sort();
  const finish = async (name: string, phase: string) => {
    const p = JSON.parse(await ok(['get', 'pod', name, '-n', 'default', '-o', 'json']));
    await ok(['replace', '--subresource=status', '-f', '-'], JSON.stringify({ ...p, status: { ...p.status, phase } }));
  };

  before(async () => { berth = await startBerth({ extraArgs: ['--terminated-pod-gc-threshold', '2'] }); });
  after(async () => {
    assert.equal(berth.lastExit(), undefined, berth.logs());
    await berth.cleanup();
  });

  it('a deleted node\'s pods are force-deleted within a minute; finished pods over the threshold go oldest first', async () => {
    for (const n of ['doomed', 'stays']) await apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: n } });
    await apply(pod('on-doomed-1', 'doomed'));
    await apply(pod('on-doomed-2', 'doomed'));
    await apply(pod('on-stays', 'stays'));
    // Four finished pods, created a second apart so "oldest" is by creation time, not by name.
    for (const [name, phase] of [['done-d', 'Succeeded'], ['done-c', 'Failed'], ['done-b', 'Succeeded'], ['done-a', 'Succeeded']] as const) {
      await apply(pod(name, 'stays'));
      await finish(name, phase);
      await new Promise((r) => setTimeout(r, 1_100));
    }
    const t0 = Date.now();
    await ok(['delete', 'node', 'doomed']);
    await waitFor('the two oldest finished pods deleted', async () => !(await podNames()).some((n) => n === 'done-d' || n === 'done-c'), 45_000, () => berth.logs().split('\n').filter((l) => /garbage|podgc|pod-gc/i.test(l)).slice(-20).join('\n'));
    await waitFor('the deleted node\'s pods deleted', async () => !(await podNames()).some((n) => n.startsWith('on-doomed')), 75_000);
    const s = (Date.now() - t0) / 1000;
    process.stdout.write(`# pods of the deleted node gone ${s.toFixed(1)} s after the delete (quarantine 40 s + a 20 s pass)\n`);
    assert.ok(s >= 35, `not before the quarantine (${s.toFixed(1)} s)`);
    assert.deepEqual(await podNames(), ['done-a', 'done-b', 'on-stays']);
  });
});
