import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { indexWidth, parseLabel, parseLeaseTiming, parseTaint, simNodeName, validatePrefix } from './sim-config.ts';
import { PodIpPool, simNodeIP, simPodCIDR } from './pod-ip-pool.ts';
import { SpreadTicker } from './spread-ticker.ts';
import { Limiter } from './limiter.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { isRunningAndReady, isTerminal, runningPodStatus } from './running-pod-status.ts';
import { simPodView } from './sim-pod-view.ts';
import { heartbeatPatch, hollowLease, hollowNode, renewedLease } from './hollow-node.ts';
import { DEFAULT_SIM_CONFIG } from './sim-config.ts';
import type { KubeObject } from '../apis/object.ts';

describe('sim config', () => {
  it('names nodes with a zero-padded index', () => {
    assert.equal(simNodeName('sim', 7, 20), 'sim-0007');
    assert.equal(simNodeName('x', 4999, 5000), 'x-4999');
    assert.equal(simNodeName('x', 12345, 20000), 'x-12345');
    assert.equal(indexWidth(1), 4);
    assert.throws(() => validatePrefix('Bad_Prefix'));
  });
  it('parses taints and labels', () => {
    assert.deepEqual(parseTaint('dedicated=load:NoSchedule'), { key: 'dedicated', value: 'load', effect: 'NoSchedule' });
    assert.deepEqual(parseTaint('gpu:NoExecute'), { key: 'gpu', effect: 'NoExecute' });
    assert.throws(() => parseTaint('a=b:Sometimes'), /effect/);
    assert.throws(() => parseTaint('nocolon'));
    assert.deepEqual(parseLabel('zone=a=b'), ['zone', 'a=b']);
    assert.throws(() => parseLabel('=x'));
  });
  it('parses the lease timing: duration 5 periods (≥ 10 s) unless given, longer than the period', () => {
    assert.deepEqual(parseLeaseTiming('2', undefined, '300'), { leaseIntervalMs: 2000, leaseDurationSeconds: 10, statusIntervalMs: 300_000 });
    assert.deepEqual(parseLeaseTiming('10', undefined, '60'), { leaseIntervalMs: 10_000, leaseDurationSeconds: 50, statusIntervalMs: 60_000 });
    assert.deepEqual(parseLeaseTiming('0.5', '40', '1'), { leaseIntervalMs: 500, leaseDurationSeconds: 40, statusIntervalMs: 1000 });
    assert.throws(() => parseLeaseTiming('10', '10', '60'), /must exceed/);
    assert.throws(() => parseLeaseTiming('0', undefined, '60'), /--lease-interval/);
    assert.throws(() => parseLeaseTiming('2', undefined, 'x'), /--status-interval/);
  });
});

describe('pod addresses', () => {
  it('gives each node its own /25 and each pod its own address', () => {
    assert.equal(simPodCIDR(0), '10.240.0.0/25');
    assert.equal(simPodCIDR(3), '10.240.1.128/25');
    assert.equal(simPodCIDR(4999), '10.249.195.128/25');
    assert.equal(simNodeIP(0), '10.224.0.1');
    const pool = new PodIpPool();
    assert.equal(pool.allocate(3, 'a'), '10.240.1.129');
    assert.equal(pool.allocate(3, 'b'), '10.240.1.130');
    assert.equal(pool.allocate(3, 'a'), '10.240.1.129', 'stable per pod');
    pool.release('a');
    assert.equal(pool.allocate(3, 'c'), '10.240.1.129', 'freed address reused');
    assert.equal(pool.allocate(3, 'd', '10.240.1.200'), '10.240.1.200', 'an existing address is kept');
    for (let i = 0; i < 123; i++) assert.ok(pool.allocate(3, `p${i}`));
    assert.equal(pool.allocate(3, 'full'), undefined, '126 addresses per node');
  });
});

describe('spread ticker', () => {
  it('visits each index once per period, spread over it', () => {
    let t = 0;
    const seen: number[][] = [];
    let cur: number[] = [];
    const ticker = new SpreadTicker({ periodMs: 1000, count: () => 10, visit: (i) => cur.push(i), now: () => t });
    ticker.start();
    ticker.stop(); // drive ticks by hand
    for (t = 100; t <= 2000; t += 100) { cur = []; ticker.tick(); seen.push(cur); }
    assert.ok(seen.every((s) => s.length === 1), 'one per 100 ms, not a burst');
    assert.deepEqual(seen.flat(), [...Array(10).keys(), ...Array(10).keys()]);
    cur = [];
    t = 60_000;
    ticker.tick();
    assert.equal(cur.length, 10, 'a stalled loop catches up at most one period');
  });
});

