/**
 * The scheduler on its worker thread against a real server (SQLite): it binds as
 * system:kube-scheduler through the port, its metrics show in this thread's registry, a crash is
 * logged and the thread restarted, and stop ends the thread. Then `berth server --scheduler-thread
 * true` as users run it: it schedules, serves the thread's metrics, and stops on SIGTERM.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { R } from '../client/client.ts';
import { LocalClient } from '../client/local-client.ts';
import { SCHEDULER_USER } from '../server/control-loops.ts';
import { startServer, type RunningServer } from '../server/berth-server.ts';
import { createLogger } from '../util/log.ts';
import { makeNode, makePod } from './cluster.fixture.ts';
import { waitFor as poll } from '../util/wait.fixture.ts';
import { schedulerRegistry } from './scheduler-metrics.ts';
import { startSchedulerThread, type SchedulerThread } from './scheduler-thread.ts';
import { recordingScheduled, ScheduledEvents } from './scheduled-events.ts';
import { schedulerEvents } from './scheduler.ts';
import { startBerth } from '../../test/support/berth-server.ts';

const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> => poll(fn, what, ms, 50);

describe('scheduler thread', () => {
  let dataDir: string;
  let server: RunningServer;
  let client: LocalClient;
  let thread: SchedulerThread;
  const lines: { level: string; msg: string; error?: string }[] = [];

  const create = (p: KubeObject) => client.create(R.pods, 'default', { ...p, metadata: { name: p.metadata.name, labels: p.metadata.labels } });
  const boundNode = (name: string) => waitFor(`${name} bound`, async () => (await client.get(R.pods, 'default', name)).spec?.nodeName as string | undefined);

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'berth-scheduler-thread-'));
    server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'warn' }) });
    client = new LocalClient(server.registry);
    await client.create(R.nodes, undefined, makeNode('n1', { cpu: '4' }));
    const log = createLogger({ level: 'info', format: 'json', write: (l) => lines.push(JSON.parse(l)) });
    thread = await startSchedulerThread(client.as({ user: SCHEDULER_USER, authorizer: server.authorizer }), log,
      { scheduler: { eventIntervalMs: 100, initialBackoffMs: 50, maxBackoffMs: 200 }, restartDelayMs: 100 });
  });

  after(async () => {
    await thread?.stop();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('binds a pod with a Scheduled event written as the scheduler', async () => {
    await create(makePod('one', { requests: { cpu: '1' } }));
    assert.equal(await boundNode('one'), 'n1');
    const ev = await waitFor('Scheduled event', async () => (await client.list(R.events, 'default')).items.find((e) => e.involvedObject?.name === 'one' && e.reason === 'Scheduled'));
    assert.equal(ev.message, 'Successfully assigned default/one to n1');
    assert.equal(ev.source?.component, 'default-scheduler');
    assert.equal(ev.involvedObject.uid, (await client.get(R.pods, 'default', 'one')).metadata.uid);
    assert.ok(lines.some((l) => l.msg === 'scheduler thread started'), 'its log lines reach this thread\'s logger');
  });

  it('records Scheduled on this thread for successful bindings only (the client the thread is served from)', async () => {
    const log = createLogger({ level: 'error' });
    const recorder = schedulerEvents(client, log);
    const queue = new ScheduledEvents(recorder, log, { writers: 4 });
    const served = recordingScheduled(client, queue);
    // Nobody else binds it: another scheduler's pod.
    const p = makePod('manual', { spec: { schedulerName: 'other-scheduler' } });
    const uid = (await create(p)).metadata.uid;
    const binding = (name: string, u?: string) => ({ apiVersion: 'v1', kind: 'Binding', metadata: { name, namespace: 'default', ...(u ? { uid: u } : {}) }, target: { apiVersion: 'v1', kind: 'Node', name: 'n1' } });
    await served.create(R.pods, 'default', binding('manual', uid), 'binding');
    await assert.rejects(served.create(R.pods, 'default', binding('ghost'), 'binding'), /not found/);
    // Anything else goes through as it is, without an event: other creates, reads.
    await served.create(R.configmaps, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
    assert.ok((await served.list(R.pods, 'default')).items.some((x) => x.metadata.name === 'manual'));
    await queue.close();
    await recorder.close();
    const events = (await client.list(R.events, 'default')).items.filter((e) => e.reason === 'Scheduled');
    const manual = events.filter((e) => e.involvedObject?.name === 'manual');
    assert.equal(manual.length, 1);
    assert.equal(manual[0]!.message, 'Successfully assigned default/manual to n1');
    assert.equal(manual[0]!.involvedObject.uid, uid);
    assert.equal(events.filter((e) => ['ghost', 'cm'].includes(e.involvedObject?.name)).length, 0);
  });

  it('shows the thread\'s counters in this thread\'s /metrics registry', async () => {
    const text = await schedulerRegistry.metrics();
    assert.match(text, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} [1-9]/);
    // The thread's own heap (a few MB at least: its modules, informers and snapshot), read in the thread.
    const heap = Number(/^berth_scheduler_thread_heap_used_bytes (\S+)/m.exec(text)?.[1]);
    assert.ok(heap > 1e6, `scheduler thread heap ${heap}`);
  });

  it('reports the too-big pod as unschedulable through the port (status patch, FailedScheduling)', async () => {
    await create(makePod('huge', { requests: { cpu: '64' } }));
    const cond = await waitFor('PodScheduled=False', async () => (await client.get(R.pods, 'default', 'huge')).status?.conditions?.find((c: { type: string; status: string }) => c.type === 'PodScheduled' && c.status === 'False'));
    assert.match(cond.message, /0\/1 nodes are available: 1 Insufficient cpu/);
  });

  it('logs a crash, restarts the thread, and the new one schedules', async () => {
    await thread.crashForTest();
    await waitFor('restart', async () => thread.restarts === 1);
    const crash = lines.find((l) => l.msg === 'scheduler thread crashed; restarting');
    assert.ok(crash, 'the crash is logged');
    assert.equal(crash.level, 'error');
    assert.match(crash.error ?? '', /crash requested/);
    await thread.running();
    await create(makePod('two', { requests: { cpu: '1' } }));
    assert.equal(await boundNode('two'), 'n1');
    assert.match(await schedulerRegistry.metrics(), /berth_scheduler_thread_restarts_total 1/);
  });
});

describe('berth server --scheduler-thread true', () => {
  it('schedules over TLS as kube-scheduler, serves its metrics, and stops cleanly on SIGTERM', async () => {
    const server = await startBerth({ extraArgs: ['--scheduler-thread', 'true'] });
    try {
      assert.equal((await server.request('POST', '/api/v1/nodes', { body: makeNode('n1', { cpu: '4' }) })).status, 201);
      const p = makePod('web', { requests: { cpu: '1' } });
      assert.equal((await server.request('POST', '/api/v1/namespaces/default/pods', { body: { ...p, metadata: { name: 'web' } } })).status, 201);
      await waitFor('web bound', async () => (await server.request('GET', '/api/v1/namespaces/default/pods/web')).json?.spec?.nodeName === 'n1');
      const ev = await waitFor('Scheduled event', async () => (await server.request('GET', '/api/v1/namespaces/default/events')).json?.items?.find((e: KubeObject) => e.reason === 'Scheduled'));
      assert.equal(ev.message, 'Successfully assigned default/web to n1');
      const metrics = (await server.request('GET', '/metrics')).body.toString();
      assert.match(metrics, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} 1/);
      assert.match(server.logs(), /scheduler thread started/);
      await server.stop();
      assert.deepEqual(server.lastExit(), { code: 0, signal: null });
      assert.doesNotMatch(server.logs(), /did not stop in time|scheduler thread crashed/);
    } finally {
      await server.cleanup();
    }
  });
});
