/**
 * Not a timed test: pushes 5,000 pods through the in-memory pipeline (filter → score → assume) on
 * 1,000 nodes and prints pods/s for the lead to see. It asserts only that every pod was placed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pipeline } from './pipeline.ts';
import { podInfoOf } from './pod-info.ts';
import { makeNode, makePod, snapshotOf } from './cluster.fixture.ts';

const NODES = 1000;
const PODS = 5000;

test(`pipeline throughput: ${NODES} nodes × ${PODS} pods (printed, not asserted)`, () => {
  const zones = ['a', 'b', 'c'];
  const snap = snapshotOf(Array.from({ length: NODES }, (_, i) => makeNode(`node-${i}`, {
    cpu: '32', memory: '128Gi', labels: { 'topology.kubernetes.io/zone': zones[i % 3] },
    taints: i % 10 === 0 ? [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }] : undefined,
  })));
  const pods = Array.from({ length: PODS }, (_, i) => podInfoOf(makePod(`p-${i}`, {
    labels: { app: `app-${i % 50}` }, requests: { cpu: '100m', memory: '128Mi' },
    // One pod in ten carries a zone spread constraint; the rest are plain.
    spec: i % 10 === 0 ? { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: `app-${i % 50}` } } }] } : {},
  })));
  const pipeline = new Pipeline();
  let placed = 0;
  let evaluated = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const p of pods) {
    const r = pipeline.schedule(p, snap);
    if (r.node) {
      snap.addPod(p, r.node.name);
      placed++;
    }
    evaluated += r.evaluated;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const rate = Math.round((PODS / ms) * 1000);
  // CPU time too: on a shared machine wall time also measures the neighbours.
  console.log(`# scheduler pipeline: ${PODS} pods on ${NODES} nodes in ${ms.toFixed(0)} ms wall = ${rate} pods/s `
    + `(${Math.round((PODS / cpuMs) * 1000)} pods/s of CPU time); `
    + `${(evaluated / PODS).toFixed(0)} nodes filtered per pod (adaptive percentageOfNodesToScore)`);
  assert.equal(placed, PODS);
  assert.equal(snap.podNode.size, PODS);
});
