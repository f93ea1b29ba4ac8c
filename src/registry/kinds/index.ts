/**
 * Every served resource with its strategy: the kind's defaults and validation (this folder) joined
 * with its table columns and field selectors (src/registry/tables).
 */
import { RESOURCES } from '../../apis/resources.ts';
import type { ResourceType, Strategy } from '../types.ts';
import { TABLES, FIELD_SELECTORS } from '../tables/index.ts';
import { namespaceStrategy } from './namespace.ts';
import { podStrategy } from './pod.ts';
import { serviceStrategy } from './service.ts';
import { endpointsStrategy } from './endpoints.ts';
import { configmapStrategy } from './configmap.ts';
import { secretStrategy } from './secret.ts';
import { nodeStrategy } from './node.ts';
import { eventStrategy } from './event.ts';
import { eventsV1Strategy } from './event-v1.ts';
import { serviceaccountStrategy } from './serviceaccount.ts';
import { persistentvolumeStrategy } from './persistentvolume.ts';
import { persistentvolumeclaimStrategy } from './persistentvolumeclaim.ts';
import { deploymentStrategy } from './deployment.ts';
import { replicaSetStrategy } from './replicaset.ts';
import { replicationControllerStrategy } from './replicationcontroller.ts';
import { ingressClassStrategy, ingressStrategy } from './ingress.ts';
import { mutatingWebhookConfigurationStrategy, validatingWebhookConfigurationStrategy } from './admissionregistration.ts';
import { statefulSetStrategy } from './statefulset.ts';
import { daemonSetStrategy } from './daemonset.ts';
import { controllerRevisionStrategy } from './controllerrevision.ts';
import { jobStrategy } from './job.ts';
import { cronJobStrategy } from './cronjob.ts';
import { leaseStrategy } from './lease.ts';
import { runtimeclassStrategy } from './runtimeclass.ts';
import { storageclassStrategy } from './storageclass.ts';
import { priorityClassStrategy } from './priority-class.ts';
import { endpointSliceStrategy } from './endpointslice.ts';
import { podDisruptionBudgetStrategy } from './poddisruptionbudget.ts';
import { horizontalPodAutoscalerStrategy } from './horizontalpodautoscaler.ts';
import { certificateSigningRequestStrategy } from './certificatesigningrequest.ts';
import { customResourceDefinitionStrategy } from '../apiextensions/crd-strategy.ts';
import { clusterRoleBindingStrategy, clusterRoleStrategy, roleBindingStrategy, roleStrategy } from './rbac.ts';

/** Keyed `<group>/<plural>`, '' for the core group. */
const STRATEGIES: Record<string, Strategy> = {
  '/namespaces': namespaceStrategy,
  '/pods': podStrategy,
  '/services': serviceStrategy,
  '/endpoints': endpointsStrategy,
  '/configmaps': configmapStrategy,
  '/secrets': secretStrategy,
  '/nodes': nodeStrategy,
  '/events': eventStrategy,
  '/serviceaccounts': serviceaccountStrategy,
  '/persistentvolumes': persistentvolumeStrategy,
  '/persistentvolumeclaims': persistentvolumeclaimStrategy,
  'apps/deployments': deploymentStrategy,
  'apps/replicasets': replicaSetStrategy,
  '/replicationcontrollers': replicationControllerStrategy,
  'networking.k8s.io/ingresses': ingressStrategy,
  'networking.k8s.io/ingressclasses': ingressClassStrategy,
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': mutatingWebhookConfigurationStrategy,
  'admissionregistration.k8s.io/validatingwebhookconfigurations': validatingWebhookConfigurationStrategy,
  'apps/statefulsets': statefulSetStrategy,
  'apps/daemonsets': daemonSetStrategy,
  'apps/controllerrevisions': controllerRevisionStrategy,
  'batch/jobs': jobStrategy,
  'batch/cronjobs': cronJobStrategy,
  'coordination.k8s.io/leases': leaseStrategy,
  'node.k8s.io/runtimeclasses': runtimeclassStrategy,
  'storage.k8s.io/storageclasses': storageclassStrategy,
  'scheduling.k8s.io/priorityclasses': priorityClassStrategy,
  'discovery.k8s.io/endpointslices': endpointSliceStrategy,
  'policy/poddisruptionbudgets': podDisruptionBudgetStrategy,
  'autoscaling/horizontalpodautoscalers': horizontalPodAutoscalerStrategy,
  'events.k8s.io/events': eventsV1Strategy,
  'apiextensions.k8s.io/customresourcedefinitions': customResourceDefinitionStrategy,
  'certificates.k8s.io/certificatesigningrequests': certificateSigningRequestStrategy,
  'rbac.authorization.k8s.io/roles': roleStrategy,
  'rbac.authorization.k8s.io/clusterroles': clusterRoleStrategy,
  'rbac.authorization.k8s.io/rolebindings': roleBindingStrategy,
  'rbac.authorization.k8s.io/clusterrolebindings': clusterRoleBindingStrategy,
};

export function resourceTypes(): ResourceType[] {
  return RESOURCES.map((info) => {
    const key = `${info.group}/${info.plural}`;
    const strategy: Strategy = {
      ...(STRATEGIES[key] ?? {}),
      table: TABLES[key],
      fieldSelectors: { ...(STRATEGIES[key]?.fieldSelectors ?? {}), ...(FIELD_SELECTORS[key] ?? {}) },
    };
    return { info, strategy };
  });
}
