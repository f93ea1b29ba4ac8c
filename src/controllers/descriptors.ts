/**
 * Every controller Berth runs, one descriptor each (kube-controller-manager's
 * NewControllerDescriptors): adding a controller is adding an entry here. Names follow
 * kube-controller-manager's where there is one.
 */
import { R } from '../client/client.ts';
import { CRDS, CrdController } from './crd/crd-controller.ts';
import type { ControllerDescriptor } from './controller-descriptor.ts';
import { APPS } from './controller-utils.ts';
import { CRONJOBS, CronJobController } from './cronjob/cronjob-controller.ts';
import { DAEMONSETS, DaemonSetController } from './daemonset/daemonset-controller.ts';
import { DeploymentController } from './deployment/deployment-controller.ts';
import { EndpointsController } from './endpoints/endpoints-controller.ts';
import { EndpointSliceController, SLICE_SELECTOR } from './endpoints/endpointslice-controller.ts';
import { GarbageCollector } from './garbage-collector/garbage-collector.ts';
import { JobController } from './job/job-controller.ts';
import { JOBS } from './job/job-policy.ts';
import { NamespaceController } from './namespace/namespace-controller.ts';
import { finalizeThroughRegistry } from './namespace/namespace-finalize.ts';
import { NODE_LEASE_NAMESPACE, NodeLifecycleController } from './node-lifecycle/node-lifecycle-controller.ts';
import { NodeIpamController } from './node-ipam/node-ipam-controller.ts';
import { FencingController } from './fencing/fencing-controller.ts';
import { REPLICATION_CONTROLLER, ReplicaSetController } from './replicaset/replicaset-controller.ts';
import { SERVICE_ACCOUNTS, ServiceAccountController } from './serviceaccount/serviceaccount-controller.ts';
import { CSR_RESOURCE } from '../apis/certificates.ts';
import { CsrApprovingController } from './certificates/csr-approving-controller.ts';
import { CsrSigningController } from './certificates/csr-signing-controller.ts';
import { BOOTSTRAP_TOKEN_SCOPE, TokenCleaner } from './bootstrap/token-cleaner.ts';
import { CLUSTER_ROLES, ClusterRoleAggregationController } from './clusterrole-aggregation/clusterrole-aggregation-controller.ts';
import { TOKEN_SECRET_SCOPE, TokensController } from './serviceaccount-tokens/tokens-controller.ts';
import { ROOT_CA_SCOPE, RootCaPublisher } from './root-ca-publisher/root-ca-publisher.ts';
import { CONTROLLER_REVISIONS } from './statefulset/stateful-set-revisions.ts';
import { STATEFULSETS, StatefulSetController } from './statefulset/statefulset-controller.ts';
import { DisruptionController, PDBS } from './disruption/disruption-controller.ts';
import { PersistentVolumeController, STORAGE_CLASSES } from './persistentvolume/pv-controller.ts';
import { PvcProtectionController } from './volume-protection/pvc-protection-controller.ts';
import { PvProtectionController } from './volume-protection/pv-protection-controller.ts';
import { HELPER_POD_SCOPE, LocalPathProvisioner } from './local-path/local-path-provisioner.ts';
import { ReplicatedProvisioner } from './replicated/replicated-provisioner.ts';
import { HPAS, HorizontalController } from './podautoscaler/horizontal-controller.ts';
import { PodGcController } from './podgc/pod-gc-controller.ts';
import { registryPodMetrics } from './podautoscaler/pod-metrics.ts';
import { registryScales } from './podautoscaler/scale-client.ts';

