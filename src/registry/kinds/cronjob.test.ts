import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { cronJobStrategy as s } from './cronjob.ts';

function create(manifest: KubeObject) {
  const obj = structuredClone(manifest);
  s.defaults!(obj);
  s.prepareForCreate!(obj);
  return { obj, errs: s.validate!(obj) };
}

const hello = (): KubeObject => ({
  apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'hello', namespace: 'default' },
  spec: {
    schedule: '* * * * *',
    jobTemplate: { spec: { template: { spec: {
      containers: [{ name: 'hello', image: 'busybox:1.28', imagePullPolicy: 'IfNotPresent', command: ['/bin/sh', '-c', 'date; echo Hello'] }],
      restartPolicy: 'OnFailure',
    } } } },
  },
});

test('defaults and the documentation example are valid', () => {
  const { obj, errs } = create(hello());
  assert.deepEqual(errs, []);
  assert.equal(obj.spec.concurrencyPolicy, 'Allow');
  assert.equal(obj.spec.suspend, false);
  assert.equal(obj.spec.successfulJobsHistoryLimit, 3);
  assert.equal(obj.spec.failedJobsHistoryLimit, 1);
  assert.equal(obj.spec.jobTemplate.spec.template.spec.dnsPolicy, 'ClusterFirst');
  assert.equal(obj.spec.jobTemplate.spec.backoffLimit, undefined, 'Job defaults are not applied to templates');
});

test('schedule required and parsable', () => {
  const m = hello();
  delete m.spec.schedule;
  assert.deepEqual(create(m).errs, [{ type: 'FieldValueRequired', field: 'spec.schedule', message: 'Required value' }]);
  m.spec.schedule = '*/5 * * *';
  assert.deepEqual(create(m).errs, [{ type: 'FieldValueInvalid', field: 'spec.schedule', message: 'Invalid value: "*/5 * * *": expected exactly 5 fields, found 4: [*/5 * * *]' }]);
  m.spec.schedule = 'CRON_TZ=UTC 0 * * * *';
  assert.match(create(m).errs[0].message, /cannot use TZ or CRON_TZ in schedule, use timeZone field instead/);
  m.spec.schedule = '@daily';
  assert.deepEqual(create(m).errs, []);
});

test('timeZone, concurrencyPolicy, history limits', () => {
  const m = hello();
  m.spec.timeZone = 'Europe/Paris';
  assert.deepEqual(create(m).errs, []);
  m.spec.timeZone = 'Moon/Base';
  m.spec.concurrencyPolicy = 'Sometimes';
  m.spec.failedJobsHistoryLimit = -1;
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), [
    'spec.timeZone FieldValueInvalid', 'spec.concurrencyPolicy FieldValueNotSupported', 'spec.failedJobsHistoryLimit FieldValueInvalid',
  ]);
});

test('job template rules', () => {
  const m = hello();
  m.spec.jobTemplate.spec.template.spec.restartPolicy = 'Always';
  m.spec.jobTemplate.spec.selector = { matchLabels: { a: 'b' } };
  assert.deepEqual(create(m).errs.map((e) => `${e.field} ${e.type}`), [
    'spec.jobTemplate.spec.template.spec.restartPolicy FieldValueRequired',
    'spec.jobTemplate.spec.selector FieldValueInvalid',
  ]);
});

test('names longer than 52 characters are refused', () => {
  const m = hello();
  m.metadata.name = 'a'.repeat(53);
  assert.deepEqual(create(m).errs, [{ type: 'FieldValueInvalid', field: 'metadata.name', message: `Invalid value: "${'a'.repeat(53)}": must be no more than 52 characters` }]);
});
