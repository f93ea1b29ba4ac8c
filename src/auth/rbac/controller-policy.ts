/**
 * One ClusterRole per controller, `system:controller:<account>`, bound to the ServiceAccount-style
 * user `system:serviceaccount:kube-system:<account>` the controller acts as — kube-controller-manager's
 * --use-service-account-credentials (bootstrappolicy/controller_policy.go). Berth's controllers run
 * in-process under these identities (server/control-loops.ts), so a controller's bug cannot do what
 * its role does not grant. Accounts are upstream's names; the roles are upstream's for the
 * controllers Berth runs or is likely to (CSR signing, root CA publishing, StatefulSets, PVs),
 * plus what Berth's own controllers do differently (marked "Berth's controller …": a patch where
 * upstream updates, a fresh read where upstream reads a cache).
 */
import type { KubeObject } from '../../apis/object.ts';
import { READ, clusterRole, clusterRoleBinding, eventsRule, rule } from './policy-builders.ts';
import type { PolicyRule } from './policy-rule.ts';

export const CONTROLLER_ROLE_PREFIX = 'system:controller:';
/** The namespace of the controllers' ServiceAccounts. */
export const CONTROLLER_NAMESPACE = 'kube-system';

const CORE = '';
const APPS = 'apps';
const BATCH = 'batch';
const CERTIFICATES = 'certificates.k8s.io';
const DISCOVERY = 'discovery.k8s.io';
const EXTENSIONS = 'extensions';
const STORAGE = 'storage.k8s.io';

