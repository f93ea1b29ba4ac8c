import assert from 'node:assert/strict';
import { test } from 'node:test';
import { rfc3339, rfc3339Micro } from './time.ts';

test('rfc3339 truncates to the second, for numbers and Dates, across seconds and before 1970', () => {
  const t = Date.parse('2026-12-07T13:40:05.999Z');
  assert.equal(rfc3339(t), '2026-12-07T13:40:05Z');
  assert.equal(rfc3339(t + 1), '2026-12-07T13:40:06Z', 'the next second is not the remembered one');
  assert.equal(rfc3339(new Date(t)), '2026-12-07T13:40:05Z', 'back to an earlier second');
  assert.equal(rfc3339(-500), '1969-12-31T23:59:59Z');
  assert.match(rfc3339(), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.throws(() => rfc3339(Number.NaN), RangeError);
});

test('rfc3339Micro keeps the milliseconds and pads to microseconds', () => {
  assert.equal(rfc3339Micro(Date.parse('2026-12-07T13:40:05.123Z')), '2026-12-07T13:40:05.123000Z');
});
