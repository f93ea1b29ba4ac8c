import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASELINE_CHECKS } from './checks-baseline.ts';
import type { CheckContext, CheckResult, Rec } from './check.ts';
import { olderThan, version, type Version } from './policy-level.ts';

const runc: CheckContext = { handlerOf: () => 'runc' };

/** Runs one baseline check at `at` (default: its newest version). */
function check(id: string, spec: Rec, meta: Rec = {}, at?: Version): CheckResult {
  const c = BASELINE_CHECKS.find((x) => x.id === id)!;
  const fns = c.versions.filter((vc) => !at || !olderThan(at, vc.minimumVersion));
  return fns[fns.length - 1].checkPod(meta, spec, runc);
}

const ctr = (name: string, securityContext?: Rec, extra: Rec = {}) => ({ name, image: 'x', ...(securityContext ? { securityContext } : {}), ...extra });

test('host namespaces name each one set', () => {
  assert.deepEqual(check('hostNamespaces', { hostNetwork: true, hostIPC: true, containers: [ctr('a')] }),
    { allowed: false, forbiddenReason: 'host namespaces', forbiddenDetail: 'hostNetwork=true, hostIPC=true' });
  assert.equal(check('hostNamespaces', { hostNetwork: false, containers: [ctr('a')] }).allowed, true);
});

test('privileged lists init, regular and ephemeral containers in that order', () => {
  const r = check('privileged', {
    containers: [ctr('b', { privileged: true }), ctr('c', { privileged: false })],
    initContainers: [ctr('a', { privileged: true })],
    ephemeralContainers: [ctr('d', { privileged: true })],
  });
  assert.equal(r.forbiddenDetail, 'containers "a", "b", "d" must not set securityContext.privileged=true');
  assert.equal(check('privileged', { containers: [ctr('x', { privileged: true })] }).forbiddenDetail, 'container "x" must not set securityContext.privileged=true');
});

test('capabilities beyond the default set, sorted and distinct', () => {
  const r = check('capabilities_baseline', { containers: [ctr('a', { capabilities: { add: ['NET_RAW', 'CHOWN', 'SYS_ADMIN'] } }), ctr('b', { capabilities: { add: ['NET_RAW'] } }), ctr('c', { capabilities: { add: ['KILL'] } })] });
  assert.deepEqual(r, { allowed: false, forbiddenReason: 'non-default capabilities', forbiddenDetail: 'containers "a", "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add' });
});

test('hostPath volumes and host ports', () => {
  assert.equal(check('hostPathVolumes', { volumes: [{ name: 'h', hostPath: { path: '/' } }, { name: 'e', emptyDir: {} }], containers: [] }).forbiddenDetail, 'volume "h"');
  const ports = check('hostPorts', { containers: [ctr('a'), ctr('b', undefined, { ports: [{ containerPort: 1, hostPort: 20 }] }), ctr('c', undefined, { ports: [{ containerPort: 2, hostPort: 10 }, { containerPort: 3, hostPort: 30 }, { containerPort: 4 }] })] });
  assert.deepEqual(ports, { allowed: false, forbiddenReason: 'hostPort', forbiddenDetail: 'containers "b", "c" use hostPorts 10, 20, 30' });
  assert.equal(check('hostPorts', { containers: [ctr('b', undefined, { ports: [{ hostPort: 20 }] })] }).forbiddenDetail, 'container "b" uses hostPort 20');
});

test('AppArmor: profile types and the beta annotations', () => {
  assert.equal(check('appArmorProfile', { securityContext: { appArmorProfile: { type: 'Unconfined' } }, containers: [ctr('a')] }).forbiddenDetail, 'pod must not set AppArmor profile type to "Unconfined"');
  const r = check('appArmorProfile', { containers: [ctr('foo', { appArmorProfile: { type: 'Unconfined' } }), ctr('ok', { appArmorProfile: { type: 'Localhost' } })] },
    { annotations: { 'container.apparmor.security.beta.kubernetes.io/foo': 'unconfined', 'container.apparmor.security.beta.kubernetes.io/ok': 'runtime/default' } });
  assert.deepEqual(r, {
    allowed: false, forbiddenReason: 'forbidden AppArmor profiles',
    forbiddenDetail: 'container "foo" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/foo="unconfined""',
  });
});

test('SELinux options: types, user and role, pod and containers', () => {
  const r = check('seLinuxOptions', {
    securityContext: { seLinuxOptions: { type: 'foo', user: 'u', role: 'r' } },
    containers: [ctr('e', { seLinuxOptions: { type: 'bar' } }), ctr('f', { seLinuxOptions: { type: 'container_t' } })],
  });
  assert.equal(r.forbiddenDetail, 'pod and container "e" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set');
  const engine = { containers: [ctr('a', { seLinuxOptions: { type: 'container_engine_t' } })] };
  assert.equal(check('seLinuxOptions', engine, {}, version(30)).allowed, false, 'container_engine_t only from v1.31');
  assert.equal(check('seLinuxOptions', engine).allowed, true);
});

test('procMount other than Default', () => {
  assert.equal(check('procMount', { containers: [ctr('a', { procMount: 'Unmasked' }), ctr('b', { procMount: 'Default' })] }).forbiddenDetail, 'container "a" must not set securityContext.procMount to "Unmasked"');
});

test('seccomp: fields from v1.19, the alpha annotations before', () => {
  const spec = { securityContext: { seccompProfile: { type: 'Unconfined' } }, containers: [ctr('a', { seccompProfile: { type: 'Unconfined' } }), ctr('b', { seccompProfile: { type: 'RuntimeDefault' } })] };
  assert.equal(check('seccompProfile_baseline', spec).forbiddenDetail, 'pod and container "a" must not set securityContext.seccompProfile.type to "Unconfined"');
  assert.equal(check('seccompProfile_baseline', spec, {}, version(18)).allowed, true);
  const meta = { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined', 'container.seccomp.security.alpha.kubernetes.io/a': 'localhost/x' } };
  assert.equal(check('seccompProfile_baseline', spec, meta, version(18)).forbiddenDetail, 'forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined"');
});

test('sysctls: the safe set grows with the version', () => {
  const spec = { securityContext: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '1' }, { name: 'kernel.msgmax', value: '1' }, { name: 'net.ipv4.tcp_keepalive_time', value: '1' }] }, containers: [] };
  assert.equal(check('sysctls', spec).forbiddenDetail, 'kernel.msgmax');
  assert.equal(check('sysctls', spec, {}, version(31)).forbiddenDetail, 'net.ipv4.tcp_rmem, kernel.msgmax');
  assert.equal(check('sysctls', spec, {}, version(28)).forbiddenDetail, 'net.ipv4.tcp_rmem, kernel.msgmax, net.ipv4.tcp_keepalive_time');
});

test('Windows host processes', () => {
  assert.equal(check('windowsHostProcess', { securityContext: { windowsOptions: { hostProcess: true } }, containers: [ctr('a', { windowsOptions: { hostProcess: true } })] }).forbiddenDetail,
    'pod and container "a" must not set securityContext.windowsOptions.hostProcess=true');
});

test('a pod with nothing set passes every baseline check; odd shapes do not throw', () => {
  for (const c of BASELINE_CHECKS) {
    assert.equal(check(c.id, { containers: [ctr('a')] }).allowed, true, c.id);
    assert.doesNotThrow(() => check(c.id, { containers: 'nope', volumes: [null, 3], securityContext: null } as Rec, { annotations: null } as Rec), c.id);
  }
});
