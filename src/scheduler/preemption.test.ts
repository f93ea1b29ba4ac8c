import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { makeNode, makePod, snapshotOf } from './cluster.fixture.ts';
import { Pipeline } from './pipeline.ts';
import { podInfoOf } from './pod-info.ts';
import { buildProfile } from './plugins/registry.ts';
import {
  budgetsOf, ineligibility, NOT_ELIGIBLE_NEVER, NOT_ELIGIBLE_TERMINATING, pickOneNode, preempt, splitByBudget, type Candidate,
} from './preemption.ts';
import { Nominator, nominatedPodsFilter } from './preemption-nominated.ts';
import { SchedulingQueue } from './queue.ts';

const filters = buildProfile().filters;
const pod = (name: string, priority: number, cpu: string, extra: { labels?: Record<string, string>; startTime?: string; spec?: Record<string, unknown> } = {}): KubeObject => {
  const p = makePod(name, { requests: { cpu }, labels: extra.labels, spec: { priority, ...extra.spec } });
  if (extra.startTime) p.status.startTime = extra.startTime;
  return p;
};
const names = (c: Candidate | undefined) => c && { node: c.node.name, victims: c.victims.map((v) => v.name) };

test('victims: only lower priority, the fewest needed, the least important evicted first', () => {
  const snap = snapshotOf([makeNode('n1', { cpu: '4' })], [
    [pod('mid', 50, '1'), 'n1'],
    [pod('low-old', 10, '1', { startTime: '2026-01-01T00:00:00Z' }), 'n1'],
    [pod('low-new', 10, '1', { startTime: '2026-06-01T00:00:00Z' }), 'n1'],
    [pod('peer', 100, '1'), 'n1'],
  ]);
  // Needs 1 cpu: one victim, the lowest priority, and of equal ones the one that started last
  // (the older is reprieved first, being more important).
  assert.deepEqual(names(preempt(podInfoOf(pod('high', 100, '1')), snap, filters, [])), { node: 'n1', victims: ['low-new'] });
  // Needs 3 cpu: both lows and mid; the equal-priority peer is never a victim.
  assert.deepEqual(names(preempt(podInfoOf(pod('high', 100, '3')), snap, filters, [])), { node: 'n1', victims: ['mid', 'low-old', 'low-new'] });
  // Needs 4 cpu: the peer would have to go — no candidate.
  assert.equal(preempt(podInfoOf(pod('high', 100, '4')), snap, filters, []), undefined);
  // A pod of the lowest priority preempts nothing.
  assert.equal(preempt(podInfoOf(pod('lowest', 10, '1')), snap, filters, []), undefined);
});

test('nodes: fewest PDB violations, then lowest highest victim, then lowest sum, then fewest victims', () => {
  const nodes = ['a', 'b', 'c'].map((n) => makeNode(n, { cpu: '2' }));
  // a: one victim of priority 30; b: two of priority 20 (sum 40); c: one of priority 20 protected by a budget.
  const snap = snapshotOf(nodes, [
    [pod('a1', 30, '2'), 'a'],
    [pod('b1', 20, '1'), 'b'], [pod('b2', 20, '1'), 'b'],
    [pod('c1', 20, '2', { labels: { app: 'db' } }), 'c'],
  ]);
  const pdb = { metadata: { namespace: 'default', name: 'db' }, spec: { selector: { matchLabels: { app: 'db' } } }, status: { disruptionsAllowed: 0 } };
  const budgets = budgetsOf([pdb]);
  const high = podInfoOf(pod('high', 100, '2'));
  // c violates its budget; of a and b, b's highest victim (20) is lower than a's (30).
  assert.deepEqual(names(preempt(high, snap, filters, budgets)), { node: 'b', victims: ['b1', 'b2'] });
  // Without the budget c wins: highest victim 20 like b, but a lower sum (20 < 40).
  assert.deepEqual(names(preempt(high, snap, filters, [])), { node: 'c', victims: ['c1'] });
  // With every node under a violating budget, violations are counted and the fewest wins.
  const cands: Candidate[] = [
    { node: snap.byName.get('a')!, victims: [podInfoOf(pod('x', 1, '1'))], pdbViolations: 2 },
    { node: snap.byName.get('b')!, victims: [podInfoOf(pod('y', 5, '1'))], pdbViolations: 1 },
  ];
  assert.equal(pickOneNode(cands)?.node.name, 'b');
  // Same priorities and counts: the node whose most important victims started latest.
  const tie: Candidate[] = [
    { node: snap.byName.get('a')!, victims: [podInfoOf(pod('x', 5, '1', { startTime: '2026-01-01T00:00:00Z' }))], pdbViolations: 0 },
    { node: snap.byName.get('b')!, victims: [podInfoOf(pod('y', 5, '1', { startTime: '2026-03-01T00:00:00Z' }))], pdbViolations: 0 },
  ];
  assert.equal(pickOneNode(tie)?.node.name, 'b');
});

