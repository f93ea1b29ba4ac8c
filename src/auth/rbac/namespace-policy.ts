/**
 * The default Roles and RoleBindings in kube-system and kube-public
 * (bootstrappolicy/namespace_policy.go): leader locking by ConfigMap for the controller manager and
 * the scheduler, the extension-apiserver-authentication reader, and the bootstrap-signer and
 * token-cleaner controllers' access to bootstrap-token Secrets and the cluster-info ConfigMap;
 * Berth adds the local-path provisioner's helper pods in kube-system.
 */
import type { KubeObject } from '../../apis/object.ts';
import { READ, eventsRule, role, roleBinding, rule } from './policy-builders.ts';

const SYSTEM = 'kube-system';
const PUBLIC = 'kube-public';

export function namespaceRoles(): KubeObject[] {
  return [
    role(SYSTEM, 'extension-apiserver-authentication-reader', [rule(READ, [''], ['configmaps'], ['extension-apiserver-authentication'])]),
    role(SYSTEM, 'system::leader-locking-kube-controller-manager', [rule(['watch'], [''], ['configmaps']), rule(['get', 'update'], [''], ['configmaps'], ['kube-controller-manager'])]),
    role(SYSTEM, 'system::leader-locking-kube-scheduler', [rule(['watch'], [''], ['configmaps']), rule(['get', 'update'], [''], ['configmaps'], ['kube-scheduler'])]),
    role(SYSTEM, 'system:controller:bootstrap-signer', [rule(READ, [''], ['secrets'])]),
    role(SYSTEM, 'system:controller:token-cleaner', [rule(['delete', 'get', 'list', 'watch'], [''], ['secrets']), eventsRule()]),
    // Berth: the local-path provisioner's helper pods (they make and remove volume directories on a node).
    role(SYSTEM, 'system:controller:local-path-provisioner', [rule(['get', 'create', 'delete'], [''], ['pods'])]),
    role(PUBLIC, 'system:controller:bootstrap-signer', [rule(READ, [''], ['configmaps']), rule(['update'], [''], ['configmaps'], ['cluster-info']), eventsRule()]),
  ];
}

export function namespaceRoleBindings(): KubeObject[] {
  return [
    roleBinding(SYSTEM, 'system::extension-apiserver-authentication-reader', 'extension-apiserver-authentication-reader', 'User:system:kube-controller-manager', 'User:system:kube-scheduler'),
    roleBinding(SYSTEM, 'system::leader-locking-kube-controller-manager', 'system::leader-locking-kube-controller-manager', 'ServiceAccount:kube-system/kube-controller-manager', 'User:system:kube-controller-manager'),
    roleBinding(SYSTEM, 'system::leader-locking-kube-scheduler', 'system::leader-locking-kube-scheduler', 'ServiceAccount:kube-system/kube-scheduler', 'User:system:kube-scheduler'),
    roleBinding(SYSTEM, 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', 'ServiceAccount:kube-system/bootstrap-signer'),
    roleBinding(SYSTEM, 'system:controller:token-cleaner', 'system:controller:token-cleaner', 'ServiceAccount:kube-system/token-cleaner'),
    roleBinding(SYSTEM, 'system:controller:local-path-provisioner', 'system:controller:local-path-provisioner', 'ServiceAccount:kube-system/local-path-provisioner'),
    roleBinding(PUBLIC, 'system:controller:bootstrap-signer', 'system:controller:bootstrap-signer', 'ServiceAccount:kube-system/bootstrap-signer'),
  ];
}
