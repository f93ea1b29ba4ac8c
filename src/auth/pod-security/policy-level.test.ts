import { test } from 'node:test';
import assert from 'node:assert/strict';
import { levelVersionString, parseVersion, policyToEvaluate, PRIVILEGED_POLICY, type Policy } from './policy-level.ts';

const show = (p: Policy) => `enforce=${levelVersionString(p.enforce)} audit=${levelVersionString(p.audit)} warn=${levelVersionString(p.warn)}`;
const L = 'pod-security.kubernetes.io/';

test('no labels: the defaults', () => {
  assert.equal(show(policyToEvaluate(undefined).policy), 'enforce=privileged:latest audit=privileged:latest warn=privileged:latest');
  const defaults: Policy = { ...PRIVILEGED_POLICY, audit: { level: 'restricted', version: { latest: false, minor: 25 } } };
  assert.equal(show(policyToEvaluate({}, defaults).policy), 'enforce=privileged:latest audit=restricted:v1.25 warn=privileged:latest');
});

test('labels set levels and versions; an enforce level stricter than warn also warns', () => {
  const { policy, errors } = policyToEvaluate({ [`${L}enforce`]: 'baseline', [`${L}enforce-version`]: 'v1.29', [`${L}audit`]: 'restricted' });
  assert.deepEqual(errors, []);
  assert.equal(show(policy), 'enforce=baseline:v1.29 audit=restricted:latest warn=baseline:v1.29');
  assert.equal(show(policyToEvaluate({ [`${L}enforce`]: 'baseline', [`${L}warn`]: 'privileged' }).policy), 'enforce=baseline:latest audit=privileged:latest warn=privileged:latest');
  assert.equal(show(policyToEvaluate({ [`${L}enforce`]: 'baseline', [`${L}warn-version`]: 'v1.20' }).policy), 'enforce=baseline:latest audit=privileged:latest warn=baseline:v1.20');
});

test('bad labels: field errors, enforce fails closed, audit and warn fail open', () => {
  const { policy, errors } = policyToEvaluate({ [`${L}enforce`]: 'strict', [`${L}warn`]: 'loud', [`${L}audit-version`]: '1.25' });
  assert.equal(show(policy), 'enforce=restricted:latest audit=privileged:latest warn=privileged:latest');
  assert.deepEqual(errors.map((e) => `${e.field}: ${e.message}`), [
    'metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted',
    'metadata.labels[pod-security.kubernetes.io/audit-version]: Invalid value: "1.25": must be "latest" or "v1.x"',
    'metadata.labels[pod-security.kubernetes.io/warn]: Invalid value: "loud": must be one of privileged, baseline, restricted',
  ]);
});

test('versions', () => {
  assert.deepEqual(parseVersion('v1.0'), { latest: false, minor: 0 });
  assert.ok(parseVersion('v1.01') instanceof Error);
  assert.ok(parseVersion('v2.1') instanceof Error);
  assert.deepEqual(parseVersion('latest'), { latest: true });
});
