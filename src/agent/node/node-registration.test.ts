import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../../server/berth-server.ts';
import { createLogger } from '../../util/log.ts';
import { LocalClient } from '../../client/local-client.ts';
import { R } from '../../client/client.ts';
import { AGENT_INSTANCE_ANNOTATION, agentInstanceId, DuplicateNodeError, NODE_LEASE_NAMESPACE, registerNode } from './node-registration.ts';
import { ensureRuntimeClasses } from './runtime-classes.ts';
import { waitFor } from '../../util/wait.fixture.ts';

const log = createLogger({ level: 'warn' });

describe('node registration', () => {
  let dataDir: string;
  let server: RunningServer;
  const start = () => startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log });

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'berth-node-reg-'));
    server = await start();
  });
  after(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('registers the Node, renews the Lease, and keeps one Node across restarts', async () => {
    const client = new LocalClient(server.registry);
    let ready = true;
    const reg = await registerNode(client, {
      nodeName: 'node-1', podCIDR: '10.244.1.0/24', agentPort: 10250, ready: () => ready, dataDir,
      labels: { 'berth.dev/role': 'test' }, taints: [{ key: 'berth.dev/new', effect: 'PreferNoSchedule' }],
      reserved: { memoryBytes: 1024 * 1024 }, statusIntervalMs: 30, statusReportIntervalMs: 60_000, leaseRenewIntervalMs: 50, log,
    });
    try {
      const node = await client.get(R.nodes, undefined, 'node-1');
      assert.equal(node.spec.podCIDR, '10.244.1.0/24');
      assert.deepEqual(node.spec.taints, [{ key: 'berth.dev/new', effect: 'PreferNoSchedule' }]);
      assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'node-1');
      assert.equal(node.metadata.labels?.['kubernetes.io/os'], 'linux');
      assert.equal(node.metadata.labels?.['berth.dev/role'], 'test');
      const cap = node.status.capacity;
      assert.match(cap.cpu, /^\d+$/);
      assert.match(cap.memory, /^\d+Ki$/);
      assert.equal(cap.pods, '110');
      assert.match(cap['ephemeral-storage'], /^\d+Ki$/);
      assert.equal(parseInt(node.status.allocatable.memory), parseInt(cap.memory) - 1024);
      const readyCond = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
      assert.equal(readyCond.status, 'True');
      assert.equal(readyCond.reason, 'KubeletReady');
      assert.deepEqual(node.status.conditions.map((c: { type: string }) => c.type), ['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);
      assert.equal(node.status.daemonEndpoints.kubeletEndpoint.Port, 10250);
      assert.equal(node.status.nodeInfo.kubeletVersion, 'v1.32.0-berth');
      assert.ok(node.status.addresses.some((a: { type: string }) => a.type === 'InternalIP'));

      // Lease: held by the node, owned by the Node, renewed.
      const lease1 = await client.get(R.leases, NODE_LEASE_NAMESPACE, 'node-1');
      assert.equal(lease1.spec.holderIdentity, 'node-1');
      assert.equal(lease1.spec.leaseDurationSeconds, 10);
      assert.equal(lease1.metadata.ownerReferences?.[0]?.uid, node.metadata.uid);
      assert.equal(lease1.metadata.ownerReferences?.[0]?.kind, 'Node');
      await waitFor(async () => {
        const l = await client.get(R.leases, NODE_LEASE_NAMESPACE, 'node-1');
        return l.spec.renewTime > lease1.spec.renewTime ? l : undefined;
      }, 'the lease renewTime to advance');

      // A change is written without waiting for the report interval; no change writes nothing.
      const rv = (await client.get(R.nodes, undefined, 'node-1')).metadata.resourceVersion;
      await new Promise((r) => setTimeout(r, 120));
      assert.equal((await client.get(R.nodes, undefined, 'node-1')).metadata.resourceVersion, rv, 'unchanged status is not rewritten');
      ready = false;
      await waitFor(async () => {
        const n = await client.get(R.nodes, undefined, 'node-1');
        return n.status.conditions.find((c: { type: string }) => c.type === 'Ready').status === 'False' ? n : undefined;
      }, 'Ready=False');
    } finally {
      await reg.stop();
    }

    await ensureRuntimeClasses(client);
    await ensureRuntimeClasses(client);
    const rcs = await client.list(R.runtimeclasses, undefined);
    assert.deepEqual(rcs.items.map((o) => `${o.metadata.name}:${o.handler}`).sort(), ['process:process', 'runc:runc']);

    // Restart the server on the same data dir and register again.
    const uid = (await client.get(R.nodes, undefined, 'node-1')).metadata.uid;
    await server.stop();
    server = await start();
    const client2 = new LocalClient(server.registry);
    const reg2 = await registerNode(client2, {
      nodeName: 'node-1', podCIDR: '10.244.1.0/24', agentPort: 10251, ready: () => true, dataDir,
      labels: { extra: 'yes' }, statusIntervalMs: 1000, leaseRenewIntervalMs: 1000, log,
    });
    try {
      const nodes = await client2.list(R.nodes, undefined);
      assert.equal(nodes.items.length, 1);
      const n = nodes.items[0];
      assert.equal(n.metadata.uid, uid, 'the same Node object');
      assert.equal(n.metadata.labels?.extra, 'yes');
      assert.equal(n.metadata.labels?.['berth.dev/role'], 'test', 'labels set by others are kept');
      assert.equal(n.status.daemonEndpoints.kubeletEndpoint.Port, 10251);
      assert.equal(n.status.conditions.find((c: { type: string }) => c.type === 'Ready').status, 'True');
      const leases = await client2.list(R.leases, NODE_LEASE_NAMESPACE);
      assert.equal(leases.items.length, 1);
    } finally {
      await reg2.stop();
    }
  });

  it('a second agent under a live node\'s name is refused before it writes anything; a restart of the same agent, or a name whose holder went quiet, is not', async () => {
    const client = new LocalClient(server.registry);
    const base = { nodeName: 'dup', agentPort: 10250, ready: () => true, statusIntervalMs: 60_000, leaseRenewIntervalMs: 100, log };
    const first = await registerNode(client, { ...base, podCIDR: '10.244.7.0/24', labels: { owner: 'first' }, instance: 'first-agent', leaseDurationSeconds: 2 });
    try {
      const nodeBefore = await client.get(R.nodes, undefined, 'dup');
      await assert.rejects(registerNode(client, { ...base, podCIDR: '10.244.8.0/24', labels: { owner: 'second' }, instance: 'second-agent' }), (err: Error) => {
        assert.ok(err instanceof DuplicateNodeError);
        assert.match(err.message, /node name "dup" is held by a live node: its Lease was renewed \d+\.\d s ago by another agent \(instance first-agent; this one is second-agent\)\. Nothing was changed\. Give this machine another --node-name, or stop the other node first \(its name is free 2 s after its last renewal\)\./);
        return true;
      });
      const nodeAfter = await client.get(R.nodes, undefined, 'dup');
      assert.equal(nodeAfter.metadata.labels?.owner, 'first');
      assert.equal(nodeAfter.spec.podCIDR, '10.244.7.0/24');
      assert.equal(nodeAfter.metadata.uid, nodeBefore.metadata.uid);
      assert.equal((await client.get(R.leases, NODE_LEASE_NAMESPACE, 'dup')).metadata.annotations?.[AGENT_INSTANCE_ANNOTATION], 'first-agent');
      // The same agent restarting (its instance from its data dir) is let in at once.
      const again = await registerNode(client, { ...base, instance: 'first-agent', leaseDurationSeconds: 2 });
      await again.stop();
    } finally {
      await first.stop();
    }
    // The first agent is gone: after its Lease's 2 s the name may be taken.
    await new Promise((r) => setTimeout(r, 2200));
    const second = await registerNode(client, { ...base, labels: { owner: 'second' }, instance: 'second-agent' });
    try {
      assert.equal((await client.get(R.leases, NODE_LEASE_NAMESPACE, 'dup')).metadata.annotations?.[AGENT_INSTANCE_ANNOTATION], 'second-agent');
    } finally {
      await second.stop();
    }
  });

  it('the instance id is kept in the data dir', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-instance-'));
    try {
      const id = agentInstanceId(dir);
      assert.match(id, /^[0-9a-f]{16}$/);
      assert.equal(agentInstanceId(dir), id);
      assert.notEqual(agentInstanceId(), agentInstanceId(), 'without a data dir, one per call');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('conditions set Unknown by the node lifecycle controller (a partition) are put right at the next status sync, not the 60 s report', async () => {
    const client = new LocalClient(server.registry);
    const reg = await registerNode(client, { nodeName: 'back', agentPort: 10250, ready: () => true, statusIntervalMs: 100, statusReportIntervalMs: 60_000, leaseRenewIntervalMs: 1000, instance: 'back-agent', log });
    try {
      const node = await client.get(R.nodes, undefined, 'back');
      const unknown = node.status.conditions.map((c: Record<string, unknown>) => ({ ...c, status: 'Unknown', reason: 'NodeStatusUnknown' }));
      await client.update(R.nodes, undefined, { ...node, status: { ...node.status, conditions: unknown } }, 'status');
      const ready = await waitFor(async () => {
        const n = await client.get(R.nodes, undefined, 'back');
        const c = n.status.conditions.find((x: { type: string }) => x.type === 'Ready');
        return c.status === 'True' ? c : undefined;
      }, 'Ready=True again', 3000);
      assert.equal(ready.reason, 'KubeletReady');
    } finally {
      await reg.stop();
    }
  });

  it('self-fencing hooks: every successful renewal reports when it was sent; after failures onResume runs first, and a failing onResume keeps the heartbeat back', async () => {
    const local = new LocalClient(server.registry);
    let failLeases = false;
    // The API as a partition sees it: Lease writes fail while failLeases is set.
    const client = new Proxy(local, {
      get(target, prop, recv) {
        const v = Reflect.get(target, prop, recv);
        if (prop !== 'update' || typeof v !== 'function') return typeof v === 'function' ? v.bind(target) : v;
        return (ref: { resource: string }, ...rest: unknown[]) => {
          if (failLeases && ref.resource === 'leases') return Promise.reject(new Error('connect ETIMEDOUT'));
          return (v as (...a: unknown[]) => unknown).call(target, ref, ...rest);
        };
      },
    });
    const events: string[] = [];
    let resumeFails = 1;
    const beats: number[] = [];
    const reg = await registerNode(client, {
      nodeName: 'fencing', agentPort: 10250, ready: () => true, statusIntervalMs: 60_000, leaseRenewIntervalMs: 40, instance: 'fencing-agent', log: createLogger({ level: 'error' }),
      onRenewed: (at) => { beats.push(at); events.push('renewed'); },
      onResume: async () => {
        events.push('resume');
        if (resumeFails-- > 0) throw new Error('pods not readable yet');
      },
    });
    try {
      await waitFor(async () => (beats.length >= 3 ? true : undefined), 'three renewals');
      const now = Number(process.hrtime.bigint() / 1_000_000n);
      assert.ok(beats.every((b, i) => b <= now && (i === 0 || b >= beats[i - 1])), 'monotonic send times, not in the future');
      failLeases = true;
      const before = events.length;
      await new Promise((r) => setTimeout(r, 200));
      const during = events.slice(before).filter((e) => e === 'renewed').length;
      assert.ok(during <= 1, `no heartbeat while renewals fail (${during})`);
      events.length = 0;
      failLeases = false;
      await waitFor(async () => (events.filter((e) => e === 'renewed').length >= 2 ? true : undefined), 'renewals again');
      // The first resume threw: no heartbeat then; the next renewal resumed, then beat.
      assert.deepEqual(events.slice(0, 3), ['resume', 'resume', 'renewed']);
      assert.equal(events.filter((e) => e === 'resume').length, 2, 'onResume only after failures');
    } finally {
      await reg.stop();
    }
  });
});
