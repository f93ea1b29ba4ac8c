// The cache-mutation detector: what informers cache is frozen, so a write throws at the writer.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { R } from './client.ts';
import { SharedInformer } from './informer.ts';
import { deepFreeze, mutationDetectorOn } from './informer-mutation-detector.ts';
import { startTestEnv, waitFor, type TestEnv } from '../controllers/control-plane.fixture.ts';
import type { KubeObject } from '../apis/object.ts';

const pod = (name: string, cpu = '100m'): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'md' } },
  spec: { containers: [{ name: 'c', image: 'host', command: ['sleep', 'infinity'], resources: { requests: { cpu } } }] },
});

describe('cache-mutation detector', () => {
  let env: TestEnv;
  // The server's own informers share cached pods with these (peers): off for them, whatever the run says.
  const was = process.env.BERTH_CACHE_MUTATION_DETECTOR;
  before(async () => {
    delete process.env.BERTH_CACHE_MUTATION_DETECTOR;
    env = await startTestEnv();
    // Two pairs, of different requests: the first test's write corrupts every pod sharing its part for
    // good (in-process, interning shares it with the server's own decoded objects too).
    for (const n of ['md-a', 'md-b']) await env.client.create(R.pods, 'default', pod(n));
    for (const n of ['md-x', 'md-y']) await env.client.create(R.pods, 'default', pod(n, '200m'));
  });
  after(async () => {
    await env.close();
    if (was !== undefined) process.env.BERTH_CACHE_MUTATION_DETECTOR = was;
  });

  it('is switched by BERTH_CACHE_MUTATION_DETECTOR', () => {
    assert.equal(mutationDetectorOn({ BERTH_CACHE_MUTATION_DETECTOR: '1' }), true);
    assert.equal(mutationDetectorOn({ BERTH_CACHE_MUTATION_DETECTOR: 'true' }), true);
    assert.equal(mutationDetectorOn({}), false);
    assert.equal(mutationDetectorOn({ BERTH_CACHE_MUTATION_DETECTOR: '0' }), false);
  });

  it('without it, a write into one cached pod silently changes another: interned pods share parts', async () => {
    const inf = new SharedInformer(env.client, R.pods, { namespace: 'default', detectMutations: false });
    inf.start();
    await inf.synced();
    try {
      const a = inf.get('default/md-a')!;
      const b = inf.get('default/md-b')!;
      assert.equal(a.spec.containers[0].resources, b.spec.containers[0].resources, 'one resources object for both');
      a.spec.containers[0].resources.requests.cpu = '9';
      assert.equal(b.spec.containers[0].resources.requests.cpu, '9', 'md-b changed by a write to md-a');
    } finally {
      inf.stop();
    }
  });

  it('with it, the same write throws a TypeError at the writer and neither pod changes', async () => {
    const inf = new SharedInformer(env.client, R.pods, { namespace: 'default', detectMutations: true });
    const handed: KubeObject[] = [];
    inf.addHandlers({ add: (o) => handed.push(o), update: (_o, n) => handed.push(n), delete: (o) => handed.push(o) });
    inf.start();
    await inf.synced();
    try {
      const a = inf.get('default/md-x')!;
      const b = inf.get('default/md-y')!;
      assert.throws(() => { a.spec.containers[0].resources.requests.cpu = '9'; }, TypeError);
      assert.throws(() => { a.metadata.labels!.extra = 'x'; }, TypeError);
      assert.throws(() => { (a.status ??= {}).phase = 'Failed'; }, TypeError);
      assert.throws(() => { a.spec.containers.push({}); }, TypeError);
      assert.throws(() => { delete a.metadata.labels!.app; }, TypeError);
      assert.equal(b.spec.containers[0].resources.requests.cpu, '200m');
      // A watched update, and a deleted object handed to the handlers, are frozen too.
      await env.client.patch(R.pods, 'default', 'md-y', 'merge', { metadata: { labels: { v: '2' } } });
      await waitFor(() => inf.get('default/md-y')?.metadata.labels?.v === '2', 'update seen');
      assert.ok(Object.isFrozen(inf.get('default/md-y')!.metadata.labels));
      await env.client.delete(R.pods, 'default', 'md-y', { gracePeriodSeconds: 0 });
      await waitFor(() => !inf.get('default/md-y'), 'delete seen');
      assert.ok(handed.length >= 4 && handed.every((o) => Object.isFrozen(o) && Object.isFrozen(o.metadata)), 'handlers get frozen objects');
      // The writer's own reply is its own: the informer froze a copy, not what the client returned.
      const made = await env.client.create(R.pods, 'default', pod('md-c'));
      await waitFor(() => !!inf.get('default/md-c'), 'add seen');
      made.metadata.labels!.mine = 'yes';
      assert.equal(inf.get('default/md-c')!.metadata.labels?.mine, undefined);
    } finally {
      inf.stop();
    }
  });

  it('deepFreeze stops at parts already frozen and leaves scalars alone', () => {
    const shared = Object.freeze({ x: { y: 1 } });
    const o = deepFreeze({ a: shared, b: [{ c: 2 }], s: 'str' });
    assert.ok(Object.isFrozen(o.b[0]));
    assert.equal(Object.isFrozen(shared.x), false, 'a frozen part is not walked again');
    assert.equal(deepFreeze(3), 3);
  });
});
