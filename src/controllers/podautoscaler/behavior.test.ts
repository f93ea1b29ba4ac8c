import { test } from 'node:test';
import assert from 'node:assert/strict';
import { emptyHistory, normalizeReplicas, recordScale, type Behavior } from './behavior.ts';

const T0 = Date.parse('2026-12-06T12:00:00Z');

test('docs example: Pods 4 / Percent 10 per 60 s scale-down policies take 80 replicas to 72, then 64', () => {
  const behavior: Behavior = { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 4, periodSeconds: 60 }, { type: 'Percent', value: 10, periodSeconds: 60 }] } };
  const h = emptyHistory();
  const first = normalizeReplicas({ current: 80, desired: 10, minReplicas: 1, maxReplicas: 100, behavior, history: h, now: T0 });
  assert.equal(first.replicas, 72);
  assert.equal(first.limited.reason, 'ScaleDownLimit');
  recordScale(h, 80, 72, behavior, T0);
  // Within the same period no more may go.
  assert.equal(normalizeReplicas({ current: 72, desired: 10, minReplicas: 1, maxReplicas: 100, behavior, history: h, now: T0 + 30_000 }).replicas, 72);
  // In the next period 10 % of 72 (7.2) allows 8 more: 64.
  assert.equal(normalizeReplicas({ current: 72, desired: 10, minReplicas: 1, maxReplicas: 100, behavior, history: h, now: T0 + 61_000 }).replicas, 64);
});

test('default scale-up: at most max(+4 pods, +100 %) per 15 s; selectPolicy Min takes the smaller', () => {
  const h = emptyHistory();
  const up = normalizeReplicas({ current: 1, desired: 10, minReplicas: 1, maxReplicas: 20, behavior: {}, history: h, now: T0 });
  assert.deepEqual([up.replicas, up.limited.reason], [5, 'ScaleUpLimit']);
  const min = normalizeReplicas({ current: 10, desired: 40, minReplicas: 1, maxReplicas: 50, behavior: { scaleUp: { selectPolicy: 'Min', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] } }, history: emptyHistory(), now: T0 });
  assert.equal(min.replicas, 14);
  const capped = normalizeReplicas({ current: 4, desired: 10, minReplicas: 1, maxReplicas: 6, behavior: {}, history: emptyHistory(), now: T0 });
  assert.deepEqual([capped.replicas, capped.limited.reason], [6, 'TooManyReplicas']);
});

test('scale-down stabilization: the highest recommendation of the window wins; after it, the new one', () => {
  const behavior: Behavior = { scaleDown: { stabilizationWindowSeconds: 60 } };
  const h = emptyHistory();
  assert.equal(normalizeReplicas({ current: 5, desired: 5, minReplicas: 1, maxReplicas: 10, behavior, history: h, now: T0 }).replicas, 5);
  const held = normalizeReplicas({ current: 5, desired: 2, minReplicas: 1, maxReplicas: 10, behavior, history: h, now: T0 + 30_000 });
  assert.equal(held.replicas, 5);
  assert.equal(held.stabilized?.reason, 'ScaleDownStabilized');
  const later = normalizeReplicas({ current: 5, desired: 2, minReplicas: 1, maxReplicas: 10, behavior, history: h, now: T0 + 61_000 });
  assert.equal(later.replicas, 2);
  assert.equal(later.limited.reason, 'DesiredWithinRange');
});

test('scale-up stabilization window: the lowest recent recommendation; Disabled never scales that way', () => {
  const behavior: Behavior = { scaleUp: { stabilizationWindowSeconds: 60 } };
  const h = emptyHistory();
  normalizeReplicas({ current: 2, desired: 2, minReplicas: 1, maxReplicas: 10, behavior, history: h, now: T0 });
  const held = normalizeReplicas({ current: 2, desired: 6, minReplicas: 1, maxReplicas: 10, behavior, history: h, now: T0 + 10_000 });
  assert.deepEqual([held.replicas, held.stabilized?.reason], [2, 'ScaleUpStabilized']);
  const off = normalizeReplicas({ current: 5, desired: 1, minReplicas: 1, maxReplicas: 10, behavior: { scaleDown: { selectPolicy: 'Disabled', stabilizationWindowSeconds: 0 } }, history: emptyHistory(), now: T0 });
  assert.equal(off.replicas, 5);
});

test('without behavior: 5 min scale-down window, scale up to max(2 × current, 4), min/max limits', () => {
  const h = emptyHistory();
  const up = normalizeReplicas({ current: 1, desired: 10, minReplicas: 1, maxReplicas: 10, history: h, now: T0 });
  assert.deepEqual([up.replicas, up.limited.reason], [4, 'ScaleUpLimit']);
  // Upstream keeps the highest recommendation of 5 min (10), then limits the rate: 2 × 4 = 8.
  const held = normalizeReplicas({ current: 4, desired: 1, minReplicas: 1, maxReplicas: 10, history: h, now: T0 + 60_000 });
  assert.deepEqual([held.replicas, held.limited.reason], [8, 'ScaleUpLimit']);
  assert.equal(normalizeReplicas({ current: 8, desired: 1, minReplicas: 1, maxReplicas: 10, history: h, now: T0 + 301_000 }).replicas, 1, 'after the window');
  assert.equal(normalizeReplicas({ current: 4, desired: 1, minReplicas: 2, maxReplicas: 10, history: emptyHistory(), now: T0 }).limited.reason, 'TooFewReplicas');
});
