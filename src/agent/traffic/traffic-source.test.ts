import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../../util/log.ts';
import type { Flow } from './conntrack.ts';
import { CPU_SHARE, MAX_SAMPLE_MS, nextSampleDelay, SAMPLE_MS, startTrafficSource } from './traffic-source.ts';

test('sampling stretches with the cost of a sample (≤ 0.4 % of a core), between SAMPLE_MS and MAX_SAMPLE_MS', () => {
  assert.equal(CPU_SHARE, 0.004);
  assert.equal(nextSampleDelay(5), SAMPLE_MS, 'a small table: every 2 s');
  assert.equal(nextSampleDelay(20), 5000, 'a 20 ms sample: every 5 s');
  assert.equal(MAX_SAMPLE_MS, 6000);
  assert.equal(nextSampleDelay(500), MAX_SAMPLE_MS, 'never so rare that an edge takes over 10 s');
  assert.equal(nextSampleDelay(1, 20_000), 20_000, 'a longer base interval is kept');
});

test('the source samples again after each sample, names host-network pods through owners, and stops; interval 0 reads nothing', async () => {
  const flow: Flow = { proto: 'tcp', state: 'ESTABLISHED', orig: { src: '10.42.0.5', dst: '10.42.0.7', sport: 5000, dport: 80 }, reply: { src: '10.42.0.7', dst: '10.42.0.5', sport: 80, dport: 5000 } };
  let reads = 0;
  const log = createLogger({ level: 'error' });
  const src = startTrafficSource('n1', log, { read: async (visit) => { reads++; visit(flow); return { busyMs: 0 }; }, intervalMs: 20 });
  // Until three samples were taken (a loaded machine may delay the timers: no fixed sleep).
  for (let waited = 0; reads < 3 && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  src.stop();
  const after = reads;
  assert.ok(after >= 3, `sampled ${after} times`);
  assert.equal(src.report().edges.length, 1);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(reads, after, 'no sample after stop');
  let offReads = 0;
  const off = startTrafficSource('n1', log, { read: async (visit) => { offReads++; visit(flow); return { busyMs: 0 }; }, intervalMs: 0 });
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(offReads, 0);
  assert.deepEqual(off.report().edges, []);
});
