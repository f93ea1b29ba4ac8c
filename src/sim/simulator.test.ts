import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../server/berth-server.ts';
import { HttpClient } from '../client/http-client.ts';
import { R } from '../client/client.ts';
import { isNotFound } from '../client/errors.ts';
import type { KubeObject } from '../apis/object.ts';
import { createLogger } from '../util/log.ts';
import { startSimulator, type Simulator } from './simulator.ts';
import { waitFor as poll } from '../util/wait.fixture.ts';

const waitFor = <T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> => poll(fn, what, timeoutMs, 25);

const log = createLogger({ level: 'warn' });
const LEASE_NS = 'kube-node-lease';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cond = (o: KubeObject, type: string) => (o.status?.conditions ?? []).find((c: { type: string }) => c.type === type);

describe('berth sim (hollow nodes) against a real server', () => {
  let dataDir: string;
  let server: RunningServer;
  let client: HttpClient;
  let sim: Simulator;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'berth-sim-'));
    server = await startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log });
    client = HttpClient.fromKubeconfig(server.kubeconfigPath);
    sim = startSimulator({
      client, log,
      config: { nodes: 20, leaseIntervalMs: 200, statusIntervalMs: 400, labels: { team: 'load' }, taints: [{ key: 'sim', value: 'yes', effect: 'NoSchedule' }] },
    });
    await sim.registered;
  });
  after(async () => {
    await sim?.stop();
    client?.close();
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('registers 20 Ready nodes with realistic capacity, labels, taints and leases', async () => {
    assert.equal(sim.stats.registered, 20);
    assert.equal(sim.stats.registrationFailures, 0);
    const nodes = (await client.list(R.nodes, undefined, { labelSelector: 'berth.dev/simulated=true' })).items;
    assert.deepEqual(nodes.map((n) => n.metadata.name).sort(), Array.from({ length: 20 }, (_, i) => `sim-${String(i).padStart(4, '0')}`));
    const podCIDRs = new Set<string>();
    for (const n of nodes) {
      assert.equal(cond(n, 'Ready')?.status, 'True');
      assert.equal(cond(n, 'MemoryPressure')?.status, 'False');
      assert.deepEqual(n.status.capacity, { cpu: '4', memory: '16Gi', pods: '110', 'ephemeral-storage': '100Gi' });
      assert.deepEqual(n.status.allocatable, n.status.capacity);
      assert.equal(n.metadata.labels?.['kubernetes.io/hostname'], n.metadata.name);
      assert.equal(n.metadata.labels?.['kubernetes.io/os'], 'linux');
      assert.ok(n.metadata.labels?.['kubernetes.io/arch']);
      assert.equal(n.metadata.labels?.team, 'load');
      assert.deepEqual(n.spec.taints, [{ key: 'sim', value: 'yes', effect: 'NoSchedule' }]);
      assert.match(n.status.nodeInfo.kubeletVersion, /^v1\./);
      podCIDRs.add(n.spec.podCIDR);
    }
    assert.equal(podCIDRs.size, 20, 'each node has its own pod range');
    const leases = (await client.list(R.leases, LEASE_NS)).items.filter((l) => l.metadata.name!.startsWith('sim-'));
    assert.equal(leases.length, 20);
    const l0 = leases.find((l) => l.metadata.name === 'sim-0000')!;
    assert.equal(l0.spec.holderIdentity, 'sim-0000');
    assert.equal(l0.metadata.ownerReferences?.[0]?.uid, nodes.find((n) => n.metadata.name === 'sim-0000')!.metadata.uid);
    // Renewals and heartbeats are happening.
    const before = l0.spec.renewTime;
    await waitFor(async () => ((await client.get(R.leases, LEASE_NS, 'sim-0000')).spec.renewTime !== before ? true : undefined), 'a lease renewal');
    // Each renewal is an update at the Lease's resourceVersion; none came late here.
    await waitFor(async () => (sim.stats.leaseRenewals >= 40 ? true : undefined), 'renewals');
    assert.ok(sim.stats.renewalLateness.count >= 40);
    assert.ok(sim.stats.renewalLateness.max < 2000, `lateness max ${sim.stats.renewalLateness.max} ms`);
    assert.ok(sim.stats.longestRenewalGapMs > 0 && sim.stats.longestRenewalGapMs < 2500, `gap ${sim.stats.longestRenewalGapMs} ms`);
    const l1 = await client.get(R.leases, LEASE_NS, 'sim-0000');
    assert.ok(Number(l1.metadata.resourceVersion) > Number(l0.metadata.resourceVersion));
    assert.equal(sim.stats.notReady, 0);
    // Someone else writes a Lease: the next update conflicts, the simulator reads it again and renews.
    await client.patch(R.leases, LEASE_NS, 'sim-0001', 'merge', { metadata: { labels: { touched: 'yes' } } });
    const touched = (await client.get(R.leases, LEASE_NS, 'sim-0001')).spec.renewTime;
    await waitFor(async () => {
      const l = await client.get(R.leases, LEASE_NS, 'sim-0001');
      return l.spec.renewTime !== touched && l.metadata.labels?.touched === 'yes' ? true : undefined;
    }, 'a renewal after a conflict');
    assert.equal(sim.stats.errors, 0);
    const hb0 = cond(nodes[0], 'Ready').lastHeartbeatTime;
    await waitFor(async () => (sim.stats.heartbeats >= 20 ? true : undefined), 'heartbeats');
    const n0 = await client.get(R.nodes, undefined, nodes[0].metadata.name!);
    assert.equal(cond(n0, 'Ready').lastTransitionTime, cond(nodes[0], 'Ready').lastTransitionTime, 'transition time kept');
    assert.ok(cond(n0, 'Ready').lastHeartbeatTime >= hb0);
  });

  it('a pod bound to a hollow node becomes Running and Ready; deleting it (grace 30) makes it disappear', async () => {
    const pod = await client.create(R.pods, 'default', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' },
      spec: {
        initContainers: [{ name: 'init', image: 'busybox' }],
        containers: [{ name: 'app', image: 'nginx:1.27' }, { name: 'side', image: 'busybox' }],
        tolerations: [{ key: 'sim', operator: 'Exists' }],
      },
    });
    await sleep(100);
    assert.equal((await client.get(R.pods, 'default', 'web')).status?.phase ?? 'Pending', 'Pending', 'unbound pods are not ours');
    await client.create(R.pods, 'default', {
      apiVersion: 'v1', kind: 'Binding', metadata: { name: 'web', namespace: 'default', uid: pod.metadata.uid },
      target: { apiVersion: 'v1', kind: 'Node', name: 'sim-0007' },
    }, 'binding');
    const running = await waitFor(async () => {
      const p = await client.get(R.pods, 'default', 'web');
      return p.status?.phase === 'Running' ? p : undefined;
    }, 'pod Running');
    for (const t of ['Initialized', 'ContainersReady', 'Ready', 'PodScheduled']) assert.equal(cond(running, t)?.status, 'True', t);
    assert.equal(running.status.hostIP, '10.224.0.8');
    assert.match(running.status.podIP, /^10\.240\.3\.(\d+)$/); // node 7's /25 is 10.240.3.128/25
    assert.ok(Number(running.status.podIP.split('.')[3]) > 128);
    assert.ok(running.status.startTime);
    assert.deepEqual(running.status.containerStatuses.map((c: { name: string; ready: boolean; state: object }) => [c.name, c.ready, Object.keys(c.state)[0]]),
      [['app', true, 'running'], ['side', true, 'running']]);
    assert.equal(running.status.initContainerStatuses[0].state.terminated.reason, 'Completed');
    const writes = sim.stats.pods.statusWrites;
    // The write's response may reach the simulator just after the pod reads Running here.
    await waitFor(async () => (sim.stats.pods.toRunning.count >= 1 && sim.stats.pods.waiting === 0 ? true : undefined), 'bound → Running measured, nothing waiting');
    await sleep(300);
    assert.equal(sim.stats.pods.statusWrites, writes, 'a Running pod is not written again');

    await client.delete(R.pods, 'default', 'web', { gracePeriodSeconds: 30 });
    await waitFor(async () => {
      try { await client.get(R.pods, 'default', 'web'); return undefined; } catch (err) { if (isNotFound(err)) return true; throw err; }
    }, 'pod deleted', 5000);
    // The simulator counts its delete when the answer arrives, which may be after this client reads NotFound.
    await waitFor(async () => sim.stats.pods.deletes >= 1 || undefined, 'the simulator counted its delete', 2000);
  });

  it('a node marked Unknown (as after a late renewal) posts its Ready status at once, not at its next heartbeat', async () => {
    // Heartbeats 10 minutes apart: only the node watch can bring the node back within the test.
    const slow = startSimulator({ client, log, config: { nodes: 2, prefix: 'hb', leaseIntervalMs: 200, statusIntervalMs: 600_000, deleteNodesOnExit: true } });
    try {
      await slow.registered;
      const name = slow.nodeNames[1];
      const node = await client.get(R.nodes, undefined, name);
      const unknown = node.status.conditions.map((c: { type: string }) => (c.type === 'Ready' ? { ...c, status: 'Unknown', reason: 'NodeStatusUnknown' } : c));
      await client.patch(R.nodes, undefined, name, 'merge', { status: { conditions: unknown } }, 'status');
      await waitFor(async () => (cond(await client.get(R.nodes, undefined, name), 'Ready')?.status === 'True' ? true : undefined), 'Ready again', 5000);
    } finally {
      await slow.stop();
    }
  });

  it('stopping ends the lease renewals and keeps the nodes', async () => {
    await sim.stop();
    const before = (await client.get(R.leases, LEASE_NS, 'sim-0003')).spec.renewTime;
    await sleep(700); // more than three renewal periods
    assert.equal((await client.get(R.leases, LEASE_NS, 'sim-0003')).spec.renewTime, before, 'renewTime stays');
    assert.equal((await client.list(R.nodes, undefined, { labelSelector: 'berth.dev/simulated=true' })).items.length, 20);
  });
});
