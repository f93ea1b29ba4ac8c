import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evictionDecision, minTolerationSeconds, toleratesTaint, untoleratedTaints } from './taint-toleration.ts';
import { TAINT_UNREACHABLE } from '../../apis/well-known.ts';

const unreachable = { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: '2024-01-01T00:00:00Z' };

test('toleratesTaint: Exists, Equal, empty key, effect', () => {
  assert.equal(toleratesTaint({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }, unreachable), true);
  assert.equal(toleratesTaint({ operator: 'Exists' }, unreachable), true);
  assert.equal(toleratesTaint({ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }, unreachable), false);
  assert.equal(toleratesTaint({ key: 'a', value: 'b' }, { key: 'a', value: 'b', effect: 'NoSchedule' }), true);
  assert.equal(toleratesTaint({ key: 'a', value: 'c' }, { key: 'a', value: 'b', effect: 'NoSchedule' }), false);
  assert.equal(toleratesTaint({ key: 'other', operator: 'Exists' }, unreachable), false);
});

test('untoleratedTaints filters by effect', () => {
  const taints = [{ key: 'x', effect: 'NoSchedule' }, { key: 'y', effect: 'PreferNoSchedule' }];
  assert.deepEqual(untoleratedTaints(taints, [], ['NoSchedule', 'NoExecute']).map((t) => t.key), ['x']);
});

test('minTolerationSeconds takes the least among matching tolerations', () => {
  const tols = [{ key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: 300 }, { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }];
  assert.equal(minTolerationSeconds([unreachable], tols), 60);
  assert.equal(minTolerationSeconds([unreachable], [{ operator: 'Exists' }]), undefined);
});

test('evictionDecision: untolerated now, tolerated later, forever', () => {
  const t0 = Date.parse(unreachable.timeAdded);
  assert.deepEqual(evictionDecision([unreachable], [], t0), { action: 'evict-now' });
  assert.deepEqual(evictionDecision([unreachable], [{ key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: 300 }], t0 + 1000), { action: 'evict-at', at: t0 + 300_000 });
  assert.deepEqual(evictionDecision([unreachable], [{ key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: 300 }], t0 + 301_000), { action: 'evict-now' });
  assert.deepEqual(evictionDecision([unreachable], [{ key: TAINT_UNREACHABLE, operator: 'Exists' }], t0), { action: 'keep' });
  assert.deepEqual(evictionDecision([{ key: 'a', effect: 'NoSchedule' }], [], t0), { action: 'keep' });
});
