/**
 * What a StatefulSet member is (pkg/controller/statefulset/stateful_set_utils.go): its ordinal and
 * name `<set>-<ordinal>`, its identity (name, pod-name and pod-index labels, hostname and subdomain
 * for `<set>-N.<service>` DNS), its storage (one PVC per volumeClaimTemplate, `<template>-<set>-<N>`),
 * its revision label, and the PVC ownership the retention policy asks for. Pure functions.
 */
import type { KubeObject, OwnerReference } from '../../apis/object.ts';
import { newControllerRef, podFromTemplate } from '../controller-utils.ts';
import { REVISION_HASH_LABEL } from '../history/controller-history.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
/** A StatefulSet pod's revision label holds the revision's name (DaemonSets' holds the hash). */
export const STS_REVISION_LABEL = REVISION_HASH_LABEL;

type Rec = Record<string, any>;

export function startOrdinal(set: KubeObject): number {
  return Number(set.spec?.ordinals?.start ?? 0);
}

export function replicasOf(set: KubeObject): number {
  return Number(set.spec?.replicas ?? 1);
}

/** The last ordinal of the set's range (start + replicas − 1). */
export function endOrdinal(set: KubeObject): number {
  return startOrdinal(set) + replicasOf(set) - 1;
}

/** `<set>-<ordinal>` of a pod name, as getParentNameAndOrdinal: -1 when the name has no ordinal. */
export function parentAndOrdinal(pod: KubeObject): { parent: string; ordinal: number } {
  const m = /^(.*)-([0-9]+)$/.exec(pod.metadata.name ?? '');
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return Number.isSafeInteger(n) ? { parent: m[1], ordinal: n } : { parent: '', ordinal: -1 };
}

export function ordinalOf(pod: KubeObject): number {
  return parentAndOrdinal(pod).ordinal;
}

export function podName(set: KubeObject, ordinal: number): string {
  return `${set.metadata.name}-${ordinal}`;
}

export function podInOrdinalRange(pod: KubeObject, set: KubeObject): boolean {
  const o = ordinalOf(pod);
  return o >= startOrdinal(set) && o <= endOrdinal(set);
}

/** `<template>-<set>-<ordinal>`: the member's claim for one volumeClaimTemplate. */
export function claimName(template: KubeObject, set: KubeObject, ordinal: number): string {
  return `${template.metadata?.name}-${set.metadata.name}-${ordinal}`;
}

export function claimTemplates(set: KubeObject): KubeObject[] {
  return Array.isArray(set.spec?.volumeClaimTemplates) ? set.spec.volumeClaimTemplates : [];
}

/** The PVCs a member needs, by claim name (getPersistentVolumeClaims): the template, the set's selector labels. */
export function memberClaims(set: KubeObject, ordinal: number): Map<string, KubeObject> {
  const out = new Map<string, KubeObject>();
  for (const t of claimTemplates(set)) {
    const name = claimName(t, set, ordinal);
    const c = structuredClone(t) as Rec;
    out.set(name, {
      apiVersion: 'v1', kind: 'PersistentVolumeClaim',
      metadata: {
        ...(c.metadata ?? {}), name, namespace: set.metadata.namespace,
        labels: { ...(c.metadata?.labels ?? {}), ...(set.spec?.selector?.matchLabels ?? {}) },
      },
      spec: c.spec ?? {},
    });
  }
  return out;
}

/** The pod's revision (its controller-revision-hash label: the revision's name). */
export function podRevision(pod: KubeObject): string {
  return pod.metadata.labels?.[STS_REVISION_LABEL] ?? '';
}

/** Name, namespace, labels and the hostname/subdomain that make `<pod>.<service>` resolve (initIdentity). */
function setIdentity(set: KubeObject, pod: KubeObject, ordinal: number): void {
  const name = podName(set, ordinal);
  pod.metadata.name = name;
  pod.metadata.namespace = set.metadata.namespace;
  delete pod.metadata.generateName;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) };
  pod.spec.hostname = name;
  if (set.spec?.serviceName) pod.spec.subdomain = set.spec.serviceName;
}

