import { test } from 'node:test';
import assert from 'node:assert/strict';
import { humanDuration, translateTimestampSince } from './age.ts';
import { accessModesAsString } from './access-modes.ts';

const s = 1000, m = 60 * s, h = 60 * m, d = 24 * h, y = 365 * d;

test('humanDuration follows duration.HumanDuration', () => {
  const cases: [number, string][] = [
    [-3 * s, '<invalid>'], [-2 * s, '<invalid>'], [-1500, '0s'], [-1 * s, '0s'], [-500, '0s'], [0, '0s'],
    [999, '0s'], [5 * s, '5s'], [90 * s, '90s'], [119 * s, '119s'], [2 * m, '2m'], [2 * m + 30 * s, '2m30s'],
    [9 * m + 59 * s, '9m59s'], [10 * m + 30 * s, '10m'], [179 * m, '179m'], [3 * h, '3h'], [3 * h + 5 * m, '3h5m'],
    [7 * h + 59 * m, '7h59m'], [8 * h + 30 * m, '8h'], [47 * h, '47h'], [48 * h, '2d'], [2 * d + 3 * h, '2d3h'],
    [7 * d + 23 * h, '7d23h'], [8 * d + 5 * h, '8d'], [729 * d, '729d'], [2 * y, '2y'], [2 * y + 30 * d, '2y30d'],
    [7 * y + 364 * d, '7y364d'], [8 * y + 100 * d, '8y'], [20 * y, '20y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, `${ms}ms`);
});

test('translateTimestampSince', () => {
  const now = new Date('2024-01-01T12:00:00Z');
  assert.equal(translateTimestampSince(undefined, now), '<unknown>');
  assert.equal(translateTimestampSince('', now), '<unknown>');
  assert.equal(translateTimestampSince('garbage', now), '<unknown>');
  assert.equal(translateTimestampSince('2024-01-01T11:55:00Z', now), '5m');
  assert.equal(translateTimestampSince('2023-12-30T09:00:00Z', now), '2d3h');
});

test('accessModesAsString', () => {
  assert.equal(accessModesAsString(['ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOnce']), 'RWO,RWX');
  assert.equal(accessModesAsString(['ReadWriteOncePod', 'ReadOnlyMany']), 'ROX,RWOP');
  assert.equal(accessModesAsString(undefined), '');
});