test('budgets: each matching budget spends its allowance; disrupted pods and unlabelled pods do not count', () => {
  const pdb = { metadata: { namespace: 'default', name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } } }, status: { disruptionsAllowed: 1, disruptedPods: { w0: '2026-12-06T00:00:00Z' } } };
  const pods = ['w0', 'w1', 'w2'].map((n) => podInfoOf(pod(n, 0, '1', { labels: { app: 'web' } })));
  const other = podInfoOf(pod('other', 0, '1'));
  const { violating, nonViolating } = splitByBudget([...pods, other], budgetsOf([pdb]));
  assert.deepEqual(violating.map((p) => p.name), ['w2']);
  assert.deepEqual(nonViolating.map((p) => p.name), ['w0', 'w1', 'other']);
  // A budget elsewhere or with an empty selector protects nothing.
  const elsewhere = { ...pdb, metadata: { namespace: 'prod', name: 'web' }, status: { disruptionsAllowed: 0 } };
  const empty = { ...pdb, spec: { selector: {} }, status: { disruptionsAllowed: 0 } };
  assert.equal(splitByBudget(pods, budgetsOf([elsewhere, empty])).violating.length, 0);
});

test('preemption respects what eviction cannot fix: taints and requests above allocatable', () => {
  const snap = snapshotOf([makeNode('tainted', { cpu: '2', taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] }), makeNode('small', { cpu: '1' })], [
    [pod('t', 0, '2', { spec: { tolerations: [{ operator: 'Exists' }] } }), 'tainted'],
    [pod('s', 0, '1'), 'small'],
  ]);
  assert.equal(preempt(podInfoOf(pod('high', 100, '2')), snap, filters, []), undefined);
});

