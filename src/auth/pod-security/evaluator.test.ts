import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Evaluator } from './evaluator.ts';
import { aggregate, forbiddenDetail, forbiddenReason, type Rec } from './check.ts';
import { LATEST, version, type Level, type Version } from './policy-level.ts';

const ev = new Evaluator();
const runc = { handlerOf: () => 'runc' };
const proc = { handlerOf: () => 'process' };

function detail(level: Level, spec: Rec, ctx = runc, v: Version = LATEST): string {
  return forbiddenDetail(aggregate(ev.evaluate({ level, version: v }, {}, spec, ctx)));
}

const restrictedOk = {
  securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }],
};

test('baseline: reasons in upstream order, details in parentheses', () => {
  const spec = { hostNetwork: true, containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] };
  assert.equal(detail('baseline', spec), 'host namespaces (hostNetwork=true), privileged (container "c" must not set securityContext.privileged=true)');
  assert.equal(forbiddenReason(aggregate(ev.evaluate({ level: 'baseline', version: LATEST }, {}, spec, runc))), 'host namespaces, privileged');
});

test('privileged runs nothing; restricted adds its checks to baseline', () => {
  assert.deepEqual(ev.evaluate({ level: 'privileged', version: LATEST }, {}, { hostPID: true, containers: [] }, proc), []);
  const plain = { containers: [{ name: 'c', image: 'x' }] };
  assert.equal(detail('baseline', plain), '');
  assert.equal(detail('restricted', plain), [
    'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)',
    'unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"])',
    'runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true)',
    'seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
  ].join(', '));
  assert.equal(detail('restricted', restrictedOk), '');
});

test('restricted replaces the baseline checks it overrides (hostPath reported once, as a restricted volume)', () => {
  const spec = { ...restrictedOk, volumes: [{ name: 'h', hostPath: { path: '/' } }] };
  assert.equal(detail('restricted', spec), 'restricted volume types (volume "h" uses restricted volume type "hostPath")');
  assert.equal(detail('baseline', spec), 'hostPath volumes (volume "h")');
});

test('versions: a check applies from its minimum version on', () => {
  const root = { ...restrictedOk, securityContext: { ...restrictedOk.securityContext, runAsUser: 0 } };
  assert.match(detail('restricted', root), /runAsUser=0 \(pod must not set runAsUser=0\)/);
  assert.doesNotMatch(detail('restricted', root, runc, version(22)), /runAsUser/);
  // Before v1.22 capabilities_restricted does not exist, so the baseline capabilities check applies.
  const caps = { ...restrictedOk, containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { add: ['SYS_ADMIN'] } } }] };
  assert.match(detail('restricted', caps, runc, version(21)), /^non-default capabilities/);
  assert.match(detail('restricted', caps), /unrestricted capabilities/);
  assert.doesNotMatch(detail('restricted', caps), /non-default capabilities/);
});

test("Berth's host-process check is part of baseline and restricted at every version", () => {
  const root = { containers: [{ name: 'c', image: 'host' }] };
  for (const v of [version(0), version(23), LATEST]) {
    assert.match(detail('baseline', root, proc, v), /^host process \(container "c" runs on the host's file system as root/);
  }
  assert.match(detail('restricted', root, proc), /host process/);
  assert.equal(detail('restricted', { ...restrictedOk, securityContext: { ...restrictedOk.securityContext, runAsUser: 1000 } }, proc), '');
});

test('bad check lists are refused', () => {
  const fn = () => ({ allowed: true });
  const v = (minor: number) => version(minor) as ReturnType<typeof version> & { latest: false };
  assert.throws(() => new Evaluator([{ id: 'a', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: fn }] }, { id: 'a', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: fn }] }]), /multiple checks/);
  assert.throws(() => new Evaluator([{ id: 'a', level: 'baseline', versions: [{ minimumVersion: v(2), checkPod: fn }, { minimumVersion: v(1), checkPod: fn }] }]), /strictly increasing/);
  assert.throws(() => new Evaluator([{ id: 'a', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: fn, overrides: ['b'] }] }]), /only restricted/);
});
