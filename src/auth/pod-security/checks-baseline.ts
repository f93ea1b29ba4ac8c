/**
 * The baseline level's checks, as k8s.io/pod-security-admission/policy defines them in Kubernetes
 * 1.32 (one check_*.go each upstream): what a pod may not do even in a namespace that only
 * prevents known privilege escalations — host namespaces, privileged containers, added
 * capabilities, hostPath volumes, host ports, AppArmor / SELinux / seccomp overrides, proc mounts,
 * unsafe sysctls, Windows host processes. Messages are upstream's word for word.
 */
import {
  ALLOWED, containersOf, containersPhrase, forbid, joinQuote, nameOf, pluralize, podSecurityContext,
  securityContextOf, since as v, sortedSet, type Check, type CheckResult, type Rec,
} from './check.ts';

/** Which of the pod and its containers set a bad value: `pod and containers "a", "b"`. */
function setters(pod: boolean, containers: string[]): string[] {
  const out = pod ? ['pod'] : [];
  if (containers.length) out.push(containersPhrase(containers));
  return out;
}

function hostNamespaces(_m: Rec, spec: Rec): CheckResult {
  const used = [
    spec.hostNetwork === true && 'hostNetwork=true',
    spec.hostPID === true && 'hostPID=true',
    spec.hostIPC === true && 'hostIPC=true',
  ].filter((x): x is string => !!x);
  return used.length ? forbid('host namespaces', used.join(', ')) : ALLOWED;
}

function privileged(_m: Rec, spec: Rec): CheckResult {
  const bad = containersOf(spec).filter((c) => securityContextOf(c)?.privileged === true).map(nameOf);
  return bad.length ? forbid('privileged', `${containersPhrase(bad)} must not set securityContext.privileged=true`) : ALLOWED;
}

const DEFAULT_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

function capabilitiesBaseline(_m: Rec, spec: Rec): CheckResult {
  const bad: string[] = [];
  const caps: string[] = [];
  for (const c of containersOf(spec)) {
    const add = securityContextOf(c)?.capabilities?.add;
    const extra = (Array.isArray(add) ? add : []).map(String).filter((x) => !DEFAULT_CAPABILITIES.has(x));
    if (extra.length) { bad.push(nameOf(c)); caps.push(...extra); }
  }
  return bad.length
    ? forbid('non-default capabilities', `${containersPhrase(bad)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`)
    : ALLOWED;
}

function volumesOf(spec: Rec): Rec[] {
  return Array.isArray(spec.volumes) ? spec.volumes.filter((x: unknown): x is Rec => !!x && typeof x === 'object') : [];
}

function hostPathVolumes(_m: Rec, spec: Rec): CheckResult {
  const bad = volumesOf(spec).filter((vol) => vol.hostPath != null).map((vol) => String(vol.name ?? ''));
  return bad.length ? forbid('hostPath volumes', `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)}`) : ALLOWED;
}

function hostPorts(_m: Rec, spec: Rec): CheckResult {
  const bad: string[] = [];
  const ports: string[] = [];
  for (const c of containersOf(spec)) {
    const used = (Array.isArray(c.ports) ? c.ports : []).map((p: Rec) => p?.hostPort).filter((p: unknown) => p !== undefined && p !== null && p !== 0);
    if (used.length) { bad.push(nameOf(c)); ports.push(...used.map(String)); }
  }
  if (!bad.length) return ALLOWED;
  const list = sortedSet(ports);
  return forbid('hostPort', `${containersPhrase(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('hostPort', 'hostPorts', list.length)} ${list.join(', ')}`);
}

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';

function appArmorProfile(meta: Rec, spec: Rec): CheckResult {
  const okType = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';
  const badValues: string[] = [];
  const podSc = podSecurityContext(spec);
  const podBad = !!podSc.appArmorProfile && !okType(podSc.appArmorProfile.type);
  if (podBad) badValues.push(String(podSc.appArmorProfile.type ?? ''));
  const badContainers: string[] = [];
  for (const c of containersOf(spec)) {
    const p = securityContextOf(c)?.appArmorProfile;
    if (p && !okType(p.type)) { badContainers.push(nameOf(c)); badValues.push(String(p.type ?? '')); }
  }
  const who = setters(podBad, badContainers);
  const values = sortedSet(badValues);
  const annotations = Object.entries((meta.annotations ?? {}) as Record<string, string>)
    .filter(([k, val]) => k.startsWith(APPARMOR_ANNOTATION_PREFIX) && !(val === '' || val === 'runtime/default' || String(val).startsWith('localhost/')))
    .map(([k, val]) => `${k}=${JSON.stringify(val)}`)
    .sort();
  if (annotations.length) {
    values.push(...annotations);
    who.push(pluralize('annotation', 'annotations', annotations.length));
  }
  if (!who.length) return ALLOWED;
  return forbid(pluralize('forbidden AppArmor profile', 'forbidden AppArmor profiles', values.length), `${who.join(' and ')} must not set AppArmor profile type to ${joinQuote(values)}`);
}

