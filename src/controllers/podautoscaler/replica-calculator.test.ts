import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calcResourceReplicas, ReplicaCalcError, type CalcPod, type PodMetric } from './replica-calculator.ts';

const NOW = Date.parse('2026-12-06T12:00:00Z');
const LONG_AGO = NOW - 3600_000;
const ready = (name: string, request?: number, extra: Partial<CalcPod> = {}): CalcPod => ({
  name, phase: 'Running', deleting: false, startTime: LONG_AGO, ready: { status: true, lastTransitionTime: LONG_AGO + 10_000 }, request, ...extra,
});
const metrics = (values: Record<string, number>) => new Map<string, PodMetric>(Object.entries(values).map(([n, value]) => [n, { value, timestamp: NOW - 5000, windowMs: 10_000 }]));

test('the documented rule: desired = ceil(current × current value / target value)', () => {
  // Kubernetes docs: 200m used against a 100m target doubles; 50m halves.
  const pods = [ready('a', 1000), ready('b', 1000)];
  assert.equal(calcResourceReplicas({ currentReplicas: 2, pods, metrics: metrics({ a: 200, b: 200 }), resource: 'cpu', targetUtilization: 10, now: NOW }).replicas, 4);
  assert.equal(calcResourceReplicas({ currentReplicas: 2, pods, metrics: metrics({ a: 50, b: 50 }), resource: 'cpu', targetUtilization: 10, now: NOW }).replicas, 1);
  const r = calcResourceReplicas({ currentReplicas: 3, pods: [ready('a', 1000), ready('b', 1000), ready('c', 1000)], metrics: metrics({ a: 900, b: 900, c: 900 }), resource: 'cpu', targetUtilization: 50, now: NOW });
  assert.deepEqual({ replicas: r.replicas, utilization: r.utilization }, { replicas: 6, utilization: 90 });
});

test('within the 0.1 tolerance nothing changes', () => {
  const pods = [ready('a', 1000), ready('b', 1000), ready('c', 1000)];
  assert.equal(calcResourceReplicas({ currentReplicas: 3, pods, metrics: metrics({ a: 540, b: 540, c: 540 }), resource: 'cpu', targetUtilization: 50, now: NOW }).replicas, 3);
  assert.equal(calcResourceReplicas({ currentReplicas: 3, pods, metrics: metrics({ a: 560, b: 560, c: 560 }), resource: 'cpu', targetUtilization: 50, now: NOW }).replicas, 4);
});

test('missing metrics on scale down count as 100 % of the request (no scale to 1 on partial data)', () => {
  const pods = [ready('a', 1000), ready('b', 1000), ready('c', 1000)];
  // Ready pods at 10 %: alone they would ask for 1; with c assumed at 100 %: 40 % → 0.8 × 3 → 3.
  assert.equal(calcResourceReplicas({ currentReplicas: 3, pods, metrics: metrics({ a: 100, b: 100 }), resource: 'cpu', targetUtilization: 50, now: NOW }).replicas, 3);
});

test('missing metrics on scale up count as 0', () => {
  const pods = [ready('a', 1000), ready('b', 1000), ready('c', 1000), ready('d', 1000)];
  // 100 % on three pods, d missing → 0: 300/4000 = 75 % → 1.5 × 4 = 6.
  assert.equal(calcResourceReplicas({ currentReplicas: 4, pods, metrics: metrics({ a: 1000, b: 1000, c: 1000 }), resource: 'cpu', targetUtilization: 50, now: NOW }).replicas, 6);
});

test('unready pods (cpu) count as 0 when scaling up, and are left out otherwise', () => {
  const starting = ready('c', 1000, { startTime: NOW - 20_000, ready: { status: false, lastTransitionTime: NOW - 20_000 } });
  const pods = [ready('a', 1000), ready('b', 1000), starting];
  // a, b at 100 % (ratio 2): with c at 0, 2000/3000 = 66 % → 1.32 × 3 → 4.
  assert.equal(calcResourceReplicas({ currentReplicas: 3, pods, metrics: metrics({ a: 1000, b: 1000, c: 1000 }), resource: 'cpu', targetUtilization: 50, now: NOW }).replicas, 4);
  // Scaling down, the unready pod is simply ignored: a, b at 10 % → 0.2 × 2 → 1.
  assert.equal(calcResourceReplicas({ currentReplicas: 3, pods, metrics: metrics({ a: 100, b: 100, c: 900 }), resource: 'cpu', targetUtilization: 50, now: NOW }).replicas, 1);
  // Pending pods are unready; deleted and failed pods are ignored.
  const others = [ready('a', 1000), ready('p', 1000, { phase: 'Pending' }), ready('d', 1000, { deleting: true }), ready('f', 1000, { phase: 'Failed' })];
  assert.equal(calcResourceReplicas({ currentReplicas: 4, pods: others, metrics: metrics({ a: 500, d: 5000, f: 5000 }), resource: 'cpu', targetUtilization: 50, now: NOW }).replicas, 4);
});

test('a pod in its CPU initialization period with a metric older than its readiness is unready', () => {
  const fresh = ready('b', 1000, { startTime: NOW - 60_000, ready: { status: true, lastTransitionTime: NOW - 8000 } });
  const pods = [ready('a', 1000), fresh];
  // b's metric (taken 5 s ago over 10 s) covers time before it was ready: left out when scaling down.
  assert.equal(calcResourceReplicas({ currentReplicas: 2, pods, metrics: metrics({ a: 100, b: 1000 }), resource: 'cpu', targetUtilization: 50, now: NOW }).replicas, 1);
});

test('memory AverageValue: average usage over the target, readiness not considered', () => {
  const mi = 1024 * 1024;
  const pods = [ready('a'), ready('b', undefined, { ready: { status: false, lastTransitionTime: NOW } })];
  assert.equal(calcResourceReplicas({ currentReplicas: 2, pods, metrics: metrics({ a: 150 * mi, b: 150 * mi }), resource: 'memory', targetAverage: 100 * mi, now: NOW }).replicas, 3);
});

test('errors: a container without a request, no metrics at all, no pods', () => {
  assert.throws(() => calcResourceReplicas({ currentReplicas: 1, pods: [ready('a')], metrics: metrics({ a: 1 }), resource: 'cpu', targetUtilization: 50, now: NOW }), /missing request for cpu/);
  assert.throws(() => calcResourceReplicas({ currentReplicas: 1, pods: [ready('a', 100)], metrics: metrics({}), resource: 'cpu', targetUtilization: 50, now: NOW }), ReplicaCalcError);
  assert.throws(() => calcResourceReplicas({ currentReplicas: 1, pods: [], metrics: metrics({}), resource: 'cpu', targetUtilization: 50, now: NOW }), /no pods/);
});
