/**
 * The default ClusterRoles and ClusterRoleBindings every cluster has, as Kubernetes 1.32 bootstraps
 * them (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go), reconciled at each server start
 * (reconcile.ts). Berth's own names where its components differ: the controller manager's Lease is
 * `berth-controller-manager`; the cluster DNS (system:kube-dns) also reads EndpointSlices and Pods;
 * joining nodes are bound by `berth:` bindings as kubeadm's `kubeadm:` ones do. The controllers'
 * roles are in controller-policy.ts, the Roles in kube-system and kube-public in namespace-policy.ts.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { PolicyRule } from './policy-rule.ts';
import {
  READ, READ_UPDATE, READ_WRITE, WRITE, clusterRole, clusterRoleBinding, eventsRule, rule, urls,
} from './policy-builders.ts';
import { controllerClusterRoleBindings, controllerClusterRoles } from './controller-policy.ts';
import { namespaceRoleBindings, namespaceRoles } from './namespace-policy.ts';

const CORE = '';
const APPS = 'apps';
const AUTHN = 'authentication.k8s.io';
const AUTHZ = 'authorization.k8s.io';
const AUTOSCALING = 'autoscaling';
const BATCH = 'batch';
const CERTIFICATES = 'certificates.k8s.io';
const COORDINATION = 'coordination.k8s.io';
const DISCOVERY = 'discovery.k8s.io';
const EXTENSIONS = 'extensions';
const NETWORKING = 'networking.k8s.io';
const POLICY = 'policy';
const STORAGE = 'storage.k8s.io';

/** The aggregation labels of admin, edit and view. */
export const AGGREGATE_TO = {
  admin: 'rbac.authorization.k8s.io/aggregate-to-admin',
  edit: 'rbac.authorization.k8s.io/aggregate-to-edit',
  view: 'rbac.authorization.k8s.io/aggregate-to-view',
};

/** The Lease the controller manager's leader holds (server/control-loops.ts). */
export const CONTROLLER_MANAGER_LEASE = 'berth-controller-manager';

/** Signer names of certificates.k8s.io (k8s.io/api/certificates/v1). */
export const SIGNERS = {
  kubeAPIServerClient: 'kubernetes.io/kube-apiserver-client',
  kubeAPIServerClientKubelet: 'kubernetes.io/kube-apiserver-client-kubelet',
  kubeletServing: 'kubernetes.io/kubelet-serving',
  legacyUnknown: 'kubernetes.io/legacy-unknown',
};

/** NodeRules: what system:node grants (the Node authorizer narrows it to the node's own objects). */
export function nodeRules(): PolicyRule[] {
  return [
    rule(['create'], [AUTHN], ['tokenreviews']),
    rule(['create'], [AUTHZ], ['subjectaccessreviews', 'localsubjectaccessreviews']),
    rule(READ, [CORE], ['services']),
    rule(['create', 'get', 'list', 'watch'], [CORE], ['nodes']),
    rule(['update', 'patch'], [CORE], ['nodes/status']),
    rule(['update', 'patch'], [CORE], ['nodes']),
    rule(['create', 'update', 'patch'], [CORE], ['events']),
    rule(READ, [CORE], ['pods']),
    rule(['create', 'delete'], [CORE], ['pods']),
    rule(['update', 'patch'], [CORE], ['pods/status']),
    rule(['create'], [CORE], ['pods/eviction']),
    rule(READ, [CORE], ['secrets', 'configmaps']),
    rule(['get'], [CORE], ['persistentvolumeclaims', 'persistentvolumes']),
    rule(['get'], [CORE], ['endpoints']),
    rule(['create', 'get', 'list', 'watch'], [CERTIFICATES], ['certificatesigningrequests']),
    rule(['get', 'create', 'update', 'patch', 'delete'], [COORDINATION], ['leases']),
    rule(['get'], [STORAGE], ['volumeattachments']),
    rule(['get', 'update', 'patch'], [CORE], ['persistentvolumeclaims/status']),
    rule(['create'], [CORE], ['serviceaccounts/token']),
    rule(['get', 'watch', 'list'], [STORAGE], ['csidrivers']),
    rule(['get', 'create', 'update', 'patch', 'delete'], [STORAGE], ['csinodes']),
    rule(READ, ['node.k8s.io'], ['runtimeclasses']),
  ];
}

