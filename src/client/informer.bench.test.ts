/**
 * Not a timed test: the CPU cost per watch event of a SharedInformer (cache, namespace index,
 * handler dispatch) against a bare watch loop handing events straight on — what the scheduler's and
 * the simulator's own loops did before they moved onto the informer. 30,000 pods, three events each
 * (pending, bound, Running), as in the `sched` benchmark; printed for the lead to see. It asserts
 * only that every event reached the handlers and that the cache ends with every pod.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import type { Client, ClientWatchEvent } from './client.ts';
import { R } from './client.ts';
import { SharedInformer } from './informer.ts';

const PODS = 30_000;
const ROUNDS = 5;

function pod(i: number, rv: number, nodeName?: string, phase = 'Pending'): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `p-${i}`, namespace: 'sched', uid: `u-${i}`, resourceVersion: String(rv), labels: { bench: 'sched' } },
    spec: { containers: [{ name: 'c', image: 'host' }], ...(nodeName ? { nodeName } : {}) },
    status: { phase },
  };
}

const events: ClientWatchEvent[] = [];
let rv = 1;
for (let i = 0; i < PODS; i++) events.push({ type: 'ADDED', object: pod(i, rv++) });
for (let i = 0; i < PODS; i++) events.push({ type: 'MODIFIED', object: pod(i, rv++, `n-${i % 1000}`) });
for (let i = 0; i < PODS; i++) events.push({ type: 'MODIFIED', object: pod(i, rv++, `n-${i % 1000}`, 'Running') });

/** A Client whose one watch replays `events` on demand; lists are empty. */
function replayClient(): { client: Client; replay(): void } {
  let onEvent: ((ev: ClientWatchEvent) => void) | undefined;
  const client = {
    list: async () => ({ items: [], resourceVersion: '1' }),
    watch: async (_r: unknown, _n: unknown, _o: unknown, cb: (ev: ClientWatchEvent) => void) => {
      onEvent = cb;
      return { close() {}, done: new Promise<void>(() => {}) };
    },
  } as unknown as Client;
  return { client, replay: () => { for (const ev of events) onEvent!(ev); } };
}

/** CPU µs per event of `replay`. */
function cpuPerEvent(replay: () => void): number {
  const c0 = process.cpuUsage();
  replay();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / events.length;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

test(`informer event cost: ${PODS} pods × 3 events (printed, not asserted)`, async () => {
  const bare: number[] = [];
  const informer: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    let seenBare = 0;
    const b = replayClient();
    await b.client.watch(R.pods, undefined, {}, (ev) => { if (ev.type !== 'BOOKMARK' && ev.type !== 'ERROR') seenBare++; });
    bare.push(cpuPerEvent(b.replay));
    assert.equal(seenBare, events.length);

    let seen = 0;
    const i = replayClient();
    const inf = new SharedInformer(i.client, R.pods);
    inf.addHandlers({ add: () => { seen++; }, update: () => { seen++; }, delete: () => { seen++; } });
    inf.start();
    await inf.synced();
    await new Promise((r) => setImmediate(r)); // the watch is open
    informer.push(cpuPerEvent(i.replay));
    assert.equal(seen, events.length);
    assert.equal(inf.list('sched').length, PODS);
    inf.stop();
  }
  console.log(`# informer: ${median(informer).toFixed(2)} µs CPU per event (median of ${ROUNDS}; bare loop ${median(bare).toFixed(2)} µs); `
    + `at the sched benchmark's ~1,000 binds/s (~3,000 pod events/s) that is ${(median(informer) * 3000 / 10_000).toFixed(2)} % of one core`);
});
