/**
 * What a node may do beyond what the Node authorizer decides by relationship — the statically
 * defined rules of plugin/pkg/auth/authorizer/rbac/bootstrappolicy's NodeRules (the system:node
 * role), which the Node authorizer itself evaluates for every resource it does not subdivide. (What a
 * bootstrap token may do — system:node-bootstrapper — RBAC grants, as kubeadm binds it.)
 *
 * Berth's agent is the kubelet and kube-proxy in one process with one credential, so the node rules
 * also carry system:node-proxier's reads (EndpointSlices, Endpoints, events.k8s.io events).
 */
import type { PolicyRule } from '../rbac/policy-rule.ts';

const READ = ['get', 'list', 'watch'];

export const NODE_RULES: readonly PolicyRule[] = [
  // Delegated authentication and authorization of calls to the node's own server.
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'] },
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews', 'localsubjectaccessreviews'] },
  // Services for pods' environment variables and the service proxy.
  { verbs: READ, apiGroups: [''], resources: ['services'] },
  // Nodes and pods are subdivided by the Node authorizer; these rules stand for clusters without it.
  { verbs: ['create', 'get', 'list', 'watch'], apiGroups: [''], resources: ['nodes'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['nodes/status'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['nodes'] },
  { verbs: ['create', 'update', 'patch'], apiGroups: [''], resources: ['events'] },
  { verbs: READ, apiGroups: [''], resources: ['pods'] },
  { verbs: ['create', 'delete'], apiGroups: [''], resources: ['pods'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['pods/status'] },
  { verbs: ['create'], apiGroups: [''], resources: ['pods/eviction'] },
  // Secrets, config maps, claims and volumes: narrowed to the node's pods by the graph.
  { verbs: READ, apiGroups: [''], resources: ['secrets', 'configmaps'] },
  { verbs: ['get'], apiGroups: [''], resources: ['persistentvolumeclaims', 'persistentvolumes'] },
  { verbs: ['get'], apiGroups: [''], resources: ['endpoints'] },
  // The node renews its own client and serving certificates.
  { verbs: ['create', 'get', 'list', 'watch'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'] },
  { verbs: ['get', 'create', 'update', 'patch', 'delete'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
  { verbs: ['get', 'update', 'patch'], apiGroups: [''], resources: ['persistentvolumeclaims/status'] },
  { verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'] },
  { verbs: READ, apiGroups: ['node.k8s.io'], resources: ['runtimeclasses'] },
  { verbs: READ, apiGroups: ['storage.k8s.io'], resources: ['csidrivers'] },
  // system:node-proxier: the service proxy's reads and events.
  { verbs: ['list', 'watch'], apiGroups: [''], resources: ['endpoints'] },
  { verbs: READ, apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] },
  { verbs: ['create', 'update', 'patch'], apiGroups: ['events.k8s.io'], resources: ['events'] },
];
