import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { R } from './client.ts';
import { LeaderElector } from './leader-election.ts';
import { startTestEnv, waitFor, type TestEnv } from '../controllers/control-plane.fixture.ts';

describe('leader election', () => {
  let env: TestEnv;
  before(async () => { env = await startTestEnv(); });
  after(async () => { await env.close(); });

  const elector = (identity: string, events: string[], name = 'test-lease', leaseDurationSeconds = 15) => new LeaderElector(env.client, {
    name, identity, leaseDurationSeconds, renewIntervalMs: 30, retryPeriodMs: 30,
    onStartedLeading: () => { events.push(`${identity}:start`); },
    onStoppedLeading: () => { events.push(`${identity}:stop`); },
  });

  it('one of two electors leads; stopping it hands the lease over', async () => {
    const events: string[] = [];
    const a = elector('a', events);
    const b = elector('b', events);
    a.start();
    await waitFor(() => a.isLeader(), 'a leads');
    b.start();
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(b.isLeader(), false, 'b waits while a renews');
    const lease = await env.client.get(R.leases, 'kube-system', 'test-lease');
    assert.equal(lease.spec.holderIdentity, 'a');
    assert.equal(lease.spec.leaseDurationSeconds, 15);
    await a.stop();
    await waitFor(() => b.isLeader(), 'b takes over after release');
    const after = await env.client.get(R.leases, 'kube-system', 'test-lease');
    assert.equal(after.spec.holderIdentity, 'b');
    assert.equal(after.spec.leaseTransitions, 0, 'a released, so b took an empty lease');
    await b.stop();
    assert.deepEqual(events, ['a:start', 'a:stop', 'b:start', 'b:stop']);
  });

  it('recreates its Lease when it is deleted by hand and keeps leading, within the lease period', async () => {
    const events: string[] = [];
    const a = elector('a', events, 'deleted-lease', 2);
    a.start();
    await waitFor(() => a.isLeader(), 'a leads');
    await env.client.delete(R.leases, 'kube-system', 'deleted-lease');
    const deletedAt = Date.now();
    await waitFor(async () => {
      try { return (await env.client.get(R.leases, 'kube-system', 'deleted-lease')).spec.holderIdentity === 'a'; } catch { return false; }
    }, 'the lease is back', 2000);
    assert.ok(Date.now() - deletedAt < 2000, 'within the lease period');
    assert.equal(a.isLeader(), true);
    assert.deepEqual(events, ['a:start'], 'leadership never lapsed');
    await a.stop();
  });

  it('takes over a lease whose holder stopped renewing once it expires', async () => {
    const events: string[] = [];
    const now = new Date().toISOString().replace(/(\.\d{3})Z$/, '$1000Z');
    await env.client.create(R.leases, 'kube-system', {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'dead-lease' },
      spec: { holderIdentity: 'dead', leaseDurationSeconds: 1, renewTime: now, acquireTime: now, leaseTransitions: 0 },
    });
    const b = elector('b', events, 'dead-lease', 1);
    b.start();
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(b.isLeader(), false, 'not before the lease expires');
    await waitFor(() => b.isLeader(), 'b takes the expired lease', 4000);
    const lease = await env.client.get(R.leases, 'kube-system', 'dead-lease');
    assert.equal(lease.spec.holderIdentity, 'b');
    assert.equal(lease.spec.leaseTransitions, 1);
    await b.stop();
  });
});
