import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOST_PROCESS_CHECK } from './check-host-process.ts';
import type { Rec } from './check.ts';

/** `handlers`: container name → runtime handler (default process). */
function check(spec: Rec, handlers: Record<string, string> = {}) {
  return HOST_PROCESS_CHECK.versions[0].checkPod({}, spec, { handlerOf: (n) => handlers[n] ?? 'process' });
}

const ctr = (name: string, securityContext?: Rec) => ({ name, image: 'host', ...(securityContext ? { securityContext } : {}) });
const safe = { runAsUser: 1000, allowPrivilegeEscalation: false };

test('a root process container is a host process, with the way out in the message', () => {
  assert.deepEqual(check({ containers: [ctr('c')] }), {
    allowed: false, forbiddenReason: 'host process',
    forbiddenDetail: `container "c" runs on the host's file system as root: set runAsUser to a non-zero uid and allowPrivilegeEscalation=false, or run it under runtimeClassName: runc`,
  });
  assert.equal(check({ containers: [ctr('c', { runAsUser: 0, allowPrivilegeEscalation: false })] }).allowed, false, 'runAsUser: 0 is root');
});

test('non-root without privilege escalation is admitted: a uid, or runAsNonRoot (the agent refuses root)', () => {
  assert.equal(check({ containers: [ctr('c', safe)] }).allowed, true);
  assert.equal(check({ containers: [ctr('c', { runAsUser: 1000 })] }).allowed, true, 'the process runtime sets no_new_privs for non-root unless asked not to');
  assert.equal(check({ securityContext: { runAsUser: 1000 }, containers: [ctr('c', { allowPrivilegeEscalation: false })] }).allowed, true, 'the pod-level uid counts');
  assert.equal(check({ securityContext: { runAsNonRoot: true }, containers: [ctr('c', { allowPrivilegeEscalation: false })] }).allowed, true);
  assert.equal(check({ securityContext: { runAsUser: 1000 }, containers: [ctr('c', { runAsUser: 0, allowPrivilegeEscalation: false })] }).allowed, false, 'a container uid 0 beats the pod');
});

test('non-root but asking for privilege escalation is refused too; several containers in one message', () => {
  const r = check({ initContainers: [ctr('i')], containers: [ctr('a', { runAsUser: 1000, allowPrivilegeEscalation: true }), ctr('b', { runAsUser: 1000, allowPrivilegeEscalation: true }), ctr('ok', safe)] });
  assert.equal(r.forbiddenDetail, `container "i" runs on the host's file system as root; containers "a", "b" run on the host's file system with allowPrivilegeEscalation=true: set runAsUser to a non-zero uid and allowPrivilegeEscalation=false, or run them under runtimeClassName: runc`);
});

test('containers of other runtimes are not host processes', () => {
  assert.equal(check({ containers: [ctr('web'), ctr('agent', safe)] }, { web: 'runc' }).allowed, true);
  assert.equal(check({ containers: [ctr('web'), ctr('agent')] }, { web: 'runc' }).forbiddenDetail?.startsWith('container "agent" runs'), true);
});