function aggregateToEdit(): PolicyRule[] {
  return [
    // Read on escalating resources.
    rule(READ, [CORE], ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy']),
    rule(['impersonate'], [CORE], ['serviceaccounts']),
    rule(WRITE, [CORE], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward']),
    rule(['create'], [CORE], ['pods/eviction']),
    rule(WRITE, [CORE], ['replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/proxy', 'persistentvolumeclaims', 'configmaps', 'secrets']),
    rule(['create'], [CORE], ['serviceaccounts/token']),
    rule(WRITE, [APPS], ['statefulsets', 'statefulsets/scale', 'daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'replicasets', 'replicasets/scale']),
    rule(WRITE, [AUTOSCALING], ['horizontalpodautoscalers']),
    rule(WRITE, [BATCH], ['jobs', 'cronjobs']),
    rule(WRITE, [EXTENSIONS], ['daemonsets', 'deployments', 'deployments/scale', 'deployments/rollback', 'ingresses', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale', 'networkpolicies']),
    rule(WRITE, [POLICY], ['poddisruptionbudgets']),
    rule(WRITE, [NETWORKING], ['networkpolicies', 'ingresses']),
  ];
}

function aggregateToView(): PolicyRule[] {
  return [
    rule(READ, [CORE], ['pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'configmaps']),
    rule(READ, [CORE], ['limitranges', 'resourcequotas', 'bindings', 'events', 'pods/status', 'resourcequotas/status', 'namespaces/status', 'replicationcontrollers/status', 'pods/log']),
    // Reading namespaces at the namespace scope means reading *this* namespace.
    rule(READ, [CORE], ['namespaces']),
    rule(READ, [DISCOVERY], ['endpointslices']),
    rule(READ, [APPS], ['controllerrevisions', 'statefulsets', 'statefulsets/status', 'statefulsets/scale', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'replicasets/status', 'replicasets/scale']),
    rule(READ, [AUTOSCALING], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status']),
    rule(READ, [BATCH], ['jobs', 'cronjobs', 'cronjobs/status', 'jobs/status']),
    rule(READ, [EXTENSIONS], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale', 'networkpolicies']),
    rule(READ, [POLICY], ['poddisruptionbudgets', 'poddisruptionbudgets/status']),
    rule(READ, [NETWORKING], ['networkpolicies', 'ingresses', 'ingresses/status']),
  ];
}

/** The default ClusterRoles (without the controllers'). */
function clusterRoles(): KubeObject[] {
  return [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], '*')]),
    clusterRole('system:discovery', [urls(['get'], '/livez', '/readyz', '/healthz', '/version', '/version/', '/openapi', '/openapi/*', '/api', '/api/*', '/apis', '/apis/*')]),
    clusterRole('system:monitoring', [urls(['get'], '/metrics', '/metrics/slis', '/livez', '/readyz', '/healthz', '/livez/*', '/readyz/*', '/healthz/*')]),
    clusterRole('system:basic-user', [
      rule(['create'], [AUTHZ], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews']),
      rule(['create'], [AUTHN], ['selfsubjectreviews']),
    ]),
    clusterRole('system:public-info-viewer', [urls(['get'], '/livez', '/readyz', '/healthz', '/version', '/version/')]),
    clusterRole('admin', [], { aggregateFrom: AGGREGATE_TO.admin }),
    clusterRole('edit', [], { labels: { [AGGREGATE_TO.admin]: 'true' }, aggregateFrom: AGGREGATE_TO.edit }),
    clusterRole('view', [], { labels: { [AGGREGATE_TO.edit]: 'true' }, aggregateFrom: AGGREGATE_TO.view }),
    clusterRole('system:aggregate-to-admin', [
      rule(['create'], [AUTHZ], ['localsubjectaccessreviews']),
      rule(READ_WRITE, ['rbac.authorization.k8s.io'], ['roles', 'rolebindings']),
    ], { labels: { [AGGREGATE_TO.admin]: 'true' } }),
    clusterRole('system:aggregate-to-edit', aggregateToEdit(), { labels: { [AGGREGATE_TO.edit]: 'true' } }),
    clusterRole('system:aggregate-to-view', aggregateToView(), { labels: { [AGGREGATE_TO.view]: 'true' } }),
    // metrics-server's role (Berth serves metrics.k8s.io itself): admin, edit and view read `kubectl top`.
    clusterRole('system:aggregated-metrics-reader', [rule(READ, ['metrics.k8s.io'], ['pods', 'nodes'])],
      { labels: { [AGGREGATE_TO.view]: 'true', [AGGREGATE_TO.edit]: 'true', [AGGREGATE_TO.admin]: 'true' } }),
    clusterRole('system:node', nodeRules()),
    clusterRole('system:node-problem-detector', [rule(['get'], [CORE], ['nodes']), rule(['patch'], [CORE], ['nodes/status']), eventsRule()]),
    clusterRole('system:kubelet-api-admin', [
      rule(READ, [CORE], ['nodes']),
      rule(['proxy'], [CORE], ['nodes']),
      rule(['*'], [CORE], ['nodes/proxy', 'nodes/metrics', 'nodes/spec', 'nodes/stats', 'nodes/log']),
    ]),
    clusterRole('system:node-bootstrapper', [rule(['create', 'get', 'list', 'watch'], [CERTIFICATES], ['certificatesigningrequests'])]),
    clusterRole('system:auth-delegator', [rule(['create'], [AUTHN], ['tokenreviews']), rule(['create'], [AUTHZ], ['subjectaccessreviews'])]),
    clusterRole('system:kube-aggregator', [rule(READ, [CORE], ['services', 'endpoints'])]),
    clusterRole('system:kube-controller-manager', [
      eventsRule(),
      // Leader election.
      rule(['create'], [COORDINATION], ['leases']),
      rule(['get', 'update'], [COORDINATION], ['leases'], [CONTROLLER_MANAGER_LEASE]),
      rule(['create'], [CORE], ['secrets', 'serviceaccounts']),
      rule(['delete'], [CORE], ['secrets']),
      rule(['get'], [CORE], ['namespaces', 'secrets', 'serviceaccounts', 'configmaps']),
      rule(['update'], [CORE], ['secrets', 'serviceaccounts']),
      rule(['create'], [AUTHN], ['tokenreviews']),
      rule(['create'], [AUTHZ], ['subjectaccessreviews']),
      // The shared informers.
      rule(['list', 'watch'], ['*'], ['*']),
      rule(['create'], [CORE], ['serviceaccounts/token']),
    ]),
    // CoreDNS's own role adds endpointslices and pods; Berth's DNS reads both.
    clusterRole('system:kube-dns', [rule(['list', 'watch'], [CORE], ['endpoints', 'services', 'pods']), rule(['list', 'watch'], [DISCOVERY], ['endpointslices'])]),
    clusterRole('system:persistent-volume-provisioner', [
      rule(['get', 'list', 'watch', 'create', 'delete'], [CORE], ['persistentvolumes']),
      rule(['get', 'list', 'watch', 'update'], [CORE], ['persistentvolumeclaims']),
      rule(READ, [STORAGE], ['storageclasses']),
      rule(['watch'], [CORE], ['events']),
      eventsRule(),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [rule(['create'], [CERTIFICATES], ['certificatesigningrequests/nodeclient'])]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [rule(['create'], [CERTIFICATES], ['certificatesigningrequests/selfnodeclient'])]),
    clusterRole('system:volume-scheduler', [rule(READ_UPDATE, [CORE], ['persistentvolumes']), rule(READ, [STORAGE], ['storageclasses']), rule(READ_UPDATE, [CORE], ['persistentvolumeclaims'])]),
    clusterRole('system:certificates.k8s.io:legacy-unknown-approver', [rule(['approve'], [CERTIFICATES], ['signers'], [SIGNERS.legacyUnknown])]),
    clusterRole('system:certificates.k8s.io:kubelet-serving-approver', [rule(['approve'], [CERTIFICATES], ['signers'], [SIGNERS.kubeletServing])]),
    clusterRole('system:certificates.k8s.io:kube-apiserver-client-approver', [rule(['approve'], [CERTIFICATES], ['signers'], [SIGNERS.kubeAPIServerClient])]),
    clusterRole('system:certificates.k8s.io:kube-apiserver-client-kubelet-approver', [rule(['approve'], [CERTIFICATES], ['signers'], [SIGNERS.kubeAPIServerClientKubelet])]),
    clusterRole('system:service-account-issuer-discovery', [urls(['get'], '/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/')]),
    clusterRole('system:node-proxier', [
      rule(['list', 'watch'], [CORE], ['services', 'endpoints']),
      rule(READ, [CORE], ['nodes']),
      eventsRule(),
      rule(['list', 'watch'], [DISCOVERY], ['endpointslices']),
    ]),
    // Berth's agent is also flannel: its pod network follows every Node (flannel's ClusterRole),
    // which the Node authorizer alone does not grant (a node reads only its own Node).
    clusterRole('berth:node-network', [rule(READ, [CORE], ['nodes'])]),
    // Berth's agent is also a storage node's engine driver (agent/storage/, a CSI node plugin's job):
    // it creates, heals, fences and deletes the engine volumes its PVs describe, and reports on them in
    // the PV's annotations — a node's credential, as every node's pods already hold every token a
    // DaemonSet-run driver would have.
    clusterRole('berth:storage-node', [rule(['get', 'list', 'watch', 'patch'], [CORE], ['persistentvolumes'])]),
    clusterRole('system:kube-scheduler', [
      eventsRule(),
      rule(['create'], [COORDINATION], ['leases']),
      rule(['get', 'update'], [COORDINATION], ['leases'], ['kube-scheduler']),
      rule(READ, [CORE], ['nodes']),
      rule(['get', 'list', 'watch', 'delete'], [CORE], ['pods']),
      rule(['create'], [CORE], ['pods/binding', 'bindings']),
      rule(['patch', 'update'], [CORE], ['pods/status']),
      rule(READ, [CORE], ['services', 'replicationcontrollers']),
      rule(READ, [APPS, EXTENSIONS], ['replicasets']),
      rule(READ, [APPS], ['statefulsets']),
      rule(READ, [POLICY], ['poddisruptionbudgets']),
      rule(READ, [CORE], ['persistentvolumeclaims', 'persistentvolumes']),
      rule(['create'], [AUTHN], ['tokenreviews']),
      rule(['create'], [AUTHZ], ['subjectaccessreviews']),
      rule(READ, [STORAGE], ['csinodes']),
      rule(READ, [CORE], ['namespaces']),
      rule(READ, [STORAGE], ['csidrivers', 'csistoragecapacities']),
    ]),
  ];
}

/**
 * Whom system:node is bound to: nobody, as in Kubernetes — the Node authorizer (auth/node) grants
 * its rules, each node only for its own objects. (A cluster whose binding still names system:nodes,
 * from before the Node authorizer, keeps it: reconciliation only adds subjects.)
 */
export const SYSTEM_NODE_SUBJECTS: readonly string[] = [];

function clusterRoleBindings(): KubeObject[] {
  return [
    clusterRoleBinding('cluster-admin', 'cluster-admin', 'Group:system:masters'),
    clusterRoleBinding('system:monitoring', 'system:monitoring', 'Group:system:monitoring'),
    clusterRoleBinding('system:discovery', 'system:discovery', 'Group:system:authenticated'),
    clusterRoleBinding('system:basic-user', 'system:basic-user', 'Group:system:authenticated'),
    clusterRoleBinding('system:public-info-viewer', 'system:public-info-viewer', 'Group:system:authenticated', 'Group:system:unauthenticated'),
    clusterRoleBinding('system:node-proxier', 'system:node-proxier', 'User:system:kube-proxy'),
    clusterRoleBinding('system:kube-controller-manager', 'system:kube-controller-manager', 'User:system:kube-controller-manager'),
    clusterRoleBinding('system:kube-dns', 'system:kube-dns', 'ServiceAccount:kube-system/kube-dns'),
    clusterRoleBinding('system:kube-scheduler', 'system:kube-scheduler', 'User:system:kube-scheduler'),
    clusterRoleBinding('system:volume-scheduler', 'system:volume-scheduler', 'User:system:kube-scheduler'),
    clusterRoleBinding('system:node', 'system:node', ...SYSTEM_NODE_SUBJECTS),
    clusterRoleBinding('system:service-account-issuer-discovery', 'system:service-account-issuer-discovery', 'Group:system:serviceaccounts'),
    // What kubeadm binds for joining nodes (kubeadm:kubelet-bootstrap, kubeadm:node-autoapprove-*):
    // a bootstrap token's user may send a CSR for a node certificate, which is approved at once;
    // a node may renew its own.
    clusterRoleBinding('berth:node-bootstrapper', 'system:node-bootstrapper', 'Group:system:bootstrappers'),
    clusterRoleBinding('berth:node-autoapprove-bootstrap', 'system:certificates.k8s.io:certificatesigningrequests:nodeclient', 'Group:system:bootstrappers'),
    clusterRoleBinding('berth:node-network', 'berth:node-network', 'Group:system:nodes'),
    clusterRoleBinding('berth:storage-node', 'berth:storage-node', 'Group:system:nodes'),
    clusterRoleBinding('berth:node-autoapprove-certificate-rotation', 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', 'Group:system:nodes'),
  ];
}

/** Everything the bootstrap creates, in the order it is reconciled (roles before their bindings). */
export interface BootstrapPolicy {
  clusterRoles: KubeObject[];
  clusterRoleBindings: KubeObject[];
  roles: KubeObject[];
  roleBindings: KubeObject[];
}

export function bootstrapPolicy(): BootstrapPolicy {
  return {
    clusterRoles: [...clusterRoles(), ...controllerClusterRoles()],
    clusterRoleBindings: [...clusterRoleBindings(), ...controllerClusterRoleBindings()],
    roles: namespaceRoles(),
    roleBindings: namespaceRoleBindings(),
  };
}
