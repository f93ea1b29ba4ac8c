/**
 * The restricted level's checks, as k8s.io/pod-security-admission/policy defines them in
 * Kubernetes 1.32: hardening best practice on top of baseline — only ephemeral-friendly volume
 * types, no privilege escalation, non-root users, a seccomp profile, and capabilities dropped to
 * NET_BIND_SERVICE at most. Some replace a baseline check (`overrides`), as upstream's do.
 */
import {
  ALLOWED, containersOf, containersPhrase, forbid, isWindows, joinQuote, nameOf, pluralize, podSecurityContext,
  securityContextOf, since as v, sortedSet, type Check, type CheckResult, type Rec,
} from './check.ts';
import { validSeccompType } from './checks-baseline.ts';

/** Pods on Windows cannot set these fields; from v1.25 on they pass the check (spec.os.name). */
function exceptWindows(check: (m: Rec, s: Rec) => CheckResult) {
  return (m: Rec, s: Rec): CheckResult => (isWindows(s) ? ALLOWED : check(m, s));
}

const ALLOWED_VOLUME_SOURCES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret'];
/** Upstream's switch order: the first of these a volume sets names its type. */
const RESTRICTED_VOLUME_SOURCES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs', 'rbd', 'flexVolume',
  'cinder', 'cephfs', 'flocker', 'fc', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk',
  'portworxVolume', 'scaleIO', 'storageos',
];

function restrictedVolumes(_m: Rec, spec: Rec): CheckResult {
  const bad: string[] = [];
  const types: string[] = [];
  for (const vol of Array.isArray(spec.volumes) ? spec.volumes as Rec[] : []) {
    if (!vol || typeof vol !== 'object') continue;
    if (ALLOWED_VOLUME_SOURCES.some((k) => vol[k] != null)) continue;
    bad.push(String(vol.name ?? ''));
    types.push(RESTRICTED_VOLUME_SOURCES.find((k) => vol[k] != null) ?? 'unknown');
  }
  if (!bad.length) return ALLOWED;
  const list = sortedSet(types);
  return forbid('restricted volume types', `${pluralize('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${pluralize('uses', 'use', bad.length)} ${pluralize('restricted volume type', 'restricted volume types', list.length)} ${joinQuote(list)}`);
}

function allowPrivilegeEscalation(_m: Rec, spec: Rec): CheckResult {
  const bad = containersOf(spec).filter((c) => securityContextOf(c)?.allowPrivilegeEscalation !== false).map(nameOf);
  return bad.length ? forbid('allowPrivilegeEscalation != false', `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false`) : ALLOWED;
}

function runAsNonRoot(_m: Rec, spec: Rec): CheckResult {
  const who: string[] = [];
  const podValue = podSecurityContext(spec).runAsNonRoot;
  if (podValue === false) who.push('pod');
  const podNonRoot = podValue === true;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const value = securityContextOf(c)?.runAsNonRoot;
    if (value === true || value === false) {
      if (value === false) explicit.push(nameOf(c));
    } else if (!podNonRoot) {
      implicit.push(nameOf(c));
    }
  }
  if (explicit.length) who.push(containersPhrase(explicit));
  if (who.length) return forbid('runAsNonRoot != true', `${who.join(' and ')} must not set securityContext.runAsNonRoot=false`);
  if (implicit.length) return forbid('runAsNonRoot != true', `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true`);
  return ALLOWED;
}

function runAsUser(_m: Rec, spec: Rec): CheckResult {
  const who: string[] = [];
  if (podSecurityContext(spec).runAsUser === 0) who.push('pod');
  const bad = containersOf(spec).filter((c) => securityContextOf(c)?.runAsUser === 0).map(nameOf);
  if (bad.length) who.push(containersPhrase(bad));
  return who.length ? forbid('runAsUser=0', `${who.join(' and ')} must not set runAsUser=0`) : ALLOWED;
}

function seccompProfileRestricted(_m: Rec, spec: Rec): CheckResult {
  const who: string[] = [];
  const values: string[] = [];
  const podProfile = podSecurityContext(spec).seccompProfile;
  let podSet = false;
  if (podProfile) {
    if (!validSeccompType(podProfile.type)) { who.push('pod'); values.push(String(podProfile.type ?? '')); } else podSet = true;
  }
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const p = securityContextOf(c)?.seccompProfile;
    if (p) {
      if (!validSeccompType(p.type)) { explicit.push(nameOf(c)); values.push(String(p.type ?? '')); }
    } else if (!podSet) {
      implicit.push(nameOf(c));
    }
  }
  if (explicit.length) who.push(containersPhrase(explicit));
  if (who.length) return forbid('seccompProfile', `${who.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}`);
  if (implicit.length) return forbid('seccompProfile', `pod or ${containersPhrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`);
  return ALLOWED;
}

function capabilitiesRestricted(_m: Rec, spec: Rec): CheckResult {
  const missingDropAll: string[] = [];
  const addingForbidden: string[] = [];
  const forbidden: string[] = [];
  for (const c of containersOf(spec)) {
    const caps = securityContextOf(c)?.capabilities;
    if (!caps || typeof caps !== 'object') { missingDropAll.push(nameOf(c)); continue; }
    if (!(Array.isArray(caps.drop) && caps.drop.includes('ALL'))) missingDropAll.push(nameOf(c));
    const extra = (Array.isArray(caps.add) ? caps.add : []).map(String).filter((x: string) => x !== 'NET_BIND_SERVICE');
    if (extra.length) { addingForbidden.push(nameOf(c)); forbidden.push(...extra); }
  }
  const details: string[] = [];
  if (missingDropAll.length) details.push(`${containersPhrase(missingDropAll)} must set securityContext.capabilities.drop=["ALL"]`);
  if (addingForbidden.length) details.push(`${containersPhrase(addingForbidden)} must not include ${joinQuote(sortedSet(forbidden))} in securityContext.capabilities.add`);
  return details.length ? forbid('unrestricted capabilities', details.join('; ')) : ALLOWED;
}

/** The restricted checks, each with the versions it changed in and the baseline checks it replaces. */
export const RESTRICTED_CHECKS: readonly Check[] = [
  {
    id: 'allowPrivilegeEscalation', level: 'restricted', versions: [
      { minimumVersion: v(8), checkPod: allowPrivilegeEscalation },
      { minimumVersion: v(25), checkPod: exceptWindows(allowPrivilegeEscalation) },
    ],
  },
  {
    id: 'capabilities_restricted', level: 'restricted', versions: [
      { minimumVersion: v(22), checkPod: capabilitiesRestricted, overrides: ['capabilities_baseline'] },
      { minimumVersion: v(25), checkPod: exceptWindows(capabilitiesRestricted), overrides: ['capabilities_baseline'] },
    ],
  },
  { id: 'restrictedVolumes', level: 'restricted', versions: [{ minimumVersion: v(0), checkPod: restrictedVolumes, overrides: ['hostPathVolumes'] }] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ minimumVersion: v(0), checkPod: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ minimumVersion: v(23), checkPod: runAsUser }] },
  {
    id: 'seccompProfile_restricted', level: 'restricted', versions: [
      { minimumVersion: v(19), checkPod: seccompProfileRestricted, overrides: ['seccompProfile_baseline'] },
      { minimumVersion: v(25), checkPod: exceptWindows(seccompProfileRestricted), overrides: ['seccompProfile_baseline'] },
    ],
  },
];
