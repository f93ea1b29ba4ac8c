/**
 * Escalation prevention (pkg/registry/rbac/escalation_check.go and validation.ConfirmNoEscalation):
 * a user may write a Role or ClusterRole, or bind one, only with rules it holds itself — unless it is
 * in system:masters, or has the `escalate` verb on the roles (`bind` on the referenced role).
 * Pure: callers pass what the user holds and the authorizer that answers `escalate` / `bind`.
 */
import type { Attributes, Authorizer, UserInfo } from '../attributes.ts';
import { compactRule, compactRules, uncoveredRules, type PolicyRule } from './policy-rule.ts';

import { RBAC_GROUP } from './policy-builders.ts';
export { RBAC_GROUP };

/** Everything: what using an aggregationRule needs, since it can gather any rule. */
export const FULL_AUTHORITY: readonly PolicyRule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];

/** EscalationAllowed: system:masters may grant anything (the API server's own loopback identity is one). */
export function escalationAllowed(user: UserInfo): boolean {
  return user.groups.includes('system:masters');
}

/** Go's %q of a []string: `["a" "b"]`. */
const goQuoted = (list: readonly string[]) => `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;

/**
 * ConfirmNoEscalation: undefined when `held` covers `requested`, else Kubernetes' message naming
 * what is missing (compacted, one rule per line, sorted).
 */
export function escalationError(user: UserInfo, held: PolicyRule[], requested: PolicyRule[]): string | undefined {
  const missing = uncoveredRules(held, requested);
  if (!missing.length) return undefined;
  const lines = [...new Set(compactRules(missing).map(compactRule))].sort();
  return `user ${JSON.stringify(user.name)} (groups=${goQuoted(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${lines.join('\n')}`;
}

/** RoleEscalationAuthorized: the `escalate` verb on the role being written. */
export async function roleEscalationAuthorized(authorizer: Authorizer, user: UserInfo, resource: 'roles' | 'clusterroles', namespace: string, name: string): Promise<boolean> {
  const a: Attributes = { user, verb: 'escalate', isResourceRequest: true, path: '', apiGroup: RBAC_GROUP, apiVersion: '*', resource, subresource: '', namespace, name };
  return await authorizer.authorize(a) === 'allow';
}

/** BindingAuthorized: the `bind` verb on the referenced role, in the binding's namespace ('' for a ClusterRoleBinding). */
export async function bindingAuthorized(authorizer: Authorizer, user: UserInfo, roleRef: { apiGroup?: string; kind: string; name: string }, namespace: string): Promise<boolean> {
  if (roleRef.kind !== 'Role' && roleRef.kind !== 'ClusterRole') return false;
  const a: Attributes = {
    user, verb: 'bind', isResourceRequest: true, path: '', apiGroup: roleRef.apiGroup ?? RBAC_GROUP, apiVersion: '*',
    resource: roleRef.kind === 'Role' ? 'roles' : 'clusterroles', subresource: '', namespace, name: roleRef.name,
  };
  return await authorizer.authorize(a) === 'allow';
}
