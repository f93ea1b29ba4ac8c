import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RESTRICTED_CHECKS } from './checks-restricted.ts';
import type { CheckResult, Rec } from './check.ts';
import { olderThan, version, type Version } from './policy-level.ts';

function check(id: string, spec: Rec, at?: Version): CheckResult {
  const c = RESTRICTED_CHECKS.find((x) => x.id === id)!;
  const fns = c.versions.filter((vc) => !at || !olderThan(at, vc.minimumVersion));
  return fns[fns.length - 1].checkPod({}, spec, { handlerOf: () => 'runc' });
}

const ctr = (name: string, securityContext?: Rec) => ({ name, image: 'x', ...(securityContext ? { securityContext } : {}) });

test('restricted volume types, named by the first source they set', () => {
  const r = check('restrictedVolumes', { volumes: [
    { name: 'a', hostPath: { path: '/' } }, { name: 'b', emptyDir: {} }, { name: 'c', nfs: {} }, { name: 'd', somethingNew: {} }, { name: 'e', projected: {} },
  ] });
  assert.deepEqual(r, { allowed: false, forbiddenReason: 'restricted volume types', forbiddenDetail: 'volumes "a", "c", "d" use restricted volume types "hostPath", "nfs", "unknown"' });
  assert.equal(check('restrictedVolumes', { volumes: [{ name: 'x', gitRepo: {} }] }).forbiddenDetail, 'volume "x" uses restricted volume type "gitRepo"');
});

test('allowPrivilegeEscalation must be false; Windows pods are exempt from v1.25', () => {
  const spec = { containers: [ctr('a'), ctr('b', { allowPrivilegeEscalation: true }), ctr('c', { allowPrivilegeEscalation: false })] };
  assert.equal(check('allowPrivilegeEscalation', spec).forbiddenDetail, 'containers "a", "b" must set securityContext.allowPrivilegeEscalation=false');
  assert.equal(check('allowPrivilegeEscalation', { ...spec, os: { name: 'windows' } }).allowed, true);
  assert.equal(check('allowPrivilegeEscalation', { ...spec, os: { name: 'windows' } }, version(24)).allowed, false);
});

test('runAsNonRoot: explicit false first, then the containers the pod does not cover', () => {
  assert.equal(check('runAsNonRoot', { securityContext: { runAsNonRoot: false }, containers: [ctr('a', { runAsNonRoot: false }), ctr('b', { runAsNonRoot: true })] }).forbiddenDetail,
    'pod and container "a" must not set securityContext.runAsNonRoot=false');
  assert.equal(check('runAsNonRoot', { containers: [ctr('a'), ctr('b', { runAsNonRoot: true }), ctr('c')] }).forbiddenDetail,
    'pod or containers "a", "c" must set securityContext.runAsNonRoot=true');
  assert.equal(check('runAsNonRoot', { securityContext: { runAsNonRoot: true }, containers: [ctr('a')] }).allowed, true);
});

test('runAsUser=0', () => {
  assert.equal(check('runAsUser', { securityContext: { runAsUser: 0 }, containers: [ctr('a', { runAsUser: 0 }), ctr('b', { runAsUser: 1000 })] }).forbiddenDetail, 'pod and container "a" must not set runAsUser=0');
  assert.equal(check('runAsUser', { containers: [ctr('a')] }).allowed, true);
});

test('seccomp must be set, by the pod or every container', () => {
  assert.equal(check('seccompProfile_restricted', { containers: [ctr('a'), ctr('b', { seccompProfile: { type: 'Localhost' } })] }).forbiddenDetail,
    'pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"');
  assert.equal(check('seccompProfile_restricted', { securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, containers: [ctr('a', { seccompProfile: { type: 'Unconfined' } })] }).forbiddenDetail,
    'container "a" must not set securityContext.seccompProfile.type to "Unconfined"');
  assert.equal(check('seccompProfile_restricted', { securityContext: { seccompProfile: { type: 'RuntimeDefault' } }, containers: [ctr('a')] }).allowed, true);
});

test('capabilities: drop ALL, add at most NET_BIND_SERVICE', () => {
  const r = check('capabilities_restricted', { containers: [ctr('a'), ctr('b', { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'CHOWN'] } }), ctr('c', { capabilities: { drop: ['NET_RAW'] } })] });
  assert.equal(r.forbiddenDetail, 'containers "a", "c" must set securityContext.capabilities.drop=["ALL"]; container "b" must not include "CHOWN" in securityContext.capabilities.add');
});
