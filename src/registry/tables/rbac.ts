/**
 * `kubectl get` columns of the RBAC kinds, as Kubernetes' printers.go prints them: Roles and
 * ClusterRoles as NAME and CREATED AT; bindings as NAME, ROLE (`Kind/name`) and AGE, with USERS,
 * GROUPS and SERVICEACCOUNTS (`namespace/name`) under `-o wide` (rbac.SubjectsStrings). The
 * authorization.k8s.io reviews get the default NAME and CREATED AT.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { TableConvertor } from '../types.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col, str } from './format.ts';

const CREATED_AT = {
  name: 'Created At', type: 'date' as const, format: '', priority: 0,
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
};

/** Roles and ClusterRoles; also the reviews, as Kubernetes' default table (they are never listed). */
export const roleTable: TableConvertor = {
  columns: [NAME_COLUMN, CREATED_AT],
  cells: (role) => [role.metadata.name, str(role.metadata.creationTimestamp)],
};

/** Users, groups and ServiceAccounts of a binding's subjects, each list joined with ", ". */
export function subjectsStrings(binding: KubeObject): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of Array.isArray(binding.subjects) ? binding.subjects : []) {
    if (s?.kind === 'User') users.push(str(s.name));
    else if (s?.kind === 'Group') groups.push(str(s.name));
    else if (s?.kind === 'ServiceAccount') sas.push(s.namespace ? `${s.namespace}/${str(s.name)}` : str(s.name));
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

export const roleBindingTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Role', 'string', false, 'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.'),
    AGE_COLUMN,
    col('Users', 'string', true, 'Users in the roleBinding'),
    col('Groups', 'string', true, 'Groups in the roleBinding'),
    col('ServiceAccounts', 'string', true, 'ServiceAccounts in the roleBinding'),
  ],
  cells(b, now) {
    return [b.metadata.name, `${str(b.roleRef?.kind)}/${str(b.roleRef?.name)}`, age(b, now), ...subjectsStrings(b)];
  },
};
