/**
 * Re-adoption with fake drivers and network: every bound pod gets a worker with its recovered
 * network and completed inits, running containers go back to their pod's worker by the id's uid,
 * name and restart count, other containers and networks are removed, and only then do workers sync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { createLogger } from '../../util/log.ts';
import type { ContainerHandle, RuntimeDriver } from '../runtime/driver.ts';
import type { SandboxInfo } from './container-spec.ts';
import { readoptPods, type AdoptingWorker } from './readopt.ts';
import { WorkerTable } from './worker-table.ts';

const U1 = '0b5c5a8e-0000-4000-8000-000000000001';
const U2 = '0b5c5a8e-0000-4000-8000-000000000002';
const GONE = '0b5c5a8e-0000-4000-8000-0000000000ff';
const pod = (uid: string, name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', uid }, spec: {} }) as unknown as KubeObject;

class FakeWorker implements AdoptingWorker {
  readonly uid: string;
  readonly log: string[] = [];
  readonly done = new Promise<void>(() => {});
  constructor(readonly pod: KubeObject, private readonly events: string[]) { this.uid = pod.metadata.uid!; }
  adoptSandbox(s: SandboxInfo) { this.log.push(`sandbox ${s.netnsPath} ${s.ip}`); }
  adoptCompletedInit() { this.log.push('inits'); }
  adopt(name: string, d: RuntimeDriver, id: string, restarts: number, h: ContainerHandle) { this.log.push(`adopt ${name} ${d.name} ${id} ${restarts} pid ${h.pid}`); }
  schedule() { this.log.push('schedule'); this.events.push(`schedule ${this.pod.metadata.name}`); }
  update() {}
  remove() {}
  instance() { return undefined; }
  logPath() { return undefined; }
}

function fakeDriver(name: string, ids: string[], events: string[], gone = new Set<string>()): RuntimeDriver {
  return {
    name,
    list: async () => ids,
    recover: async (id: string) => (gone.has(id) ? undefined : { id, pid: 100 + ids.indexOf(id), startedAt: new Date(0) }),
    destroy: async (id: string) => { events.push(`destroy ${name} ${id}`); },
  } as unknown as RuntimeDriver;
}

test('containers go back to their pods; orphans, unrecoverable containers and stray networks are removed; then every worker syncs', async () => {
  const events: string[] = [];
  const table = new WorkerTable<FakeWorker>();
  const drivers = [
    fakeDriver('process', [`${U1}_app_2`, `${GONE}_app_0`, 'not-a-pod-container'], events),
    fakeDriver('runc', [`${U2}_db_0`, `${U2}_side_1`], events, new Set([`${U2}_side_1`])),
  ];
  await readoptPods({
    pods: [pod(U1, 'web'), pod(U2, 'data')], workers: table, drivers,
    newWorker: (p) => new FakeWorker(p, events),
    network: {
      recover: async () => new Map([[U1, { netnsPath: '/var/run/netns/berth-u1', ip: '10.42.0.7' }]]),
      cleanupOrphans: async (live) => { events.push(`network keeps ${[...live].length}`); },
    },
    log: createLogger({ level: 'error' }),
  });
  assert.deepEqual(table.get(U1)!.log, ['sandbox /var/run/netns/berth-u1 10.42.0.7', 'inits', `adopt app process ${U1}_app_2 2 pid 100`, 'schedule']);
  assert.deepEqual(table.get(U2)!.log, ['inits', `adopt db runc ${U2}_db_0 0 pid 100`, 'schedule']);
  assert.deepEqual(events, [
    `destroy process ${GONE}_app_0`,
    'destroy process not-a-pod-container',
    `destroy runc ${U2}_side_1`,
    'network keeps 2',
    'schedule web',
    'schedule data',
  ]);
});

// Fencing: a restarted agent adopts only pods it may still run (fence-guard.ts), one rule each.
const U3 = '0b5c5a8e-0000-4000-8000-000000000003';
const bound = (uid: string, name: string, node: string, fence?: object): KubeObject => {
  const p = pod(uid, name);
  p.spec = { nodeName: node };
  if (fence) p.metadata.annotations = { 'storage.berth.dev/fence': JSON.stringify(fence) };
  return p;
};

async function readoptOn(node: string, pods: KubeObject[], ids: string[]) {
  const events: string[] = [];
  const table = new WorkerTable<FakeWorker>();
  await readoptPods({
    pods, workers: table, nodeName: node, drivers: [fakeDriver('process', ids, events)],
    newWorker: (p) => new FakeWorker(p, events),
    network: { recover: async () => new Map(), cleanupOrphans: async (live) => { events.push(`network keeps ${[...live].sort().join(',')}`); } },
    log: createLogger({ level: 'error' }),
  });
  return { events, table };
}

test('fencing rule: a container whose pod object is gone is destroyed, not adopted', async () => {
  const { events, table } = await readoptOn('n1', [bound(U1, 'web', 'n1')], [`${U1}_app_0`, `${GONE}_db_0`]);
  assert.ok(table.get(U1));
  assert.ok(events.includes(`destroy process ${GONE}_db_0`));
  assert.ok(!events.includes(`destroy process ${U1}_app_0`));
});

test('fencing rule: a pod bound to another node is not adopted; its containers and network go', async () => {
  const { events, table } = await readoptOn('n1', [bound(U1, 'web', 'n1'), bound(U2, 'db-0', 'n2')], [`${U1}_app_0`, `${U2}_db_0`]);
  assert.equal(table.get(U2), undefined);
  assert.ok(events.includes(`destroy process ${U2}_db_0`));
  assert.ok(events.includes(`network keeps ${U1}`));
});

test('fencing rule: a pod carrying a fence naming this node (for this pod) is not adopted; a fence naming another node or another pod is not this one', async () => {
  const pods = [
    bound(U1, 'db-0', 'n1', { node: 'n1', generation: 3, pod: U1 }),
    bound(U2, 'db-1', 'n1', { node: 'n2', generation: 1 }),
    bound(U3, 'db-2', 'n1', { node: 'n1', generation: 2, pod: GONE }),
  ];
  const { events, table } = await readoptOn('n1', pods, [`${U1}_db_0`, `${U2}_db_0`, `${U3}_db_0`]);
  assert.equal(table.get(U1), undefined);
  assert.ok(events.includes(`destroy process ${U1}_db_0`));
  assert.ok(table.get(U2) && table.get(U3));
  assert.ok(!events.includes(`destroy process ${U2}_db_0`) && !events.includes(`destroy process ${U3}_db_0`));
});
