import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import {
  backoffDelayMs, completionIndexOf, deadlineRemainingMs, formatIndexes, indexesToCreate, isPodFailedForJob, parseIndexes,
  setCondition, wantedActive,
} from './job-policy.ts';

test('back-off doubles from 10 s and caps at 6 minutes', () => {
  assert.deepEqual([0, 1, 2, 3, 6, 7, 50].map((n) => backoffDelayMs(n)), [0, 10_000, 20_000, 40_000, 320_000, 360_000, 360_000]);
  assert.equal(backoffDelayMs(3, { baseMs: 10, maxMs: 25 }), 25);
});

test('wantedActive: parallelism, completions left, work queue', () => {
  assert.equal(wantedActive({ parallelism: 3, completions: 5 }, 0, 0), 3);
  assert.equal(wantedActive({ parallelism: 3, completions: 5 }, 4, 2), 1);
  assert.equal(wantedActive({ parallelism: 3, completions: 5 }, 5, 0), 0);
  assert.equal(wantedActive({ parallelism: 2, completions: null }, 0, 0), 2);
  assert.equal(wantedActive({ parallelism: 2, completions: null }, 1, 1), 1);
});

test('completed indexes round-trip as intervals', () => {
  assert.equal(formatIndexes([5, 1, 3, 4, 0]), '0-1,3-5');
  assert.deepEqual([...parseIndexes('0-1,3-5')], [0, 1, 3, 4, 5]);
  assert.equal(formatIndexes([]), '');
  assert.deepEqual(indexesToCreate(5, new Set([0]), new Set([1]), 2), [2, 3]);
});

test('pod index, failure and deadline', () => {
  const pod = { metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': '3' } }, status: { phase: 'Running' } } as KubeObject;
  assert.equal(completionIndexOf(pod), 3);
  assert.equal(isPodFailedForJob(pod), false);
  assert.equal(isPodFailedForJob({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: 'x' } }), true);
  const job = { metadata: {}, spec: { activeDeadlineSeconds: 10 }, status: { startTime: '2024-01-01T00:00:00Z' } } as KubeObject;
  assert.equal(deadlineRemainingMs(job, Date.parse('2024-01-01T00:00:04Z')), 6000);
});

test('setCondition keeps transition time when status is unchanged', () => {
  const a = setCondition([], { type: 'Suspended', status: 'True', reason: 'JobSuspended' }, 't1');
  const b = setCondition(a, { type: 'Suspended', status: 'True', reason: 'JobSuspended' }, 't2');
  assert.equal(b[0].lastTransitionTime, 't1');
  const c = setCondition(b, { type: 'Suspended', status: 'False', reason: 'JobResumed' }, 't3');
  assert.equal(c[0].lastTransitionTime, 't3');
});