function seLinuxOptions(allowedTypes: ReadonlySet<string>) {
  return (_m: Rec, spec: Rec): CheckResult => {
    const badTypes: string[] = [];
    let setUser = false;
    let setRole = false;
    const valid = (o: Rec): boolean => {
      let ok = true;
      const type = typeof o.type === 'string' ? o.type : '';
      if (!allowedTypes.has(type)) { ok = false; badTypes.push(type); }
      if (o.user) { ok = false; setUser = true; }
      if (o.role) { ok = false; setRole = true; }
      return ok;
    };
    const podOpts = podSecurityContext(spec).seLinuxOptions;
    const podBad = !!podOpts && typeof podOpts === 'object' && !valid(podOpts);
    const bad = containersOf(spec).filter((c) => {
      const o = securityContextOf(c)?.seLinuxOptions;
      return !!o && typeof o === 'object' && !valid(o);
    }).map(nameOf);
    const who = setters(podBad, bad);
    if (!who.length) return ALLOWED;
    const data: string[] = [];
    const types = sortedSet(badTypes);
    if (types.length) data.push(`${pluralize('type', 'types', types.length)} ${joinQuote(types)}`);
    if (setUser) data.push('user may not be set');
    if (setRole) data.push('role may not be set');
    return forbid('seLinuxOptions', `${who.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}`);
  };
}

const SELINUX_TYPES_1_0 = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const SELINUX_TYPES_1_31 = new Set([...SELINUX_TYPES_1_0, 'container_engine_t']);

function procMount(_m: Rec, spec: Rec): CheckResult {
  const bad: string[] = [];
  const types: string[] = [];
  for (const c of containersOf(spec)) {
    const pm = securityContextOf(c)?.procMount;
    if (pm !== undefined && pm !== null && pm !== 'Default') { bad.push(nameOf(c)); types.push(String(pm)); }
  }
  return bad.length ? forbid('procMount', `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}`) : ALLOWED;
}

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';

/** v1.0–v1.18: the alpha seccomp annotations. */
function seccompBaselineAnnotations(meta: Rec, spec: Rec): CheckResult {
  const annotations = (meta.annotations ?? {}) as Record<string, string>;
  const ok = (val: string) => val === 'runtime/default' || val === 'docker/default' || String(val).startsWith('localhost/');
  const bad: string[] = [];
  const check = (key: string) => {
    if (key in annotations && !ok(annotations[key])) bad.push(`${key}=${JSON.stringify(annotations[key])}`);
  };
  check(SECCOMP_POD_ANNOTATION);
  for (const c of containersOf(spec)) check(SECCOMP_CONTAINER_ANNOTATION_PREFIX + nameOf(c));
  const list = sortedSet(bad);
  return list.length ? forbid('seccompProfile', `forbidden ${pluralize('annotation', 'annotations', list.length)} ${list.join(', ')}`) : ALLOWED;
}

export function validSeccompType(t: unknown): boolean {
  return t === 'RuntimeDefault' || t === 'Localhost';
}

/** v1.19+: securityContext.seccompProfile.type may be RuntimeDefault, Localhost or unset. */
function seccompBaselineFields(_m: Rec, spec: Rec): CheckResult {
  const values: string[] = [];
  const podProfile = podSecurityContext(spec).seccompProfile;
  const podBad = !!podProfile && !validSeccompType(podProfile.type);
  if (podBad) values.push(String(podProfile.type ?? ''));
  const bad: string[] = [];
  for (const c of containersOf(spec)) {
    const p = securityContextOf(c)?.seccompProfile;
    if (p && !validSeccompType(p.type)) { bad.push(nameOf(c)); values.push(String(p.type ?? '')); }
  }
  const who = setters(podBad, bad);
  return who.length ? forbid('seccompProfile', `${who.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`) : ALLOWED;
}

const SYSCTLS_1_0 = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start'];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [...SYSCTLS_1_27, 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];

function sysctls(allowed: readonly string[]) {
  const set = new Set(allowed);
  return (_m: Rec, spec: Rec): CheckResult => {
    const list = podSecurityContext(spec).sysctls;
    const bad = (Array.isArray(list) ? list : []).map((s: Rec) => String(s?.name ?? '')).filter((n: string) => !set.has(n));
    return bad.length ? forbid('forbidden sysctls', bad.join(', ')) : ALLOWED;
  };
}

function windowsHostProcess(_m: Rec, spec: Rec): CheckResult {
  const bad = containersOf(spec).filter((c) => securityContextOf(c)?.windowsOptions?.hostProcess === true).map(nameOf);
  const podBad = podSecurityContext(spec).windowsOptions?.hostProcess === true;
  const who = setters(podBad, bad);
  return who.length ? forbid('hostProcess', `${who.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true`) : ALLOWED;
}

/** The baseline checks, each with the versions it changed in. */
export const BASELINE_CHECKS: readonly Check[] = [
  { id: 'appArmorProfile', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: appArmorProfile }] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: capabilitiesBaseline }] },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: hostPorts }] },
  { id: 'privileged', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: privileged }] },
  { id: 'procMount', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: procMount }] },
  {
    id: 'seLinuxOptions', level: 'baseline', versions: [
      { minimumVersion: v(0), checkPod: seLinuxOptions(SELINUX_TYPES_1_0) },
      { minimumVersion: v(31), checkPod: seLinuxOptions(SELINUX_TYPES_1_31) },
    ],
  },
  {
    id: 'seccompProfile_baseline', level: 'baseline', versions: [
      { minimumVersion: v(0), checkPod: seccompBaselineAnnotations },
      { minimumVersion: v(19), checkPod: seccompBaselineFields },
    ],
  },
  {
    id: 'sysctls', level: 'baseline', versions: [
      { minimumVersion: v(0), checkPod: sysctls(SYSCTLS_1_0) },
      { minimumVersion: v(27), checkPod: sysctls(SYSCTLS_1_27) },
      { minimumVersion: v(29), checkPod: sysctls(SYSCTLS_1_29) },
      { minimumVersion: v(32), checkPod: sysctls(SYSCTLS_1_32) },
    ],
  },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ minimumVersion: v(0), checkPod: windowsHostProcess }] },
];
