/**
 * Strategies of rbac.authorization.k8s.io/v1 Role, ClusterRole, RoleBinding and ClusterRoleBinding
 * (pkg/registry/rbac/<kind>/strategy.go): the v1 defaults (a roleRef's and a User's or Group's
 * apiGroup is rbac.authorization.k8s.io when left empty) and validation (validation/rbac.ts). Who
 * may write which rules — escalation prevention — is admission's (auth/rbac/escalation.ts).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Strategy } from '../types.ts';
import { RBAC_GROUP, validateAggregationRule, validateBinding, validateRoleRefUnchanged, validateRules } from '../validation/rbac.ts';

/** SetDefaults_RoleBinding / SetDefaults_Subject of rbac/v1. */
function defaultBinding(obj: KubeObject): void {
  if (obj.roleRef && typeof obj.roleRef === 'object' && !obj.roleRef.apiGroup) obj.roleRef.apiGroup = RBAC_GROUP;
  if (!Array.isArray(obj.subjects)) return;
  for (const s of obj.subjects) {
    if (s && typeof s === 'object' && !s.apiGroup && (s.kind === 'User' || s.kind === 'Group')) s.apiGroup = RBAC_GROUP;
  }
}

export const roleStrategy: Strategy = {
  validate: (obj) => validateRules(obj.rules, true),
};

export const clusterRoleStrategy: Strategy = {
  validate: (obj) => [...validateRules(obj.rules, false), ...validateAggregationRule(obj.aggregationRule)],
};

export const roleBindingStrategy: Strategy = {
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, true),
  validateUpdate: (obj, old) => validateRoleRefUnchanged(obj.roleRef, old.roleRef),
};

export const clusterRoleBindingStrategy: Strategy = {
  defaults: defaultBinding,
  validate: (obj) => validateBinding(obj, false),
  validateUpdate: (obj, old) => validateRoleRefUnchanged(obj.roleRef, old.roleRef),
};
