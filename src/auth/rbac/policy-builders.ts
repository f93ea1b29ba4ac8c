/**
 * Small builders for the bootstrap policy's data (rbacv1helpers' NewRule / NewClusterBinding /
 * NewRoleBinding): rules, roles and bindings carrying the bootstrap label and the autoupdate
 * annotation, so that every server start reconciles them (reconcile.ts).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { PolicyRule } from './policy-rule.ts';

export const RBAC_API_VERSION = 'rbac.authorization.k8s.io/v1';
export const RBAC_GROUP = 'rbac.authorization.k8s.io';
/** Set on every default object; `"false"` on a stored one stops reconciliation from touching it. */
export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
export const BOOTSTRAP_LABEL = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

export const READ = ['get', 'list', 'watch'];
export const WRITE = ['create', 'update', 'patch', 'delete', 'deletecollection'];
export const READ_WRITE = [...READ, ...WRITE];
export const READ_UPDATE = [...READ, 'update', 'patch'];

/** A resource rule: `verbs` on `resources` of `groups`, optionally only the named objects. */
export function rule(verbs: string[], groups: string[], resources: string[], resourceNames?: string[]): PolicyRule {
  return { verbs, apiGroups: groups, resources, ...(resourceNames ? { resourceNames } : {}) };
}

/** A non-resource rule. */
export function urls(verbs: string[], ...nonResourceURLs: string[]): PolicyRule {
  return { verbs, nonResourceURLs };
}

/** eventsRule(): what every component needs to record events, in both event APIs. */
export function eventsRule(): PolicyRule {
  return rule(['create', 'update', 'patch'], ['', 'events.k8s.io'], ['events']);
}

const meta = (name: string, labels: Record<string, string> = {}, namespace?: string) => ({
  name, ...(namespace ? { namespace } : {}),
  labels: { ...BOOTSTRAP_LABEL, ...labels },
  annotations: { [AUTOUPDATE_ANNOTATION]: 'true' },
});

export function clusterRole(name: string, rules: PolicyRule[], opts: { labels?: Record<string, string>; aggregateFrom?: string } = {}): KubeObject {
  const obj: KubeObject = { apiVersion: RBAC_API_VERSION, kind: 'ClusterRole', metadata: meta(name, opts.labels), rules };
  if (opts.aggregateFrom) obj.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [opts.aggregateFrom]: 'true' } }] };
  return obj;
}

export function role(namespace: string, name: string, rules: PolicyRule[]): KubeObject {
  return { apiVersion: RBAC_API_VERSION, kind: 'Role', metadata: meta(name, {}, namespace), rules };
}

/** rbac/v1 Subject. */
export interface Subject {
  kind: string;
  name: string;
  namespace?: string;
  apiGroup?: string;
}

/** Subjects: `User:name`, `Group:name`, `ServiceAccount:namespace/name`. */
export function subjects(...specs: string[]): Subject[] {
  return specs.map((s) => {
    const [kind, rest] = [s.slice(0, s.indexOf(':')), s.slice(s.indexOf(':') + 1)];
    if (kind === 'ServiceAccount') {
      const [namespace, name] = rest.split('/');
      return { kind, name, namespace };
    }
    return { kind, apiGroup: RBAC_GROUP, name: rest };
  });
}

export function clusterRoleBinding(name: string, roleName: string, ...subjectSpecs: string[]): KubeObject {
  return {
    apiVersion: RBAC_API_VERSION, kind: 'ClusterRoleBinding', metadata: meta(name),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: roleName }, subjects: subjects(...subjectSpecs),
  };
}

export function roleBinding(namespace: string, name: string, roleName: string, ...subjectSpecs: string[]): KubeObject {
  return {
    apiVersion: RBAC_API_VERSION, kind: 'RoleBinding', metadata: meta(name, {}, namespace),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: roleName }, subjects: subjects(...subjectSpecs),
  };
}
