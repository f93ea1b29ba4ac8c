/**
 * Preemption against a real server (SQLite, in-process client, no node agent: a victim stays
 * terminating until the test removes it), so what the scheduler writes can be read in between.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { R } from '../client/client.ts';
import { LocalClient } from '../client/local-client.ts';
import { startServer, type RunningServer } from '../server/berth-server.ts';
import { createLogger } from '../util/log.ts';
import { makeNode } from './cluster.fixture.ts';
import { startScheduler, type RunningScheduler } from './scheduler.ts';
import { waitFor as poll } from '../util/wait.fixture.ts';

const PRIORITY_CLASSES = { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' };
const PDBS = { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' };

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 15_000): Promise<T> => poll(fn, what, ms, 50);

describe('preemption through the API', () => {
  let dataDir: string;
  let server: RunningServer;
  let client: LocalClient;
  let scheduler: RunningScheduler;
  const get = (name: string) => client.get(R.pods, 'default', name);
  const pod = (name: string, className: string, labels: Record<string, string> = {}): KubeObject => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, labels },
    spec: { priorityClassName: className, containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '1' } } }] },
  });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'berth-preemption-'));
    server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'warn' }) });
    client = new LocalClient(server.registry);
    await client.create(R.nodes, undefined, makeNode('n1', { cpu: '2' }));
    for (const [name, value] of [['low', 10], ['high', 1000]] as const) {
      await client.create(PRIORITY_CLASSES, undefined, { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value });
    }
    // A budget that allows no disruption of `guarded` (its status as the disruption controller would write it).
    await client.create(PDBS, 'default', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'guard' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'guarded' } } } });
    await client.patch(PDBS, 'default', 'guard', 'merge', { status: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 } }, 'status');
    scheduler = await startScheduler(client, createLogger({ level: 'warn' }), { eventIntervalMs: 100, initialBackoffMs: 50, maxBackoffMs: 200 });
  });

  after(async () => {
    await scheduler.stop();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('evicts the unguarded low pod with DisruptionTarget, nominates the preemptor, binds it once the victim is gone', async () => {
    // `plain` first: without the budget it would be reprieved first, and `guarded` evicted.
    await client.create(R.pods, 'default', pod('plain', 'low', { app: 'plain' }));
    await waitFor('plain bound', async () => (await get('plain')).spec.nodeName);
    await client.create(R.pods, 'default', pod('guarded', 'low', { app: 'guarded' }));
    await waitFor('guarded bound', async () => (await get('guarded')).spec.nodeName);

    const high = await client.create(R.pods, 'default', pod('high', 'high'));
    const victim = await waitFor('a victim terminating', async () => {
      const p = await get('plain');
      return p.metadata.deletionTimestamp ? p : undefined;
    });
    const cond = victim.status.conditions.find((c: any) => c.type === 'DisruptionTarget');
    assert.deepEqual([cond?.status, cond?.reason, cond?.message], ['True', 'PreemptionByScheduler', 'default-scheduler: preempting to accommodate a higher priority pod']);
    // The budget's pod is spared.
    assert.equal((await get('guarded')).metadata.deletionTimestamp, undefined);
    const nominated = await waitFor('high nominated', async () => (await get('high')).status?.nominatedNodeName);
    assert.equal(nominated, 'n1');
    const scheduled = (await get('high')).status.conditions.find((c: any) => c.type === 'PodScheduled');
    assert.deepEqual([scheduled.status, scheduled.message], ['False', '0/1 nodes are available: 1 Insufficient cpu.']);
    const ev = await waitFor('Preempted event', async () =>
      (await client.list(R.events, 'default')).items.find((e) => e.reason === 'Preempted' && e.involvedObject?.name === 'plain'));
    assert.equal(ev.message, `Preempted by pod ${high.metadata.uid} on node n1`);

    // While the victim terminates, the preemptor waits (no second round of eviction) and is not bound.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await get('high')).spec.nodeName, undefined);
    assert.equal((await get('guarded')).metadata.deletionTimestamp, undefined);

    // The victim's node agent finishes it: the preemptor is bound where it was nominated.
    await client.delete(R.pods, 'default', 'plain', { gracePeriodSeconds: 0 });
    assert.equal(await waitFor('high bound', async () => (await get('high')).spec.nodeName), 'n1');
  });

  it('a pod of lower priority than everything on a full node preempts nothing', async () => {
    await client.create(R.pods, 'default', pod('late-low', 'low'));
    const cond = await waitFor('late-low unschedulable', async () =>
      (await get('late-low')).status?.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False'));
    assert.equal(cond.message, '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.');
    assert.equal((await get('guarded')).metadata.deletionTimestamp, undefined);
    assert.equal((await get('late-low')).status.nominatedNodeName, undefined);
  });
});