test('eligibility: preemptionPolicy Never, and a victim still terminating on the nominated node', () => {
  const victim = pod('low', 0, '2');
  victim.metadata.deletionTimestamp = '2026-12-06T00:00:00Z';
  victim.status.conditions = [{ type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler' }];
  const snap = snapshotOf([makeNode('n1', { cpu: '2' })], [[victim, 'n1']]);
  assert.equal(ineligibility(podInfoOf(pod('never', 100, '1', { spec: { preemptionPolicy: 'Never' } })), snap, undefined), NOT_ELIGIBLE_NEVER);
  assert.equal(ineligibility(podInfoOf(pod('high', 100, '2')), snap, 'n1'), NOT_ELIGIBLE_TERMINATING);
  assert.equal(ineligibility(podInfoOf(pod('high', 100, '2')), snap, undefined), undefined);
  // A pod deleted for another reason does not hold the preemptor back.
  victim.status.conditions = [];
  assert.equal(ineligibility(podInfoOf(pod('high', 100, '2')), snapshotOf([makeNode('n1', { cpu: '2' })], [[victim, 'n1']]), 'n1'), undefined);
});

test('nominated pods keep their room from pods of lower or equal priority, not from higher ones', () => {
  const snap = snapshotOf([makeNode('n1', { cpu: '4' }), makeNode('n2', { cpu: '1' })], [[pod('busy', 0, '1'), 'n2']]);
  const nominator = new Nominator();
  const profile = buildProfile();
  profile.filters.push(nominatedPodsFilter(nominator, (key) => snap.podNode.has(key)));
  const pipeline = new Pipeline(profile);
  nominator.set(podInfoOf(pod('nominee', 50, '3')), 'n1');
  const low = pipeline.schedule(podInfoOf(pod('low', 10, '2')), snap);
  assert.equal(low.node, undefined);
  assert.deepEqual([...low.diagnosis!.reasons.keys()].sort(), ['Insufficient cpu']);
  assert.equal(pipeline.schedule(podInfoOf(pod('small', 10, '1')), snap).node?.name, 'n1');
  assert.equal(pipeline.schedule(podInfoOf(pod('higher', 60, '2')), snap).node?.name, 'n1');
  // The nominee itself is not kept out by its own reservation; once placed, the room is free.
  assert.equal(pipeline.schedule(podInfoOf(pod('nominee', 50, '3')), snap).node?.name, 'n1');
  snap.addPod(podInfoOf(pod('nominee', 50, '3')), 'n1');
  assert.equal(pipeline.schedule(podInfoOf(pod('low', 10, '1')), snap).node?.name, 'n1');
  assert.equal(nominator.size, 0);
});

test('queue: a high-priority pod back from backoff passes lower ones that waited longer', () => {
  const clock = { t: 1000 };
  const q = new SchedulingQueue({ now: () => clock.t, initialBackoffMs: 100 });
  q.addOrUpdate(podInfoOf(pod('high', 1000, '1')));
  const high = q.tryPop()!;
  q.addBackoff(high);
  for (const n of ['a', 'b']) { clock.t++; q.addOrUpdate(podInfoOf(pod(n, 0, '1'))); }
  q.addOrUpdate(podInfoOf(pod('negative', -5, '1')));
  clock.t += 200;
  q.flushBackoff();
  assert.deepEqual([q.tryPop(), q.tryPop(), q.tryPop(), q.tryPop()].map((x) => x?.info.name), ['high', 'a', 'b', 'negative']);
  q.close();
});

test('preemption dry-runs only the nodes the filter phase found it might help, and none when no failure is resolvable', () => {
  const snap = snapshotOf([
    makeNode('tainted', { cpu: '4', taints: [{ key: 'x', effect: 'NoSchedule' }] }), makeNode('small', { cpu: '1' }), makeNode('n1', { cpu: '2' }),
  ], [[pod('low-t', 10, '4'), 'tainted'], [pod('low-s', 10, '1'), 'small'], [pod('low-1', 10, '2'), 'n1']]);
  const pipeline = new Pipeline();
  const high = podInfoOf(pod('high', 100, '2'));
  const d = pipeline.schedule(high, snap).diagnosis!;
  // The tainted node (its victim would free room, but the taint stays) and the one too small either way are not potential.
  assert.deepEqual(d.potential.map((n) => n.name), ['n1']);
  assert.deepEqual(names(preempt(high, snap, filters, [], Math.random, d.potential)), { node: 'n1', victims: ['low-1'] });
  assert.deepEqual(names(preempt(high, snap, filters, [])), { node: 'n1', victims: ['low-1'] });
  // A pod that fits no node for a reason no eviction fixes: nothing to dry-run.
  const huge = podInfoOf(pod('huge', 100, '8'));
  const hd = pipeline.schedule(huge, snap).diagnosis!;
  assert.deepEqual(hd.potential, []);
  assert.equal(hd.unresolvable, 3);
  assert.equal(preempt(huge, snap, filters, [], Math.random, hd.potential), undefined);
});
