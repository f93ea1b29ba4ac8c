import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podInfoOf } from './pod-info.ts';
import { SchedulingQueue } from './queue.ts';
import { makePod } from './cluster.fixture.ts';

function clockQueue() {
  const clock = { t: 1000 };
  const q = new SchedulingQueue({ now: () => clock.t });
  return { clock, q };
}

test('queue: active heap pops by priority, then first-queued time', () => {
  const { clock, q } = clockQueue();
  q.addOrUpdate(podInfoOf(makePod('low1')));
  clock.t++;
  q.addOrUpdate(podInfoOf(makePod('high', { spec: { priority: 100 } })));
  clock.t++;
  q.addOrUpdate(podInfoOf(makePod('low2')));
  assert.deepEqual([q.tryPop(), q.tryPop(), q.tryPop()].map((x) => x?.info.name), ['high', 'low1', 'low2']);
  q.close();
});

test('queue: backoff doubles from 1 s to 10 s', () => {
  const { q } = clockQueue();
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => q.backoffMs(n)), [1000, 2000, 4000, 8000, 10000, 10000]);
  q.close();
});

test('queue: unschedulable pods move only on relevant events, through backoff', () => {
  const { clock, q } = clockQueue();
  q.addOrUpdate(podInfoOf(makePod('p')));
  const e = q.tryPop()!;
  q.addUnschedulable(e, ['NodeResourcesFit']);
  assert.equal(q.sizes.unschedulable, 1);
  q.moveOnEvent('AssignedPodAdd'); // irrelevant to NodeResourcesFit
  assert.equal(q.sizes.unschedulable, 1);
  q.moveOnEvent('PodDelete');
  assert.deepEqual(q.sizes, { active: 0, backoff: 1, unschedulable: 0, inFlight: 0 });
  clock.t += 1000;
  q.flushBackoff();
  assert.equal(q.tryPop()?.info.name, 'p');
  q.close();
});

test('queue: a move request while in flight sends a failed pod to backoff; 60 s flush; status-only updates stay parked', () => {
  const { clock, q } = clockQueue();
  q.addOrUpdate(podInfoOf(makePod('p')));
  let e = q.tryPop()!;
  q.moveOnEvent('NodeAdd');
  q.addUnschedulable(e, ['TaintToleration']);
  assert.equal(q.sizes.backoff, 1);
  clock.t += 1000;
  q.flushBackoff();
  e = q.tryPop()!;
  q.addUnschedulable(e, ['TaintToleration']);
  const updated = makePod('p');
  updated.status = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] };
  q.addOrUpdate(podInfoOf(updated));
  assert.equal(q.sizes.unschedulable, 1);
  clock.t += 60_000;
  q.flushUnschedulable();
  assert.equal(q.sizes.active, 1);
  q.close();
});
