import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobNameFor, mostRecentScheduleTime, parseSchedule, scheduledTimeFromJobName } from './cron-schedule.ts';

const d = (s: string) => new Date(s);

test('next schedule: five fields, macros, time zone, @every', () => {
  assert.equal(parseSchedule('*/5 * * * *').next(d('2024-03-01T10:02:30Z')).toISOString(), '2024-03-01T10:05:00.000Z');
  assert.equal(parseSchedule('@hourly').next(d('2024-03-01T10:02:30Z')).toISOString(), '2024-03-01T11:00:00.000Z');
  assert.equal(parseSchedule('@midnight').next(d('2024-03-01T10:02:30Z')).toISOString(), '2024-03-02T00:00:00.000Z');
  assert.equal(parseSchedule('@annually').next(d('2024-03-01T10:02:30Z')).toISOString(), '2025-01-01T00:00:00.000Z');
  // 09:00 in Berlin (CET, +01:00) is 08:00 UTC.
  assert.equal(parseSchedule('0 9 * * *', 'Europe/Berlin').next(d('2024-03-01T10:00:00Z')).toISOString(), '2024-03-02T08:00:00.000Z');
  assert.equal(parseSchedule('@every 90s').next(d('2024-03-01T10:00:00.400Z')).toISOString(), '2024-03-01T10:01:30.000Z');
  assert.throws(() => parseSchedule('* * * *'));
  assert.throws(() => parseSchedule('61 * * * *'));
});

test('mostRecentScheduleTime: none yet, one, several missed', () => {
  const s = parseSchedule('* * * * *');
  const created = '2024-03-01T10:00:30Z';
  assert.deepEqual(mostRecentScheduleTime(s, { creationTimestamp: created }, d('2024-03-01T10:00:50Z')), { mostRecent: undefined, missed: 0 });
  assert.deepEqual(mostRecentScheduleTime(s, { creationTimestamp: created }, d('2024-03-01T10:01:10Z')), { mostRecent: d('2024-03-01T10:01:00Z'), missed: 1 });
  const r = mostRecentScheduleTime(s, { creationTimestamp: created, lastScheduleTime: '2024-03-01T10:01:00Z' }, d('2024-03-01T10:05:10Z'));
  assert.deepEqual(r, { mostRecent: d('2024-03-01T10:05:00Z'), missed: 4 });
});

test('mostRecentScheduleTime: startingDeadlineSeconds bounds the window; >100 missed still finds the latest', () => {
  const s = parseSchedule('* * * * *');
  const r = mostRecentScheduleTime(s, { creationTimestamp: '2024-03-01T00:00:00Z', startingDeadlineSeconds: 150 }, d('2024-03-01T10:05:10Z'));
  assert.deepEqual(r, { mostRecent: d('2024-03-01T10:05:00Z'), missed: 3 });
  const many = mostRecentScheduleTime(s, { creationTimestamp: '2024-03-01T00:00:00Z' }, d('2024-03-01T10:05:10Z'));
  assert.ok(many.missed > 100);
  assert.deepEqual(many.mostRecent, d('2024-03-01T10:05:00Z'));
});

test('job names encode minutes since the epoch', () => {
  const t = d('2024-03-01T10:05:00Z');
  assert.equal(jobNameFor('hello', t), `hello-${t.getTime() / 60000}`);
  assert.deepEqual(scheduledTimeFromJobName('hello', jobNameFor('hello', t)), t);
  assert.equal(scheduledTimeFromJobName('hello', 'hello-x'), undefined);
});

test('day of month and day of week both set: either matches (robfig/cron, Vixie cron); ? stands for *', () => {
  // 2024-03-01 is a Friday: the next time is Monday the 4th, not the 1st of April.
  assert.equal(parseSchedule('0 0 1 * 1').next(d('2024-03-01T10:00:00Z')).toISOString(), '2024-03-04T00:00:00.000Z');
  assert.equal(parseSchedule('0 0 ? * 1').next(d('2024-03-01T10:00:00Z')).toISOString(), '2024-03-04T00:00:00.000Z');
});

test('a walk from one schedule time to the next gives what a fresh parse at each step gives, across a DST change', () => {
  for (const [expr, tz] of [['*/7 * * * *', 'Europe/Berlin'], ['30 2 * * *', 'Europe/Berlin'], ['0 */3 * * *', 'America/New_York']] as const) {
    const walked = parseSchedule(expr, tz);
    const fresh = (after: Date) => parseSchedule(expr, tz).next(after);
    // Berlin springs forward on 2024-03-31 (02:00 → 03:00); New York on 2024-03-10.
    let t = d(tz === 'Europe/Berlin' ? '2024-03-30T20:00:00Z' : '2024-03-09T20:00:00Z');
    for (let i = 0; i < 60; i++) {
      const next = walked.next(t);
      assert.equal(next.toISOString(), fresh(t).toISOString(), `${expr} ${tz} after ${t.toISOString()}`);
      assert.ok(next > t);
      t = next;
    }
    // An unrelated instant starts a new walk.
    assert.equal(walked.next(d('2024-06-01T00:00:00Z')).toISOString(), fresh(d('2024-06-01T00:00:00Z')).toISOString());
  }
});
