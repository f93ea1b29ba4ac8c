/**
 * Reconciling a default role or binding with what is stored (pkg/registry/rbac/reconciliation, in
 * the union mode kube-apiserver's rbac/bootstrap-roles post-start hook uses): a missing object is
 * created; a stored one gains the default's missing labels, annotations, rules, aggregation
 * selectors and subjects — nothing a user added is removed; a binding whose roleRef differs is
 * recreated; an object annotated `rbac.authorization.kubernetes.io/autoupdate: "false"` is left alone.
 */
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apis/object.ts';
import { AUTOUPDATE_ANNOTATION, type Subject } from './policy-builders.ts';
import { uncoveredRules, type PolicyRule } from './policy-rule.ts';

export type Reconciliation =
  | { op: 'none' }
  | { op: 'create' | 'update' | 'recreate'; object: KubeObject }
  /** Differs from the default, but its owner turned autoupdate off. */
  | { op: 'protected' };

/** Expected first, existing over it: existing values win, missing keys are added. */
function mergeMaps(expected: Record<string, string> | undefined, existing: Record<string, string> | undefined): Record<string, string> {
  return { ...(expected ?? {}), ...(existing ?? {}) };
}

/** Copies `existing` with the default's labels and annotations merged in; `changed` if that added any. */
function mergedMeta(expected: KubeObject, existing: KubeObject): { object: KubeObject; changed: boolean } {
  const object = structuredClone(existing);
  const labels = mergeMaps(expected.metadata.labels, existing.metadata.labels);
  const annotations = mergeMaps(expected.metadata.annotations, existing.metadata.annotations);
  const changed = !isDeepStrictEqual(labels, existing.metadata.labels ?? {}) || !isDeepStrictEqual(annotations, existing.metadata.annotations ?? {});
  object.metadata.labels = labels;
  object.metadata.annotations = annotations;
  return { object, changed };
}

const isProtected = (existing: KubeObject) => existing.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';

/** A default Role or ClusterRole against the stored one. */
export function reconcileRole(expected: KubeObject, existing: KubeObject | undefined): Reconciliation {
  if (!existing) return { op: 'create', object: structuredClone(expected) };
  let { object, changed } = mergedMeta(expected, existing);
  const missing = uncoveredRules((existing.rules ?? []) as PolicyRule[], (expected.rules ?? []) as PolicyRule[]);
  if (missing.length) {
    object.rules = [...(existing.rules ?? []), ...missing];
    changed = true;
  }
  const wanted: unknown[] = expected.aggregationRule?.clusterRoleSelectors ?? [];
  const have: unknown[] = existing.aggregationRule?.clusterRoleSelectors ?? [];
  const missingSelectors = wanted.filter((w) => !have.some((h) => isDeepStrictEqual(h, w)));
  if (missingSelectors.length) {
    object.aggregationRule = { ...(existing.aggregationRule ?? {}), clusterRoleSelectors: [...have, ...missingSelectors] };
    changed = true;
  }
  if (!changed) return { op: 'none' };
  return isProtected(existing) ? { op: 'protected' } : { op: 'update', object };
}

const sameSubject = (a: Subject, b: Subject) =>
  a.kind === b.kind && a.name === b.name && (a.namespace ?? '') === (b.namespace ?? '') && (a.apiGroup ?? '') === (b.apiGroup ?? '');

/** A default RoleBinding or ClusterRoleBinding against the stored one. */
export function reconcileBinding(expected: KubeObject, existing: KubeObject | undefined): Reconciliation {
  if (!existing) return { op: 'create', object: structuredClone(expected) };
  const ref = (o: KubeObject) => [o.roleRef?.apiGroup, o.roleRef?.kind, o.roleRef?.name];
  if (!isDeepStrictEqual(ref(expected), ref(existing))) {
    return isProtected(existing) ? { op: 'protected' } : { op: 'recreate', object: structuredClone(expected) };
  }
  let { object, changed } = mergedMeta(expected, existing);
  const have: Subject[] = existing.subjects ?? [];
  const missing = (expected.subjects ?? []).filter((s: Subject) => !have.some((h) => sameSubject(h, s)));
  if (missing.length) {
    object.subjects = [...have, ...missing];
    changed = true;
  }
  if (!changed) return { op: 'none' };
  return isProtected(existing) ? { op: 'protected' } : { op: 'update', object };
}