/** The template's volumes with each claim template's volume pointing at the member's PVC (updateStorage). */
function setStorage(set: KubeObject, pod: KubeObject, ordinal: number): void {
  const templates = claimTemplates(set);
  if (!templates.length) return;
  const names = new Set(templates.map((t) => t.metadata?.name));
  const volumes = ((pod.spec.volumes ?? []) as Rec[]).filter((v) => !names.has(v.name));
  for (const t of templates) volumes.push({ name: t.metadata?.name, persistentVolumeClaim: { claimName: claimName(t, set, ordinal) } });
  pod.spec.volumes = volumes;
}

/** A member pod of `set` (its template, identity, storage, revision label); not yet created. */
export function newMemberPod(set: KubeObject, ordinal: number, revision: string): KubeObject {
  const pod = podFromTemplate(set.spec?.template, set, newControllerRef(set, 'apps/v1', 'StatefulSet'));
  setIdentity(set, pod, ordinal);
  setStorage(set, pod, ordinal);
  pod.metadata.labels![STS_REVISION_LABEL] = revision;
  return pod;
}

/** identityMatches: a member's name, namespace and pod-name label are those of its ordinal. */
export function identityMatches(set: KubeObject, pod: KubeObject): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod);
  return ordinal >= 0 && parent === set.metadata.name && pod.metadata.name === podName(set, ordinal)
    && pod.metadata.namespace === set.metadata.namespace && pod.metadata.labels?.[POD_NAME_LABEL] === pod.metadata.name;
}

/** storageMatches: every claim template's volume names the member's PVC. */
export function storageMatches(set: KubeObject, pod: KubeObject): boolean {
  const ordinal = ordinalOf(pod);
  if (ordinal < 0) return false;
  const volumes = new Map(((pod.spec?.volumes ?? []) as Rec[]).map((v) => [v.name, v]));
  return claimTemplates(set).every((t) => volumes.get(t.metadata?.name)?.persistentVolumeClaim?.claimName === claimName(t, set, ordinal));
}

/** The labels updateIdentity repairs on an existing member (the pod spec cannot change once created). */
export function repairedIdentityLabels(pod: KubeObject): Record<string, string> {
  return { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: pod.metadata.name!, [POD_INDEX_LABEL]: String(ordinalOf(pod)) };
}

/** The set's `persistentVolumeClaimRetentionPolicy`, defaulted to Retain / Retain. */
export function retentionPolicy(set: KubeObject): { whenDeleted: string; whenScaled: string } {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  return { whenDeleted: p.whenDeleted ?? 'Retain', whenScaled: p.whenScaled ?? 'Retain' };
}

function ownerRef(obj: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: obj.metadata.name!, uid: obj.metadata.uid! };
}

/**
 * The ownerReferences a member's PVC should carry under the retention policy
 * (updateClaimOwnerRefForSetAndPod): the set when whenDeleted is Delete (the GC deletes the PVC with
 * the set), the pod when whenScaled is Delete and the member is scaled away (with the pod). Other
 * owners are kept. Returns undefined when nothing changes.
 */
export function retentionOwnerRefs(set: KubeObject, pod: KubeObject, claim: KubeObject): OwnerReference[] | undefined {
  const { whenDeleted, whenScaled } = retentionPolicy(set);
  const scaledDown = !podInOrdinalRange(pod, set);
  const wantSet = whenDeleted === 'Delete' && !(whenScaled === 'Delete' && scaledDown);
  const wantPod = whenScaled === 'Delete' && scaledDown;
  const refs = (claim.metadata.ownerReferences ?? []).filter((r) => r.uid !== set.metadata.uid && r.uid !== pod.metadata.uid);
  if (wantSet) refs.push(ownerRef(set, 'apps/v1', 'StatefulSet'));
  if (wantPod && pod.metadata.uid) refs.push(ownerRef(pod, 'v1', 'Pod'));
  const before = (claim.metadata.ownerReferences ?? []).map((r) => r.uid).sort().join(',');
  return refs.map((r) => r.uid).sort().join(',') === before ? undefined : refs;
}

/** A set with its template taken from a revision (ApplyRevision: the revision's replace patch). */
export function applyRevision(set: KubeObject, revision: KubeObject): KubeObject {
  const copy = structuredClone(set);
  const template = structuredClone(revision.data?.spec?.template ?? set.spec.template);
  delete template.$patch;
  copy.spec.template = template;
  return copy;
}
