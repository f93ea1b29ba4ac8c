import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEtcd, startEtcdCluster, type TestEtcd } from '../../../test/support/etcd.ts';
import { CompactedError } from '../backend.ts';
import { collect, runBackendSuite } from '../backend.case.ts';
import { openEtcdBackend } from './index.ts';

runBackendSuite('etcd', async () => {
  const etcd = await startEtcd();
  const backend = await openEtcdBackend([etcd.endpoint], { progressIntervalMs: 200 });
  return { backend, countsRemaining: true, cleanup: async () => { await backend.close(); await etcd.stop(); } };
});

describe('etcd backend', () => {
  let etcd: TestEtcd;
  before(async () => { etcd = await startEtcd(); });
  after(async () => { await etcd.stop(); });

  it('replays history from before it connected and sees writes of another client', async () => {
    const first = await openEtcdBackend([etcd.endpoint]);
    const start = await first.currentRevision();
    for (let i = 1; i <= 5; i++) await first.create(`/h/k${i}`, String(i));
    await first.create('/other/x', 'not mine');
    const second = await openEtcdBackend([etcd.endpoint]);
    try {
      // Older than the second backend's ring: served by a one-off etcd watch.
      const w = collect(second, '/h/', start + 2);
      await w.until((c) => c.events.length >= 3);
      await first.create('/h/k6', '6');
      await w.until((c) => c.events.length >= 4);
      w.watch.close();
      assert.deepEqual(w.events.map((e) => e.kv.key), ['/h/k3', '/h/k4', '/h/k5', '/h/k6']);
      assert.deepEqual(w.events.map((e) => e.revision), [start + 3, start + 4, start + 5, start + 7]);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('reports a compacted history read through a fresh client as CompactedError', async () => {
    const b = await openEtcdBackend([etcd.endpoint]);
    try {
      const r1 = await b.create('/c/a', '1');
      await b.update('/c/a', '2', r1);
      const r3 = await b.create('/c/b', '1');
      await b.compact(r3);
      const fresh = await openEtcdBackend([etcd.endpoint]);
      try {
        assert.equal(await fresh.compactedRevision(), r3);
        const w = collect(fresh, '/c/', r1);
        await w.until((c) => c.errors.length > 0);
        const err = w.errors[0];
        assert.ok(err instanceof CompactedError, String(err));
        assert.equal(err.compacted, r3);
        assert.equal(err.requested, r1);
      } finally {
        await fresh.close();
      }
    } finally {
      await b.close();
    }
  });
});

describe('etcd backend on a 3-member cluster', () => {
  it('keeps writing and watching while any one member is killed (each in turn, the leader among them)', async () => {
    const cluster = await startEtcdCluster(3);
    const backend = await openEtcdBackend(cluster.endpoints.split(','), { progressIntervalMs: 200 });
    try {
      const w = collect(backend, '/ha/', await backend.currentRevision());
      const acked: string[] = [];
      for (const [round, member] of cluster.members.entries()) {
        for (let i = 0; i < 40; i++) {
          if (i === 10) await member.kill9();
          const k = `/ha/r${round}-${i}`;
          await backend.create(k, String(i)); // a failure fails the test: every write must succeed
          acked.push(k);
        }
        // The watch got this round's writes although one member is gone (it may have been the one
        // the watch streamed from).
        await w.until((c) => c.events.length >= acked.length, 20_000);
        await member.restart();
      }
      w.watch.close();
      assert.deepEqual(w.events.map((e) => e.kv.key), acked);
      assert.equal(w.errors.length, 0);
      const listed = await backend.list('/ha/');
      assert.equal(listed.items.length, acked.length);
    } finally {
      await backend.close();
      await cluster.stop();
    }
  });
});