/** The controllers, in start order (the API's own first). */
export const CONTROLLER_DESCRIPTORS: readonly ControllerDescriptor[] = [
  {
    name: 'namespace', watches: 'every-namespaced-resource', workers: 2, apiSemantics: true,
    build: (ctx, log) => new NamespaceController(ctx.client, ctx.factory, ctx.resources, finalizeThroughRegistry(ctx.registry), log),
  },
  {
    name: 'garbage-collector', watches: 'every-resource', workers: 4, apiSemantics: true,
    build: (ctx, log) => new GarbageCollector(ctx.client, ctx.factory, ctx.resources, log),
  },
  {
    // API semantics too: a binding to an aggregated ClusterRole (admin, edit, view) grants its aggregated rules.
    name: 'clusterrole-aggregation', watches: [{ ref: CLUSTER_ROLES }], workers: 1, apiSemantics: true,
    build: (ctx, log) => new ClusterRoleAggregationController(ctx.client, ctx.factory, log),
  },
  {
    name: 'replicaset', watches: [{ ref: APPS.replicasets }, { ref: R.pods }], workers: 2,
    build: (ctx, log) => new ReplicaSetController(ctx.client, ctx.factory, log, { recorder: ctx.recorder }),
  },
  {
    // kube-controller-manager's "horizontalpodautoscaling": metrics from metrics.k8s.io, in-process.
    name: 'horizontal-pod-autoscaler', watches: [{ ref: HPAS }, { ref: R.pods }], workers: 2,
    build: (ctx, log) => new HorizontalController(ctx.client, ctx.factory, log, {
      metrics: registryPodMetrics(ctx.registry, ctx.settings.agentTls), scales: registryScales(ctx.registry, ctx.client), recorder: ctx.recorder,
    }),
  },
  {
    // The same loop over core/v1 ReplicationControllers (upstream's ReplicationManager).
    name: 'replicationcontroller', watches: [{ ref: REPLICATION_CONTROLLER.resource }, { ref: R.pods }], workers: 2,
    build: (ctx, log) => new ReplicaSetController(ctx.client, ctx.factory, log, { recorder: ctx.recorder, kind: REPLICATION_CONTROLLER }),
  },
  {
    name: 'deployment', watches: [{ ref: APPS.deployments }, { ref: APPS.replicasets }, { ref: R.pods }], workers: 2,
    build: (ctx, log) => new DeploymentController(ctx.client, ctx.factory, log, { recorder: ctx.recorder }),
  },
  {
    name: 'daemonset', watches: [{ ref: DAEMONSETS }, { ref: R.nodes }, { ref: R.pods }, { ref: CONTROLLER_REVISIONS }], workers: 2,
    build: (ctx, log) => new DaemonSetController(ctx.client, ctx.factory, log, { recorder: ctx.recorder }),
  },
  {
    name: 'statefulset', watches: [{ ref: STATEFULSETS }, { ref: R.pods }, { ref: CONTROLLER_REVISIONS }], workers: 2,
    build: (ctx, log) => new StatefulSetController(ctx.client, ctx.factory, log, { recorder: ctx.recorder }),
  },
  {
    name: 'disruption', watches: [{ ref: PDBS }, { ref: R.pods }, { ref: APPS.replicasets }, { ref: APPS.deployments }, { ref: STATEFULSETS }], workers: 2,
    build: (ctx, log) => new DisruptionController(ctx.client, ctx.factory, log, { clock: ctx.settings.clock, recorder: ctx.recorder, resources: ctx.resources }),
  },
  {
    // One worker per queue (claims, volumes) whatever is asked: a claim sync is not reentrant.
    name: 'persistentvolume-binder', watches: [{ ref: R.persistentvolumes }, { ref: R.persistentvolumeclaims }, { ref: STORAGE_CLASSES }, { ref: R.pods }], workers: 1,
    build: (ctx, log) => new PersistentVolumeController(ctx.client, ctx.factory, log, { recorder: ctx.recorder }),
  },
  {
    name: 'pvc-protection', watches: [{ ref: R.persistentvolumeclaims }, { ref: R.pods }], workers: 1,
    build: (ctx, log) => new PvcProtectionController(ctx.client, ctx.factory, log),
  },
  {
    name: 'pv-protection', watches: [{ ref: R.persistentvolumes }], workers: 1,
    build: (ctx, log) => new PvProtectionController(ctx.client, ctx.factory, log),
  },
  {
    name: 'local-path-provisioner', watches: [{ ref: R.persistentvolumeclaims }, { ref: R.persistentvolumes }, { ref: R.nodes }, { ref: STORAGE_CLASSES }, { ref: R.pods, scope: HELPER_POD_SCOPE }], workers: 1,
    build: (ctx, log) => new LocalPathProvisioner(ctx.client, ctx.factory, log, { recorder: ctx.recorder }),
  },
  {
    name: 'replicated-provisioner', watches: [{ ref: R.persistentvolumeclaims }, { ref: R.persistentvolumes }, { ref: R.nodes }, { ref: STORAGE_CLASSES }], workers: 1,
    build: (ctx, log) => new ReplicatedProvisioner(ctx.client, ctx.factory, log, {
      recorder: ctx.recorder, rebuildAfterMs: ctx.settings.replicaRebuildDelaySeconds === undefined ? undefined : ctx.settings.replicaRebuildDelaySeconds * 1000,
    }),
  },
  {
    name: 'job', watches: [{ ref: JOBS }, { ref: R.pods }], workers: 2,
    build: (ctx, log) => new JobController(ctx.client, ctx.factory, log, { clock: ctx.settings.clock, backoff: ctx.settings.jobBackoff, recorder: ctx.recorder }),
  },
  {
    name: 'cronjob', watches: [{ ref: CRONJOBS }, { ref: JOBS }], workers: 1,
    build: (ctx, log) => new CronJobController(ctx.client, ctx.factory, log, { clock: ctx.settings.clock, recorder: ctx.recorder }),
  },
  {
    name: 'node-lifecycle', watches: [{ ref: R.nodes }, { ref: R.leases, scope: { namespace: NODE_LEASE_NAMESPACE } }, { ref: R.pods }], workers: 2,
    build: (ctx, log) => new NodeLifecycleController(ctx.client, ctx.factory, log, { clock: ctx.settings.clock, gracePeriodSeconds: ctx.settings.nodeGracePeriodSeconds, recorder: ctx.recorder }),
  },
  {
    // kube-controller-manager's "pod-garbage-collector": orphans of deleted nodes, terminated pods over the threshold.
    name: 'pod-garbage-collector', watches: [{ ref: R.pods }, { ref: R.nodes }], workers: 1,
    build: (ctx, log) => new PodGcController(ctx.client, ctx.factory, log, { terminatedPodThreshold: ctx.settings.terminatedPodGcThreshold }),
  },
  {
    // Issue 16: a lost node's stateful members fenced and moved (fencing/README.md).
    name: 'fencing', watches: [{ ref: R.nodes }, { ref: R.pods }, { ref: R.persistentvolumeclaims }, { ref: R.persistentvolumes }, { ref: STATEFULSETS }], workers: 1,
    build: (ctx, log) => new FencingController(ctx.client, ctx.factory, log, { clock: ctx.settings.clock, recorder: ctx.recorder }),
  },
  {
    name: 'node-ipam', watches: [{ ref: R.nodes }], workers: 1,
    build: (ctx, log) => new NodeIpamController(ctx.client, ctx.factory, log, { clusterCidr: ctx.settings.clusterCidr, nodeCidrMaskSize: ctx.settings.nodeCidrMaskSize, serviceCidr: ctx.settings.serviceCidr, recorder: ctx.recorder }),
  },
  {
    // The API's own: a CRD's kind is served once Established, and a deleted CRD goes once its objects have.
    name: 'customresourcedefinition', watches: [{ ref: CRDS }], workers: 1, apiSemantics: true,
    build: (ctx, log) => new CrdController(ctx.client, ctx.factory, ctx.resources, log),
  },
  {
    // The API's own too: ServiceAccount admission refuses pods until their namespace has a `default`.
    name: 'serviceaccount', watches: [{ ref: R.namespaces }, { ref: SERVICE_ACCOUNTS }], workers: 1, apiSemantics: true,
    build: (ctx, log) => new ServiceAccountController(ctx.client, ctx.factory, log),
  },
  {
    name: 'serviceaccount-token', watches: [{ ref: SERVICE_ACCOUNTS }, { ref: R.secrets, scope: TOKEN_SECRET_SCOPE }], workers: 1,
    build: (ctx, log) => new TokensController(ctx.client, ctx.factory, ctx.serviceAccountTokens, log),
  },
  {
    name: 'root-ca-cert-publisher', watches: [{ ref: R.namespaces }, { ref: R.configmaps, scope: ROOT_CA_SCOPE }], workers: 1,
    build: (ctx, log) => new RootCaPublisher(ctx.client, ctx.factory, ctx.serviceAccountTokens?.rootCA, log),
  },
  {
    name: 'endpointslice', watches: [{ ref: R.services }, { ref: R.pods }, { ref: R.endpointslices, scope: { labelSelector: SLICE_SELECTOR } }], workers: 2,
    build: (ctx, log) => new EndpointSliceController(ctx.client, ctx.factory, log),
  },
  {
    name: 'endpoints', watches: [{ ref: R.services }, { ref: R.pods }, { ref: R.endpoints }], workers: 2,
    build: (ctx, log) => new EndpointsController(ctx.client, ctx.factory, log),
  },
  {
    name: 'csrapproving', watches: [{ ref: CSR_RESOURCE }], workers: 1,
    build: (ctx, log) => new CsrApprovingController(ctx.client, ctx.factory, log),
  },
  {
    name: 'csrsigning', watches: [{ ref: CSR_RESOURCE }], workers: 1,
    build: (ctx, log) => new CsrSigningController(ctx.client, ctx.factory, ctx.settings.clusterSigning, log),
  },
  {
    name: 'tokencleaner', watches: [{ ref: R.secrets, scope: BOOTSTRAP_TOKEN_SCOPE }], workers: 1,
    build: (ctx, log) => new TokenCleaner(ctx.client, ctx.factory, log),
  },
];

/** The descriptors with these names, in the list's order; an unknown name throws. */
export function descriptorsNamed(...names: string[]): ControllerDescriptor[] {
  const unknown = names.filter((n) => !CONTROLLER_DESCRIPTORS.some((d) => d.name === n));
  if (unknown.length) throw new Error(`unknown controllers: ${unknown.join(', ')}`);
  return CONTROLLER_DESCRIPTORS.filter((d) => names.includes(d.name));
}
