/**
 * Validation of the four RBAC kinds, as Kubernetes' pkg/apis/rbac/validation: rules need verbs, and
 * either resources (with API groups) or non-resource URLs (only in ClusterRoles, each starting with
 * '/'); a binding's roleRef names a Role or ClusterRole of rbac.authorization.k8s.io and never
 * changes; subjects are Users, Groups (apiGroup rbac.authorization.k8s.io) or ServiceAccounts
 * (apiGroup '', a namespace in ClusterRoleBindings). Berth adds one check: verbs must be known
 * (auth/rbac/verbs.ts), so a typo is a 422 instead of a rule that never matches.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isDNS1123Subdomain } from '../../apis/names.ts';
import { isKnownVerb, KNOWN_VERBS } from '../../auth/rbac/verbs.ts';
import { validateLabelSelector } from './label-selector.ts';
import { isValidPathSegmentName } from './object-meta.ts';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

const isList = (v: unknown): v is unknown[] => Array.isArray(v);
const strings = (v: unknown): string[] => (isList(v) ? v.filter((s): s is string => typeof s === 'string') : []);

/** A list of strings at `path`, or the type error; absent is fine. */
function stringList(v: unknown, path: string): FieldError[] {
  if (v === undefined || v === null) return [];
  if (!isList(v)) return [fieldError.typeInvalid(path, v, 'must be a list of strings')];
  return v.flatMap((s, i) => (typeof s === 'string' ? [] : [fieldError.typeInvalid(`${path}[${i}]`, s, 'must be a string')]));
}

/** ValidatePolicyRule; `namespaced` for a Role's rules (no non-resource URLs there). */
export function validatePolicyRule(rule: unknown, namespaced: boolean, path: string): FieldError[] {
  if (typeof rule !== 'object' || rule === null || isList(rule)) return [fieldError.typeInvalid(path, rule, 'must be an object')];
  const r = rule as Record<string, unknown>;
  const errs: FieldError[] = [];
  for (const k of ['verbs', 'apiGroups', 'resources', 'resourceNames', 'nonResourceURLs']) errs.push(...stringList(r[k], `${path}.${k}`));
  if (errs.length) return errs;
  const verbs = strings(r.verbs);
  if (verbs.length === 0) errs.push(fieldError.required(`${path}.verbs`, 'verbs must contain at least one value'));
  verbs.forEach((v, i) => { if (!isKnownVerb(v)) errs.push(fieldError.notSupported(`${path}.verbs[${i}]`, v, KNOWN_VERBS)); });
  const urls = strings(r.nonResourceURLs);
  if (urls.length > 0) {
    if (namespaced) errs.push(fieldError.invalid(`${path}.nonResourceURLs`, urls, 'namespaced rules cannot apply to non-resource URLs'));
    if (strings(r.apiGroups).length || strings(r.resources).length || strings(r.resourceNames).length) {
      errs.push(fieldError.invalid(`${path}.nonResourceURLs`, urls, 'rules cannot apply to both regular resources and non-resource URLs'));
    }
    // A URL that is not a path (or '*') can never match a request (Berth's check, as for verbs).
    urls.forEach((u, i) => { if (u !== '*' && !u.startsWith('/')) errs.push(fieldError.invalid(`${path}.nonResourceURLs[${i}]`, u, "must be '*' or start with '/'")); });
    return errs;
  }
  if (strings(r.apiGroups).length === 0) errs.push(fieldError.required(`${path}.apiGroups`, 'resource rules must supply at least one api group'));
  if (strings(r.resources).length === 0) errs.push(fieldError.required(`${path}.resources`, 'resource rules must supply at least one resource'));
  return errs;
}

/** The rules of a Role (`namespaced`) or ClusterRole. */
export function validateRules(rules: unknown, namespaced: boolean): FieldError[] {
  if (rules === undefined || rules === null) return [];
  if (!isList(rules)) return [fieldError.typeInvalid('rules', rules, 'must be a list')];
  return rules.flatMap((r, i) => validatePolicyRule(r, namespaced, `rules[${i}]`));
}