describe('limiter', () => {
  it('keeps at most max tasks in flight', async () => {
    const lim = new Limiter(3);
    let active = 0;
    let peak = 0;
    await Promise.all(Array.from({ length: 20 }, () => lim.run(async () => {
      active++; peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 2));
      active--;
    })));
    assert.equal(peak, 3);
    await lim.idle();
  });
  it('a lane that yields starts nothing while the other lane has tasks waiting', async () => {
    const nodes = new Limiter(1);
    const pods = new Limiter(4, nodes);
    const order: string[] = [];
    const gates: Array<() => void> = [];
    const held = () => new Promise<void>((r) => gates.push(r));
    // One node write in flight and one waiting: the node lane has a queue.
    const n1 = nodes.run(async () => { order.push('n1'); await held(); });
    const n2 = nodes.run(async () => { order.push('n2'); });
    assert.equal(nodes.queued, 1);
    const p1 = pods.run(async () => { order.push('p1'); });
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(order, ['n1'], 'the pod write waits although its lane is free');
    assert.equal(pods.queued, 1);
    gates[0]!();
    await Promise.all([n1, n2, p1]);
    assert.deepEqual(order, ['n1', 'n2', 'p1'], 'it goes once the node lane has nothing waiting');
    // With nothing waiting in the node lane, pod writes go at once beside node writes in flight.
    const n3 = nodes.run(async () => { order.push('n3'); await held(); });
    await pods.run(async () => { order.push('p2'); });
    assert.deepEqual(order.slice(3), ['n3', 'p2']);
    gates[1]!();
    await n3;
    await Promise.all([nodes.idle(), pods.idle()]);
  });
  it('a lane that yields keeps its floor of tasks in flight', async () => {
    const nodes = new Limiter(1);
    const pods = new Limiter(4, nodes, 2);
    let release!: () => void;
    const n1 = nodes.run(() => new Promise<void>((r) => { release = r; }));
    const n2 = nodes.run(async () => {});
    let inFlight = 0, peak = 0;
    const gate: Array<() => void> = [];
    const ps = Array.from({ length: 4 }, () => pods.run(async () => { inFlight++; peak = Math.max(peak, inFlight); await new Promise<void>((r) => gate.push(r)); inFlight--; }));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(peak, 2, 'two pod writes go while a node write waits, not four');
    release();
    await n2;
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(inFlight, 4, 'all four once the node lane has nothing waiting');
    for (const g of gate) g();
    await Promise.all([n1, ...ps]);
  });
  it('a lane yields only while the other lane says its queue presses', async () => {
    const nodes = new Limiter(1);
    let pressing = false;
    const pods = new Limiter(4, nodes, 1, () => pressing);
    let release!: () => void;
    const n1 = nodes.run(() => new Promise<void>((r) => { release = r; }));
    const n2 = nodes.run(async () => {});
    let ran = 0;
    await Promise.all([1, 2, 3].map(() => pods.run(async () => { ran++; })));
    assert.equal(ran, 3, 'a queue that does not press holds nothing back');
    pressing = true;
    let inFlight = 0, peak = 0;
    const gate: Array<() => void> = [];
    const ps = Array.from({ length: 3 }, () => pods.run(async () => { inFlight++; peak = Math.max(peak, inFlight); await new Promise<void>((r) => gate.push(r)); inFlight--; }));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(peak, 1, 'down to the floor while it presses');
    release();
    await n2;
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(inFlight, 3);
    for (const g of gate) g();
    await Promise.all([n1, ...ps]);
  });
});

describe('latency histogram', () => {
  it('gives percentiles within 5 % and the exact maximum', () => {
    const h = new LatencyHistogram();
    assert.ok(Number.isNaN(h.percentile(99)));
    for (let i = 1; i <= 1000; i++) h.record(i);
    h.record(-5); // a clock step: counts as 0
    assert.equal(h.count, 1001);
    assert.equal(h.max, 1000);
    for (const [p, want] of [[50, 500], [99, 990], [100, 1000]] as const) {
      const got = h.percentile(p);
      assert.ok(got >= want * 0.99 && got <= want * 1.06, `p${p}: ${got} for ${want}`);
    }
    h.reset();
    assert.equal(h.count, 0);
    assert.equal(h.max, 0);
  });
});

