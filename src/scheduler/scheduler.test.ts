/** End to end against a real server (SQLite, in-process client): bind, FailedScheduling, re-queue, spreading. */
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
import { startScheduler, type RunningScheduler } from './scheduler.ts';
import { makeNode, makePod } from './cluster.fixture.ts';
import { waitFor as poll } from '../util/wait.fixture.ts';

const ZONE = 'topology.kubernetes.io/zone';

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 10_000): Promise<T> => poll(fn, what, ms, 50);

describe('scheduler end to end', () => {
  let dataDir: string;
  let server: RunningServer;
  let client: LocalClient;
  let scheduler: RunningScheduler;

  const pod = (name: string) => client.get(R.pods, 'default', name);
  const boundNode = (name: string) => waitFor(`${name} bound`, async () => (await pod(name)).spec?.nodeName as string | undefined);
  const create = (p: KubeObject) => client.create(R.pods, 'default', { ...p, metadata: { name: p.metadata.name, labels: p.metadata.labels } });
  const eventsOf = async (name: string, reason: string) =>
    (await client.list(R.events, 'default')).items.filter((e) => e.involvedObject?.name === name && e.reason === reason);

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'berth-scheduler-'));
    server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'warn' }) });
    client = new LocalClient(server.registry);
    await client.create(R.nodes, undefined, makeNode('n1', { cpu: '4', labels: { [ZONE]: 'a' } }));
    await client.create(R.nodes, undefined, makeNode('n2', { cpu: '4', labels: { [ZONE]: 'b' } }));
    await client.create(R.nodes, undefined, makeNode('n3', { cpu: '4', labels: { [ZONE]: 'c', disk: 'ssd' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }));
    scheduler = await startScheduler(client, createLogger({ level: 'warn' }), { eventIntervalMs: 100, initialBackoffMs: 50, maxBackoffMs: 200 });
  });

  after(async () => {
    await scheduler.stop();
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('binds pods to fitting nodes with a Scheduled event', async () => {
    await create(makePod('fits', { requests: { cpu: '3' } }));
    const node = await boundNode('fits');
    assert.ok(node === 'n1' || node === 'n2', node);
    const p = await pod('fits');
    assert.equal(p.status.conditions.find((c: any) => c.type === 'PodScheduled')?.status, 'True');
    // As upstream's BindingREST, the binding records no field manager: nothing owns spec.nodeName.
    assert.ok(!(p.metadata.managedFields ?? []).some((m: any) => JSON.stringify(m.fieldsV1 ?? {}).includes('f:nodeName')), JSON.stringify(p.metadata.managedFields));
    const ev = await waitFor('Scheduled event', async () => (await eventsOf('fits', 'Scheduled'))[0]);
    assert.equal(ev.message, `Successfully assigned default/fits to ${node}`);
    // What kubectl describe finds the event by (involvedObject) and shows in its From column (source).
    assert.deepEqual(ev.source, { component: 'default-scheduler' });
    assert.deepEqual([ev.involvedObject.apiVersion, ev.involvedObject.kind, ev.involvedObject.namespace, ev.involvedObject.uid], ['v1', 'Pod', 'default', p.metadata.uid]);
    // The next 3-cpu pod must see the first one and take the other untainted node.
    await create(makePod('fits2', { requests: { cpu: '3' } }));
    assert.equal(await boundNode('fits2'), node === 'n1' ? 'n2' : 'n1');
  });

  it('leaves a 500-cpu pod Pending with Insufficient cpu and a FailedScheduling event', async () => {
    await create(makePod('huge', { requests: { cpu: '500' } }));
    const cond = await waitFor('PodScheduled=False', async () =>
      (await pod('huge')).status?.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False'));
    assert.equal(cond.reason, 'Unschedulable');
    assert.equal(cond.message,
      '0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 Insufficient cpu. '
      + 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.');
    const ev = await waitFor('FailedScheduling event', async () => (await eventsOf('huge', 'FailedScheduling'))[0]);
    assert.equal(ev.type, 'Warning');
    assert.equal(ev.message, cond.message);
    assert.equal((await pod('huge')).spec.nodeName, undefined);
  });

  it('blocks a nodeSelector pod on the tainted node and schedules it once the taint is removed', async () => {
    await create(makePod('picky', { spec: { nodeSelector: { disk: 'ssd' } } }));
    const cond = await waitFor('PodScheduled=False', async () =>
      (await pod('picky')).status?.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False'));
    assert.match(cond.message, /^0\/3 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: gpu\}, 2 node\(s\) didn't match Pod's node affinity\/selector\./);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await pod('picky')).spec.nodeName, undefined);
    await client.patch(R.nodes, undefined, 'n3', 'merge', { spec: { taints: null } });
    assert.equal(await boundNode('picky'), 'n3');
  });

  it('spreads pods over hosts by topology spread and by anti-affinity', async () => {
    const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }] };
    for (let i = 0; i < 3; i++) await create(makePod(`spread-${i}`, { labels: { app: 'spread' }, spec: spread }));
    const spreadNodes = await Promise.all([0, 1, 2].map((i) => boundNode(`spread-${i}`)));
    assert.deepEqual([...spreadNodes].sort(), ['n1', 'n2', 'n3']);

    const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'solo' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
    for (let i = 0; i < 4; i++) await create(makePod(`solo-${i}`, { labels: { app: 'solo' }, spec: anti }));
    const soloNodes = await Promise.all([0, 1, 2].map((i) => boundNode(`solo-${i}`)));
    assert.deepEqual([...soloNodes].sort(), ['n1', 'n2', 'n3']);
    const cond = await waitFor('solo-3 unschedulable', async () =>
      (await pod('solo-3')).status?.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False'));
    assert.match(cond.message, /3 node\(s\) didn't match pod anti-affinity rules/);
  });
});