/** A ClusterRole's aggregationRule: at least one valid selector. */
export function validateAggregationRule(rule: unknown): FieldError[] {
  if (rule === undefined || rule === null) return [];
  if (typeof rule !== 'object' || isList(rule)) return [fieldError.typeInvalid('aggregationRule', rule, 'must be an object')];
  const selectors = (rule as Record<string, unknown>).clusterRoleSelectors;
  if (selectors !== undefined && selectors !== null && !isList(selectors)) return [fieldError.typeInvalid('aggregationRule.clusterRoleSelectors', selectors, 'must be a list')];
  const list = (selectors as unknown[] | undefined) ?? [];
  if (list.length === 0) return [fieldError.required('aggregationRule.clusterRoleSelectors', 'at least one clusterRoleSelector required if aggregationRule is non-nil')];
  return list.flatMap((s, i) => validateLabelSelector(s, `aggregationRule.clusterRoleSelectors[${i}]`));
}

/** A binding's roleRef. */
export function validateRoleRef(ref: unknown): FieldError[] {
  if (typeof ref !== 'object' || ref === null || isList(ref)) return [fieldError.required('roleRef', '')];
  const r = ref as Record<string, unknown>;
  const errs: FieldError[] = [];
  if (r.apiGroup !== RBAC_GROUP) errs.push(fieldError.notSupported('roleRef.apiGroup', r.apiGroup ?? '', [RBAC_GROUP]));
  if (r.kind !== 'Role' && r.kind !== 'ClusterRole') errs.push(fieldError.notSupported('roleRef.kind', r.kind ?? '', ['Role', 'ClusterRole']));
  if (typeof r.name !== 'string' || r.name === '') errs.push(fieldError.required('roleRef.name', ''));
  else for (const m of isValidPathSegmentName(r.name)) errs.push(fieldError.invalid('roleRef.name', r.name, m));
  return errs;
}

/** ValidateRoleBindingSubject; `namespaced` for a RoleBinding (a ServiceAccount may then omit its namespace). */
export function validateSubject(subject: unknown, namespaced: boolean, path: string): FieldError[] {
  if (typeof subject !== 'object' || subject === null || isList(subject)) return [fieldError.typeInvalid(path, subject, 'must be an object')];
  const s = subject as Record<string, unknown>;
  const errs: FieldError[] = [];
  const name = typeof s.name === 'string' ? s.name : '';
  if (!name) errs.push(fieldError.required(`${path}.name`, ''));
  switch (s.kind) {
    case 'ServiceAccount':
      if (name) for (const m of isDNS1123Subdomain(name)) errs.push(fieldError.invalid(`${path}.name`, name, m));
      if (s.apiGroup) errs.push(fieldError.notSupported(`${path}.apiGroup`, s.apiGroup, ['']));
      if (!namespaced && !s.namespace) errs.push(fieldError.required(`${path}.namespace`, ''));
      break;
    case 'User':
    case 'Group':
      if (s.apiGroup !== RBAC_GROUP) errs.push(fieldError.notSupported(`${path}.apiGroup`, s.apiGroup ?? '', [RBAC_GROUP]));
      break;
    default:
      errs.push(fieldError.notSupported(`${path}.kind`, s.kind ?? '', ['ServiceAccount', 'User', 'Group']));
  }
  return errs;
}

/** A RoleBinding's (`namespaced`) or ClusterRoleBinding's roleRef and subjects. */
export function validateBinding(obj: Record<string, unknown>, namespaced: boolean): FieldError[] {
  const errs = validateRoleRef(obj.roleRef);
  const subjects = obj.subjects;
  if (subjects !== undefined && subjects !== null && !isList(subjects)) return [...errs, fieldError.typeInvalid('subjects', subjects, 'must be a list')];
  ((subjects as unknown[] | undefined) ?? []).forEach((s, i) => errs.push(...validateSubject(s, namespaced, `subjects[${i}]`)));
  return errs;
}

/** ValidateRoleBindingUpdate's extra check: the roleRef never changes (delete and recreate instead). */
export function validateRoleRefUnchanged(ref: unknown, old: unknown): FieldError[] {
  const r = (ref ?? {}) as Record<string, unknown>;
  const o = (old ?? {}) as Record<string, unknown>;
  if (r.apiGroup === o.apiGroup && r.kind === o.kind && r.name === o.name) return [];
  return [fieldError.invalid('roleRef', { apiGroup: r.apiGroup, kind: r.kind, name: r.name }, 'cannot change roleRef')];
}