describe('hollow objects', () => {
  it('builds a Ready node and a heartbeat that keeps the transition time', () => {
    const node = hollowNode('sim-0001', 1, { ...DEFAULT_SIM_CONFIG, labels: {}, taints: [] }, '2025-01-01T00:00:00Z');
    assert.equal(node.metadata.labels?.['berth.dev/simulated'], 'true');
    assert.equal(node.spec.taints, undefined);
    const hb = heartbeatPatch('sim-0001', 1, '2025-01-01T00:00:00Z', '2025-01-01T00:05:00Z') as { status: { conditions: Array<Record<string, string>> } };
    const ready = hb.status.conditions.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'True');
    assert.equal(ready.lastHeartbeatTime, '2025-01-01T00:05:00Z');
    assert.equal(ready.lastTransitionTime, '2025-01-01T00:00:00Z');
  });
  it('renews a Lease as the kubelet does: the last object returned, renewTime now, same resourceVersion', () => {
    const lease: KubeObject = hollowLease('sim-0001', 'uid-n', 40, new Date('2025-01-01T00:00:00Z'));
    lease.metadata = { ...lease.metadata, resourceVersion: '42', uid: 'uid-l' };
    const renewed = renewedLease(lease, 'sim-0001', 40, new Date('2025-01-01T00:00:10Z'));
    assert.equal(renewed.metadata.resourceVersion, '42');
    assert.equal(renewed.metadata.uid, 'uid-l');
    assert.equal(renewed.spec.renewTime, '2025-01-01T00:00:10.000000Z');
    assert.equal(lease.spec.renewTime, '2025-01-01T00:00:00.000000Z', 'the kept object is not changed');
    assert.deepEqual(renewed.metadata.ownerReferences, lease.metadata.ownerReferences);
  });
  it('reports a pod running and ready', () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', uid: 'u-1' }, spec: { containers: [{ name: 'a', image: 'x' }] }, status: { phase: 'Pending' } };
    assert.equal(isRunningAndReady(pod), false);
    const status = runningPodStatus(pod, '10.224.0.1', '10.240.0.1', '2025-01-01T00:00:00Z');
    assert.equal(isRunningAndReady({ ...pod, status }), true);
    assert.equal(isRunningAndReady({ ...pod, spec: { containers: [{ name: 'a' }, { name: 'b' }] }, status }), false);
  });
  it('keeps in its pod view what the syncer reads: the same status written and the same decisions as from the whole pod', () => {
    const full: KubeObject = {
      apiVersion: 'v1', kind: 'Pod',
      metadata: { name: 'p', namespace: 'ns', uid: 'u-1', resourceVersion: '7', labels: { a: 'b' }, managedFields: [{ manager: 'm', fieldsV1: {} }] },
      spec: {
        nodeName: 'sim-0001', hostNetwork: true, tolerations: [{ operator: 'Exists' }],
        initContainers: [{ name: 'i', image: 'x', command: ['true'] }, { name: 's', image: 'y', restartPolicy: 'Always' }],
        containers: [{ name: 'a', image: 'x', resources: { requests: { cpu: '10m' } } }, { name: 'b', image: 'z' }],
      },
      status: {
        phase: 'Running', podIP: '10.240.0.9', startTime: '2025-01-01T00:00:00Z', qosClass: 'Burstable',
        conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-12-31T23:59:59Z' }, { type: 'Ready', status: 'False', reason: 'x' }],
        containerStatuses: [{ name: 'a', ready: true, image: 'x', state: { running: {} } }, { name: 'b', ready: false }],
      },
    };
    const before = JSON.stringify(full);
    const view = simPodView(full);
    assert.equal(JSON.stringify(full), before, 'the pod is left as it was');
    assert.deepEqual(view.metadata, { name: 'p', namespace: 'ns', uid: 'u-1', resourceVersion: '7' });
    assert.equal(view.spec.nodeName, 'sim-0001');
    assert.equal(view.spec.hostNetwork, true);
    assert.equal(view.status.podIP, '10.240.0.9');
    const now = '2025-01-02T00:00:00Z';
    const variants: KubeObject[] = [
      full,
      { ...full, status: { ...full.status, conditions: [{ type: 'Ready', status: 'True' }] } },
      { ...full, status: runningPodStatus(full, '10.224.0.1', '10.240.0.9', now) },
      { ...full, status: { phase: 'Succeeded' } },
      { ...full, metadata: { ...full.metadata, deletionTimestamp: now } },
      { ...full, status: undefined },
    ];
    for (const pod of variants) {
      const v = simPodView(pod);
      assert.equal(isRunningAndReady(v), isRunningAndReady(pod));
      assert.equal(isTerminal(v), isTerminal(pod));
      assert.equal(v.metadata.deletionTimestamp, pod.metadata.deletionTimestamp);
      assert.deepEqual(runningPodStatus(v, '10.224.0.1', '10.240.0.9', now), runningPodStatus(pod, '10.224.0.1', '10.240.0.9', now));
    }
  });
});
