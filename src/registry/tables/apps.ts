/**
 * `kubectl get` columns for apps/v1 kinds — deployments, replicasets, statefulsets, daemonsets,
 * controllerrevisions, and core/v1 replicationcontrollers — after printers.go, plus the ReplicaSet field selector `status.replicas`.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { FieldGetter, TableConvertor } from '../types.ts';
import { formatLabelSelector, labelSelectorToString } from '../../apis/selectors/label-selector-spec.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col, containerCells, formatLabels, int } from './format.ts';

const CONTAINERS = col('Containers', 'string', true, 'Names of each container in the template.');
const IMAGES = col('Images', 'string', true, 'Images referenced by each container in the template.');
const SELECTOR = col('Selector', 'string', true, 'Label selector of the pods.');

/** spec.replicas, defaulted to 1 as the API defaults it. */
const desired = (o: KubeObject): number => (typeof o.spec?.replicas === 'number' ? o.spec.replicas : 1);
const templateContainers = (o: KubeObject): unknown => o.spec?.template?.spec?.containers;

export const deploymentTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Ready', 'string', false, 'Number of the pod with ready state'),
    col('Up-to-date', 'string', false, 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
    col('Available', 'string', false, 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
    AGE_COLUMN, CONTAINERS, IMAGES, SELECTOR,
  ],
  cells(d, now) {
    const [names, images] = containerCells(templateContainers(d));
    let selector: string;
    try {
      // printDeployment prints the bare selector string ('' when empty), '<invalid>' on error.
      selector = labelSelectorToString(d.spec?.selector);
    } catch {
      selector = '<invalid>';
    }
    return [
      d.metadata.name, `${int(d.status?.readyReplicas)}/${desired(d)}`, int(d.status?.updatedReplicas),
      int(d.status?.availableReplicas), age(d, now), names, images, selector,
    ];
  },
};

export const replicaSetTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Desired', 'integer', false, 'Replicas is the number of desired replicas.'),
    col('Current', 'integer', false, 'Replicas is the most recently observed number of replicas.'),
    col('Ready', 'integer', false, 'The number of ready replicas for this replica set.'),
    AGE_COLUMN, CONTAINERS, IMAGES, SELECTOR,
  ],
  cells(rs, now) {
    const [names, images] = containerCells(templateContainers(rs));
    return [
      rs.metadata.name, desired(rs), int(rs.status?.replicas), int(rs.status?.readyReplicas), age(rs, now),
      names, images, formatLabelSelector(rs.spec?.selector),
    ];
  },
};

/** ReplicationControllers (core/v1) print as ReplicaSets do, with their map selector (printReplicationController). */
export const replicationControllerTable: TableConvertor = {
  columns: replicaSetTable.columns,
  cells(rc, now) {
    const [names, images] = containerCells(templateContainers(rc));
    return [
      rc.metadata.name, desired(rc), int(rc.status?.replicas), int(rc.status?.readyReplicas), age(rc, now),
      names, images, formatLabels(rc.spec?.selector),
    ];
  },
};

/** ReplicaSet fields selectable beyond metadata (ReplicaSetToSelectableFields). */
export const replicaSetFieldSelectors: Record<string, FieldGetter> = {
  'status.replicas': (rs) => String(int(rs.status?.replicas)),
};

export const statefulSetTable: TableConvertor = {
  columns: [NAME_COLUMN, col('Ready', 'string', false, 'Number of the pod with ready state'), AGE_COLUMN, CONTAINERS, IMAGES],
  cells(s, now) {
    const [names, images] = containerCells(templateContainers(s));
    return [s.metadata.name, `${int(s.status?.readyReplicas)}/${desired(s)}`, age(s, now), names, images];
  },
};

export const daemonSetTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Desired', 'integer', false, 'The total number of nodes that should be running the daemon pod.'),
    col('Current', 'integer', false, 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.'),
    col('Ready', 'integer', false, 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.'),
    col('Up-to-date', 'integer', false, 'The total number of nodes that are running updated daemon pod.'),
    col('Available', 'integer', false, 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available.'),
    col('Node Selector', 'string', false, 'NodeSelector is a selector which must be true for the pod to fit on a node.'),
    AGE_COLUMN, CONTAINERS, IMAGES, SELECTOR,
  ],
  cells(ds, now) {
    const st = ds.status ?? {};
    const [names, images] = containerCells(templateContainers(ds));
    return [
      ds.metadata.name, int(st.desiredNumberScheduled), int(st.currentNumberScheduled), int(st.numberReady),
      int(st.updatedNumberScheduled), int(st.numberAvailable), formatLabels(ds.spec?.template?.spec?.nodeSelector),
      age(ds, now), names, images, formatLabelSelector(ds.spec?.selector),
    ];
  },
};

/** `statefulset.apps/web` for the controlling owner, `<none>` without one. */
function controllerName(obj: KubeObject): string {
  const ref = (obj.metadata.ownerReferences ?? []).find((r) => r.controller === true);
  if (!ref) return '<none>';
  const slash = ref.apiVersion.indexOf('/');
  const group = slash >= 0 ? ref.apiVersion.slice(0, slash) : '';
  const groupKind = group ? `${ref.kind}.${group}` : ref.kind;
  return groupKind ? `${groupKind.toLowerCase()}/${ref.name}` : ref.name;
}

export const controllerRevisionTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Controller', 'string', false, 'Controller of the object'),
    col('Revision', 'string', false, 'Revision indicates the revision of the state represented by Data.'),
    AGE_COLUMN,
  ],
  cells(cr, now) {
    return [cr.metadata.name, controllerName(cr), int(cr.revision), age(cr, now)];
  },
};
