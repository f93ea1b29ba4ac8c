import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cronScheduleError, timeZoneError } from './cron-schedule.ts';

test('valid schedules', () => {
  for (const s of ['*/5 * * * *', '0 0 * * MON-FRI', '30 2 1 jan,jul ?', '0 */2 * * 0', '@hourly', '@daily', '@weekly', '@monthly', '@yearly', '@annually', '@midnight', '@every 1h30m', '15 3 * * 6']) {
    assert.equal(cronScheduleError(s), undefined, s);
  }
});

test('invalid schedules give robfig/cron messages', () => {
  assert.equal(cronScheduleError(''), 'empty spec string');
  assert.equal(cronScheduleError('* * *'), 'expected exactly 5 fields, found 3: [* * *]');
  assert.equal(cronScheduleError('60 * * * *'), 'end of range (60) above maximum (59): 60');
  assert.equal(cronScheduleError('* * 0 * *'), 'beginning of range (0) below minimum (1): 0');
  assert.equal(cronScheduleError('x * * * *'), 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax');
  assert.equal(cronScheduleError('@fortnightly'), 'unrecognized descriptor: @fortnightly');
  assert.equal(cronScheduleError('*/0 * * * *'), 'step of range should be a positive number: */0');
  assert.equal(cronScheduleError('5-1 * * * *'), 'beginning of range (5) beyond end of range (1): 5-1');
  assert.match(cronScheduleError('@every soon') ?? '', /failed to parse duration @every soon/);
});

test('time zones', () => {
  assert.equal(timeZoneError('Europe/Berlin'), undefined);
  assert.equal(timeZoneError('UTC'), undefined);
  assert.equal(timeZoneError('Mars/Olympus'), 'unknown time zone Mars/Olympus');
  assert.equal(timeZoneError('europe/berlin'), 'unknown time zone europe/berlin');
  assert.match(timeZoneError('Local') ?? '', /explicit time zone/);
  assert.equal(timeZoneError(''), 'timeZone must be nil or non-empty string');
});
