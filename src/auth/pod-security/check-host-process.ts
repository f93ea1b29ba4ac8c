/**
 * Berth's own baseline check (no upstream equivalent; the nearest is Windows' hostProcess check):
 * a container run by the `process` runtime is a host process on the host's file system, with no
 * image root, capability set or seccomp profile of its own. As root it owns the machine, so it
 * counts as privileged unless it runs as a non-root user (runAsUser set and non-zero, or
 * runAsNonRoot=true, which the agent enforces by refusing to start it as root) without privilege
 * escalation: the process runtime gives a non-root container no_new_privs unless it sets
 * allowPrivilegeEscalation: true (a setuid binary of the host cannot give root back), so only that
 * explicit `true` is refused. Nomad disables its raw_exec driver by default for the same reason.
 *
 * It belongs to every policy version: the hazard does not depend on which version a namespace pins.
 */
import {
  ALLOWED, containersOf, containersPhrase, forbid, nameOf, pluralize, podSecurityContext, securityContextOf, since,
  type Check, type CheckContext, type CheckResult, type Rec,
} from './check.ts';

/** The runtime handler whose containers are host processes. */
export const PROCESS_HANDLER = 'process';

function hostProcess(_m: Rec, spec: Rec, ctx: CheckContext): CheckResult {
  const podSc = podSecurityContext(spec);
  const asRoot: string[] = [];
  const escalating: string[] = [];
  for (const c of containersOf(spec)) {
    if (ctx.handlerOf(nameOf(c)) !== PROCESS_HANDLER) continue;
    const sc = securityContextOf(c) ?? {};
    const uid = sc.runAsUser ?? podSc.runAsUser;
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    const root = uid === 0 || ((uid === undefined || uid === null) && nonRoot !== true);
    if (root) asRoot.push(nameOf(c));
    else if (sc.allowPrivilegeEscalation === true) escalating.push(nameOf(c));
  }
  const n = asRoot.length + escalating.length;
  if (!n) return ALLOWED;
  const parts: string[] = [];
  if (asRoot.length) parts.push(`${containersPhrase(asRoot)} ${pluralize('runs', 'run', asRoot.length)} on the host's file system as root`);
  if (escalating.length) parts.push(`${containersPhrase(escalating)} ${pluralize('runs', 'run', escalating.length)} on the host's file system with allowPrivilegeEscalation=true`);
  return forbid('host process', `${parts.join('; ')}: set runAsUser to a non-zero uid and allowPrivilegeEscalation=false, or run ${n === 1 ? 'it' : 'them'} under runtimeClassName: runc`);
}

export const HOST_PROCESS_CHECK: Check = {
  id: 'hostProcess_berth', level: 'baseline', versions: [{ minimumVersion: since(0), checkPod: hostProcess }],
};
