import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfiguration } from './configuration.ts';
import { levelVersionString } from './policy-level.ts';

const base = { apiVersion: 'pod-security.admission.config.k8s.io/v1', kind: 'PodSecurityConfiguration' };

test('defaults per mode, privileged:latest when unset; exemptions', () => {
  const { config, errors } = parseConfiguration({ ...base, defaults: { enforce: 'baseline', 'audit-version': 'v1.30', audit: 'restricted' }, exemptions: { usernames: ['ci'], namespaces: ['kube-system'], runtimeClasses: ['runc'] } });
  assert.deepEqual(errors, []);
  assert.equal(levelVersionString(config.defaults.enforce), 'baseline:latest');
  assert.equal(levelVersionString(config.defaults.audit), 'restricted:v1.30');
  assert.equal(levelVersionString(config.defaults.warn), 'privileged:latest');
  assert.deepEqual(config.exemptions, { usernames: ['ci'], namespaces: ['kube-system'], runtimeClasses: ['runc'] });
});

test('every bad field is named', () => {
  const { errors } = parseConfiguration({ apiVersion: 'v1', kind: 'PodSecurityConfiguration', defaults: { warn: 'strict', 'enforce-version': 'v2' }, exemptions: { namespaces: ['Bad_NS', 'a', 'a'], usernames: 'x' } });
  assert.deepEqual(errors.map((e) => e.field), ['apiVersion', 'defaults.enforce-version', 'defaults.warn', 'exemptions.usernames', 'exemptions.namespaces[0]', 'exemptions.namespaces[2]']);
});