/** Each controller account's rules. */
export const CONTROLLER_RULES: Readonly<Record<string, PolicyRule[]>> = {
  'clusterrole-aggregation-controller': [
    // It rewrites the rules of aggregated ClusterRoles, so it must hold (or escalate to) any rule.
    rule(['escalate', 'get', 'list', 'watch', 'update', 'patch'], ['rbac.authorization.k8s.io'], ['clusterroles']),
  ],
  'cronjob-controller': [
    rule(['get', 'list', 'watch', 'update'], [BATCH], ['cronjobs']),
    rule(['get', 'list', 'watch', 'create', 'update', 'delete', 'patch'], [BATCH], ['jobs']),
    rule(['update'], [BATCH], ['cronjobs/status']),
    rule(['update'], [BATCH], ['cronjobs/finalizers']),
    rule(['list', 'delete'], [CORE], ['pods']),
    eventsRule(),
  ],
  'daemon-set-controller': [
    rule(READ, [EXTENSIONS, APPS], ['daemonsets']),
    rule(['update'], [EXTENSIONS, APPS], ['daemonsets/status']),
    rule(['update'], [EXTENSIONS, APPS], ['daemonsets/finalizers']),
    rule(['list', 'watch'], [CORE], ['nodes']),
    rule(['list', 'watch', 'create', 'delete', 'patch'], [CORE], ['pods']),
    rule(['create'], [CORE], ['pods/binding']),
    rule(['get', 'list', 'watch', 'create', 'delete', 'update', 'patch'], [APPS], ['controllerrevisions']),
    eventsRule(),
  ],
  'deployment-controller': [
    rule(['get', 'list', 'watch', 'update'], [EXTENSIONS, APPS], ['deployments']),
    rule(['update'], [EXTENSIONS, APPS], ['deployments/status']),
    rule(['update'], [EXTENSIONS, APPS], ['deployments/finalizers']),
    rule(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], [APPS, EXTENSIONS], ['replicasets']),
    rule(['get', 'list', 'watch', 'update'], [CORE], ['pods']),
    // Berth's controller patches the revision annotation and the status instead of updating them.
    rule(['patch'], [APPS], ['deployments', 'deployments/status']),
    eventsRule(),
  ],
  'horizontal-pod-autoscaler': [
    rule(READ, ['autoscaling'], ['horizontalpodautoscalers']),
    rule(['update'], ['autoscaling'], ['horizontalpodautoscalers/status']),
    rule(['get', 'update'], ['*'], ['*/scale']),
    rule(['list'], [CORE], ['pods']),
    rule(['list'], ['metrics.k8s.io'], ['pods']),
    rule(['get', 'list'], ['custom.metrics.k8s.io'], ['*']),
    rule(['get', 'list'], ['external.metrics.k8s.io'], ['*']),
    eventsRule(),
  ],
  'disruption-controller': [
    rule(READ, [EXTENSIONS, APPS], ['deployments']),
    rule(READ, [APPS, EXTENSIONS], ['replicasets']),
    rule(READ, [CORE], ['replicationcontrollers']),
    rule(READ, ['policy'], ['poddisruptionbudgets']),
    rule(READ, [APPS], ['statefulsets']),
    rule(['update'], ['policy'], ['poddisruptionbudgets/status']),
    rule(['get'], ['*'], ['*/scale']),
    // Stale DisruptionTarget conditions of pods whose eviction did not delete them.
    rule(['patch', 'update'], [CORE], ['pods/status']),
    eventsRule(),
  ],
  'endpoint-controller': [
    rule(READ, [CORE], ['services', 'pods']),
    rule(['get', 'list', 'create', 'update', 'delete'], [CORE], ['endpoints']),
    rule(['create'], [CORE], ['endpoints/restricted']),
    eventsRule(),
  ],
  'endpointslice-controller': [
    rule(READ, [CORE], ['services', 'pods', 'nodes']),
    // To own a slice with blockOwnerDeletion, the controller must be able to set the Service's finalizers.
    rule(['update'], [CORE], ['services/finalizers']),
    rule(['get', 'list', 'create', 'update', 'delete'], [DISCOVERY], ['endpointslices']),
    eventsRule(),
  ],
  'endpointslicemirroring-controller': [
    rule(READ, [CORE], ['services', 'endpoints']),
    rule(['update'], [CORE], ['services/finalizers']),
    rule(['update'], [CORE], ['endpoints/finalizers']),
    rule(['get', 'list', 'create', 'update', 'delete'], [DISCOVERY], ['endpointslices']),
    eventsRule(),
  ],
  // Upstream's naming, establishing and finalizer controllers run inside the API server; here one
  // controller: CRD conditions, and every object of a deleted CRD listed and deleted.
  'customresourcedefinition-controller': [
    rule(['get', 'list', 'watch', 'update'], ['apiextensions.k8s.io'], ['customresourcedefinitions']),
    rule(['update'], ['apiextensions.k8s.io'], ['customresourcedefinitions/status']),
    rule(['list', 'delete'], ['*'], ['*']),
  ],
  'generic-garbage-collector': [
    // List, watch, selective gets and updates of any resource.
    rule(['get', 'list', 'watch', 'patch', 'update', 'delete'], ['*'], ['*']),
    eventsRule(),
  ],
  'job-controller': [
    rule(['get', 'list', 'watch', 'update', 'patch'], [BATCH], ['jobs']),
    rule(['update'], [BATCH], ['jobs/status']),
    rule(['update'], [BATCH], ['jobs/finalizers']),
    rule(['list', 'watch', 'create', 'delete', 'patch'], [CORE], ['pods']),
    // Berth's controller also reads an orphan pod and its Job fresh, and deletes a Job past its TTL.
    rule(['get'], [CORE], ['pods']),
    rule(['delete'], [BATCH], ['jobs']),
    eventsRule(),
  ],
  'namespace-controller': [
    rule(['get', 'list', 'watch', 'delete'], [CORE], ['namespaces']),
    rule(['update'], [CORE], ['namespaces/finalize', 'namespaces/status']),
    rule(['get', 'list', 'delete', 'deletecollection'], ['*'], ['*']),
  ],
  'node-controller': [
    rule(['get', 'list', 'update', 'delete', 'patch'], [CORE], ['nodes']),
    rule(['patch', 'update'], [CORE], ['nodes/status']),
    // Pod deletion and readiness on lost nodes.
    rule(['patch', 'update'], [CORE], ['pods/status']),
    rule(['list', 'get', 'delete'], [CORE], ['pods']),
    eventsRule(),
  ],
  'persistent-volume-binder': [
    rule(['get', 'list', 'watch', 'update', 'create', 'delete'], [CORE], ['persistentvolumes']),
    rule(['update'], [CORE], ['persistentvolumes/status']),
    rule(['get', 'list', 'watch', 'update'], [CORE], ['persistentvolumeclaims']),
    rule(['update'], [CORE], ['persistentvolumeclaims/status']),
    rule(['list', 'watch', 'get', 'create', 'delete'], [CORE], ['pods']),
    rule(READ, [STORAGE], ['storageclasses']),
    rule(['get', 'list'], [CORE], ['nodes']),
    rule(['watch'], [CORE], ['events']),
    eventsRule(),
  ],
  // Berth's own dynamic provisioner (rancher's local-path-provisioner's job): PVs for claims of its
  // StorageClasses, grown on expansion; its helper pods are a Role's, in kube-system only (namespace-policy.ts).
  'local-path-provisioner': [
    rule(['get', 'list', 'watch', 'create', 'update', 'delete'], [CORE], ['persistentvolumes']),
    rule(['update'], [CORE], ['persistentvolumes/status']),
    rule(['get', 'list', 'watch', 'update'], [CORE], ['persistentvolumeclaims']),
    rule(['update'], [CORE], ['persistentvolumeclaims/status']),
    rule(READ, [STORAGE], ['storageclasses']),
    rule(READ, [CORE], ['nodes']),
    rule(['list', 'watch'], [CORE], ['pods']),
    eventsRule(),
  ],
  'pod-garbage-collector': [
    rule(['list', 'watch', 'delete'], [CORE], ['pods']),
    rule(['get', 'list'], [CORE], ['nodes']),
    rule(['patch'], [CORE], ['pods/status']),
  ],
  'replicaset-controller': [
    rule(['get', 'list', 'watch', 'update'], [APPS, EXTENSIONS], ['replicasets']),
    rule(['update'], [APPS, EXTENSIONS], ['replicasets/status']),
    rule(['update'], [APPS, EXTENSIONS], ['replicasets/finalizers']),
    rule(['list', 'watch', 'patch', 'create', 'delete'], [CORE], ['pods']),
    // Berth's controller patches the status.
    rule(['patch'], [APPS], ['replicasets/status']),
    eventsRule(),
  ],
  'replication-controller': [
    rule(['get', 'list', 'watch', 'update'], [CORE], ['replicationcontrollers']),
    rule(['update'], [CORE], ['replicationcontrollers/status']),
    rule(['update'], [CORE], ['replicationcontrollers/finalizers']),
    rule(['list', 'watch', 'patch', 'create', 'delete'], [CORE], ['pods']),
    // Berth's controller patches the status.
    rule(['patch'], [CORE], ['replicationcontrollers/status']),
    eventsRule(),
  ],
  'service-account-controller': [
    rule(['create'], [CORE], ['serviceaccounts']),
    // Berth's controller reads the namespace fresh (not from a cache) before creating `default`.
    rule(['get'], [CORE], ['namespaces']),
    eventsRule(),
  ],
  'statefulset-controller': [
    rule(['list', 'watch'], [CORE], ['pods']),
    rule(READ, [APPS], ['statefulsets']),
    rule(['update'], [APPS], ['statefulsets/status']),
    rule(['update'], [APPS], ['statefulsets/finalizers']),
    rule(['get', 'create', 'delete', 'update', 'patch'], [CORE], ['pods']),
    rule(['get', 'create', 'delete', 'update', 'patch', 'list', 'watch'], [APPS], ['controllerrevisions']),
    rule(['get', 'create'], [CORE], ['persistentvolumeclaims']),
    rule(['update', 'delete'], [CORE], ['persistentvolumeclaims']),
    // Berth's controller patches the status.
    rule(['patch'], [APPS], ['statefulsets/status']),
    eventsRule(),
  ],
  'ttl-controller': [
    rule(['update', 'patch', 'list', 'watch'], [CORE], ['nodes']),
    eventsRule(),
  ],
  'certificate-controller': [
    rule(['get', 'list', 'watch', 'delete'], [CERTIFICATES], ['certificatesigningrequests']),
    rule(['update'], [CERTIFICATES], ['certificatesigningrequests/status', 'certificatesigningrequests/approval']),
    rule(['approve'], [CERTIFICATES], ['signers'], ['kubernetes.io/kube-apiserver-client-kubelet']),
    rule(['sign'], [CERTIFICATES], ['signers'], ['kubernetes.io/legacy-unknown', 'kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving']),
    rule(['create'], ['authorization.k8s.io'], ['subjectaccessreviews']),
    // Berth's approver also approves a node's kubelet-serving CSR naming only the Node's addresses.
    rule(['approve'], [CERTIFICATES], ['signers'], ['kubernetes.io/kubelet-serving']),
    rule(['get'], [CORE], ['nodes']),
    eventsRule(),
  ],
  // Berth's replicated-volume provisioner (controllers/replicated): PVs with bricks on storage nodes,
  // their health in status and events, deleted once the storage nodes removed the engine volume.
  'replicated-provisioner-controller': [
    rule(['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'], [CORE], ['persistentvolumes']),
    rule(['update'], [CORE], ['persistentvolumes/status']),
    rule(READ, [CORE], ['persistentvolumeclaims']),
    rule(READ, [STORAGE], ['storageclasses']),
    rule(READ, [CORE], ['nodes']),
    eventsRule(),
  ],
  // Berth's fencing controller (controllers/fencing): fences a lost node's stateful members (an
  // annotation on the pod, its claims and volumes), force-deletes them for their controller to make
  // again elsewhere, deletes opted-in local claims, and marks members it leaves in place.
  'fencing-controller': [
    rule(READ, [CORE], ['nodes']),
    rule(['get', 'list', 'watch', 'patch', 'delete'], [CORE], ['pods']),
    rule(['update'], [CORE], ['pods/status']),
    rule(['get', 'list', 'watch', 'patch', 'delete'], [CORE], ['persistentvolumeclaims']),
    rule(['get', 'list', 'watch', 'patch'], [CORE], ['persistentvolumes']),
    rule(READ, [APPS], ['statefulsets']),
    eventsRule(),
  ],
  'pvc-protection-controller': [
    rule(['get', 'list', 'watch', 'update'], [CORE], ['persistentvolumeclaims']),
    rule(['list', 'watch', 'get'], [CORE], ['pods']),
    eventsRule(),
  ],
  'pv-protection-controller': [
    rule(['get', 'list', 'watch', 'update'], [CORE], ['persistentvolumes']),
    eventsRule(),
  ],
  'ttl-after-finished-controller': [
    rule(['get', 'list', 'watch', 'delete'], [BATCH], ['jobs']),
    eventsRule(),
  ],
  'root-ca-cert-publisher': [
    rule(['create', 'update'], [CORE], ['configmaps']),
    eventsRule(),
  ],
  'legacy-service-account-token-cleaner': [
    rule(['get'], [CORE], ['configmaps'], ['kube-apiserver-legacy-service-account-token-tracking']),
    rule(['patch', 'delete'], [CORE], ['secrets']),
  ],
};

/** The user a controller account acts as. */
export function controllerUser(account: string): { name: string; groups: string[] } {
  return {
    name: `system:serviceaccount:${CONTROLLER_NAMESPACE}:${account}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${CONTROLLER_NAMESPACE}`, 'system:authenticated'],
  };
}

export function controllerClusterRoles(): KubeObject[] {
  return Object.entries(CONTROLLER_RULES).map(([account, rules]) => clusterRole(CONTROLLER_ROLE_PREFIX + account, rules));
}

export function controllerClusterRoleBindings(): KubeObject[] {
  return Object.keys(CONTROLLER_RULES).map((account) =>
    clusterRoleBinding(CONTROLLER_ROLE_PREFIX + account, CONTROLLER_ROLE_PREFIX + account, `ServiceAccount:${CONTROLLER_NAMESPACE}/${account}`));
}
