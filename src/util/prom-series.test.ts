import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Histogram, Registry } from 'prom-client';
import { KeyedHistogram } from './prom-series.ts';

const buckets = [0.005, 0.025, 0.1, 1];

test('a KeyedHistogram scrapes line for line as prom-client\'s own Histogram with the same observations', async () => {
  const ours = new Registry();
  const peer = new Registry();
  const h = new KeyedHistogram({ name: 'x_seconds', help: 'h', buckets, registers: [ours] });
  const p = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['op', 'type'], buckets, registers: [peer] });
  const samples: Array<[string, string, number]> = [['get', 'pods', 0.001], ['get', 'pods', 0.03], ['create', 'pods', 0.5], ['get', 'leases', 2], ['get', 'pods', 0.1]];
  for (const [op, type, v] of samples) {
    h.get(`${op} ${type}`, () => ({ op, type })).observe(v);
    p.observe({ op, type }, v);
  }
  const norm = (t: string) => t.split('\n').filter(Boolean).sort();
  assert.deepEqual(norm(await ours.metrics()), norm(await peer.metrics()));
  // getMetricsAsJSON (prom-client's get()) has each value's labels in one object.
  const json = (await ours.getMetricsAsJSON())[0]!;
  assert.ok(json.values.some((v) => v.labels.le === '+Inf' && v.labels.op === 'get' && v.labels.type === 'pods' && v.value === 3));
  ours.resetMetrics();
  assert.doesNotMatch(await ours.metrics(), /x_seconds_count/);
});

test('a series is named once: the labels function runs only for a new key', () => {
  const h = new KeyedHistogram({ name: 'y_seconds', help: 'h', buckets, registers: [new Registry()] });
  let named = 0;
  for (let i = 0; i < 3; i++) h.get('a', () => { named++; return { k: 'a' }; }).observe(0.01);
  assert.equal(named, 1);
  assert.equal(h.get('a', () => ({ k: 'a' })).count, 3);
});
