/**
 * Not a timed test: the cost of a preemption decision on 1,000 full nodes of 30 pods (printed for
 * the lead to see) — 200 preemptors each evicting from one node, and a pod no eviction can help (the
 * same priority as everything placed: the common case of a full cluster). It asserts only the
 * decisions: five victims of the lowest priority each time, none for the hopeless pod.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeNode, makePod, snapshotOf } from './cluster.fixture.ts';
import { podInfoOf } from './pod-info.ts';
import { buildProfile } from './plugins/registry.ts';
import { preempt } from './preemption.ts';

const NODES = 1000;
const PER_NODE = 30;
const PREEMPTORS = 200;

test(`preemption decision on ${NODES} full nodes × ${PER_NODE} pods (printed, not asserted)`, () => {
  const nodes = Array.from({ length: NODES }, (_, i) => makeNode(`node-${i}`, { cpu: '3', memory: '64Gi' }));
  const placed = nodes.flatMap((_, n) => Array.from({ length: PER_NODE }, (_, j) =>
    [makePod(`p-${n}-${j}`, { labels: { app: `a${j % 5}` }, requests: { cpu: '100m', memory: '64Mi' }, spec: { priority: j % 3 } }), `node-${n}`] as [ReturnType<typeof makePod>, string]));
  const snap = snapshotOf(nodes, placed);
  const filters = buildProfile().filters;

  const t0 = performance.now();
  const hopeless = podInfoOf(makePod('peer', { requests: { cpu: '100m' }, spec: { priority: 0 } }));
  const rounds = 20;
  for (let i = 0; i < rounds; i++) assert.equal(preempt(hopeless, snap, filters, []), undefined);
  const hopelessMs = (performance.now() - t0) / rounds;

  const t1 = performance.now();
  for (let i = 0; i < PREEMPTORS; i++) {
    const p = podInfoOf(makePod(`vip-${i}`, { requests: { cpu: '500m' }, spec: { priority: 100 } }));
    const c = preempt(p, snap, filters, []);
    assert.ok(c, `vip-${i} found a node`);
    assert.equal(c.victims.length, 5);
    assert.ok(c.victims.every((v) => v.priority === 0), c.victims.map((v) => v.priority).join(','));
    for (const v of c.victims) snap.removePod(v.key);
    snap.addPod(p, c.node.name);
  }
  const perDecision = (performance.now() - t1) / PREEMPTORS;
  console.log(`# preemption: ${perDecision.toFixed(2)} ms per decision with victims (${PREEMPTORS} on ${NODES} nodes × ${PER_NODE} pods, `
    + `max(10 %, 100) candidates dry-run each); ${hopelessMs.toFixed(2)} ms for a pod no eviction helps (every node looked at)`);
});
