/**
 * The security part for RBAC: Roles, ClusterRoles and their bindings, the bootstrap policy, the reviews (SubjectAccessReview…), escalation prevention.
 * (Registered in ../security.ts; contributes nothing yet.)
 */
import type { SecurityPart } from '../security-part.ts';

export const rbacPart: SecurityPart = { name: 'rbac' };
