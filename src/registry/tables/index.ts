/**
 * Server-side printing for every kind Berth serves: `TABLES` (columns and cells for
 * `kubectl get`) and `FIELD_SELECTORS` (kind-specific fields for `?fieldSelector=`; metadata.name
 * and metadata.namespace are handled generically), both keyed `<group>/<plural>` with '' for the
 * core group, e.g. `/pods`, `apps/deployments`, `events.k8s.io/events`.
 */
import type { FieldGetter, TableConvertor } from '../types.ts';
import {
  controllerRevisionTable, daemonSetTable, deploymentTable, replicaSetFieldSelectors, replicaSetTable,
  replicationControllerTable, statefulSetTable,
} from './apps.ts';
import { cronJobTable, jobFieldSelectors, jobTable } from './batch.ts';
import {
  leaseTable, namespaceFieldSelectors, namespaceTable, nodeFieldSelectors, nodeTable, runtimeClassTable,
} from './cluster.ts';
import { configMapTable, secretFieldSelectors, secretTable, serviceAccountTable } from './config.ts';
import { eventFieldSelectors, eventsV1FieldSelectors, eventsV1Table, eventTable } from './events.ts';
import { webhookConfigurationTable } from './admissionregistration.ts';
import { defaultTable } from './default-table.ts';
import { endpointSliceTable, endpointsTable, ingressClassTable, ingressTable, serviceTable } from './network.ts';
import { podFieldSelectors, podTable } from './pods.ts';
import { persistentVolumeClaimTable, persistentVolumeTable, storageClassTable } from './storage.ts';
import { certificateSigningRequestFieldSelectors, certificateSigningRequestTable } from './certificates.ts';
import { roleBindingTable, roleTable } from './rbac.ts';
import { podDisruptionBudgetTable } from './policy.ts';
import { priorityClassTable } from './scheduling.ts';
import { horizontalPodAutoscalerTable } from './autoscaling.ts';

/** Table convertor per resource, keyed `<group>/<plural>`. */
export const TABLES: Record<string, TableConvertor> = {
  '/pods': podTable,
  '/services': serviceTable,
  '/endpoints': endpointsTable,
  '/configmaps': configMapTable,
  '/secrets': secretTable,
  '/nodes': nodeTable,
  '/namespaces': namespaceTable,
  '/events': eventTable,
  '/serviceaccounts': serviceAccountTable,
  '/persistentvolumes': persistentVolumeTable,
  '/persistentvolumeclaims': persistentVolumeClaimTable,
  'apps/deployments': deploymentTable,
  'apps/replicasets': replicaSetTable,
  '/replicationcontrollers': replicationControllerTable,
  'networking.k8s.io/ingresses': ingressTable,
  'networking.k8s.io/ingressclasses': ingressClassTable,
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': webhookConfigurationTable,
  'apiextensions.k8s.io/customresourcedefinitions': defaultTable,
  'admissionregistration.k8s.io/validatingwebhookconfigurations': webhookConfigurationTable,
  'apps/statefulsets': statefulSetTable,
  'apps/daemonsets': daemonSetTable,
  'apps/controllerrevisions': controllerRevisionTable,
  'batch/jobs': jobTable,
  'batch/cronjobs': cronJobTable,
  'coordination.k8s.io/leases': leaseTable,
  'node.k8s.io/runtimeclasses': runtimeClassTable,
  'storage.k8s.io/storageclasses': storageClassTable,
  'scheduling.k8s.io/priorityclasses': priorityClassTable,
  'discovery.k8s.io/endpointslices': endpointSliceTable,
  'policy/poddisruptionbudgets': podDisruptionBudgetTable,
  'autoscaling/horizontalpodautoscalers': horizontalPodAutoscalerTable,
  'events.k8s.io/events': eventsV1Table,
  'certificates.k8s.io/certificatesigningrequests': certificateSigningRequestTable,
  'rbac.authorization.k8s.io/roles': roleTable,
  'rbac.authorization.k8s.io/clusterroles': roleTable,
  'rbac.authorization.k8s.io/rolebindings': roleBindingTable,
  'rbac.authorization.k8s.io/clusterrolebindings': roleBindingTable,
  'authorization.k8s.io/localsubjectaccessreviews': roleTable,
  'authorization.k8s.io/selfsubjectaccessreviews': roleTable,
  'authorization.k8s.io/selfsubjectrulesreviews': roleTable,
  'authorization.k8s.io/subjectaccessreviews': roleTable,
  // Never stored, never listed: a name and an age, as for any kind without printers.
  'authentication.k8s.io/tokenreviews': roleTable,
  'authentication.k8s.io/selfsubjectreviews': roleTable,
};

/** Kind-specific selectable fields per resource, keyed `<group>/<plural>`; absent → metadata only. */
export const FIELD_SELECTORS: Record<string, Record<string, FieldGetter>> = {
  '/pods': podFieldSelectors,
  '/events': eventFieldSelectors,
  '/nodes': nodeFieldSelectors,
  '/namespaces': namespaceFieldSelectors,
  '/secrets': secretFieldSelectors,
  'apps/replicasets': replicaSetFieldSelectors,
  '/replicationcontrollers': replicaSetFieldSelectors,
  'batch/jobs': jobFieldSelectors,
  'events.k8s.io/events': eventsV1FieldSelectors,
  'certificates.k8s.io/certificatesigningrequests': certificateSigningRequestFieldSelectors,
};
