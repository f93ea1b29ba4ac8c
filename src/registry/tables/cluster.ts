/**
 * `kubectl get` columns for nodes, namespaces, leases and runtimeclasses, plus the field selectors
 * `spec.unschedulable` (nodes) and `status.phase` (namespaces).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { FieldGetter, TableConvertor } from '../types.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col, str } from './format.ts';

const ROLE_PREFIX = 'node-role.kubernetes.io/';
const ROLE_LABEL = 'kubernetes.io/role';

/** STATUS cell of a node: `Ready`, `NotReady`, `Unknown`, plus `,SchedulingDisabled`. */
export function nodeStatus(node: KubeObject): string {
  const conds: any[] = Array.isArray(node.status?.conditions) ? node.status.conditions : [];
  // The last Ready condition wins, as in printers.go's condition map.
  const ready = conds.filter((c) => c?.type === 'Ready').pop();
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

/** ROLES cell: from `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role=<role>`. */
export function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith(ROLE_PREFIX)) {
      const role = k.slice(ROLE_PREFIX.length);
      if (role) roles.add(role);
    } else if (k === ROLE_LABEL && v !== '') roles.add(v);
  }
  return roles.size ? [...roles].sort().join(',') : '<none>';
}

function nodeAddress(node: KubeObject, type: string): string {
  const addrs: any[] = Array.isArray(node.status?.addresses) ? node.status.addresses : [];
  return addrs.find((a) => a?.type === type)?.address ?? '<none>';
}

export const nodeTable: TableConvertor = {
  columns: [
    NAME_COLUMN,
    col('Status', 'string', false, 'The status of the node'),
    col('Roles', 'string', false, 'The roles of the node'),
    AGE_COLUMN,
    col('Version', 'string', false, 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'string', true, 'List of addresses reachable to the node.'),
    col('External-IP', 'string', true, 'List of addresses reachable to the node.'),
    col('OS-Image', 'string', true, 'OS Image reported by the node from /etc/os-release.'),
    col('Kernel-Version', 'string', true, "Kernel Version reported by the node from 'uname -r'."),
    col('Container-Runtime', 'string', true, 'ContainerRuntime Version reported by the node through runtime remote API.'),
  ],
  cells(node, now) {
    const info = node.status?.nodeInfo ?? {};
    return [
      node.metadata.name, nodeStatus(node), nodeRoles(node), age(node, now), str(info.kubeletVersion),
      nodeAddress(node, 'InternalIP'), nodeAddress(node, 'ExternalIP'),
      info.osImage || '<unknown>', info.kernelVersion || '<unknown>', info.containerRuntimeVersion || '<unknown>',
    ];
  },
};

/** Node fields selectable beyond metadata (NodeToSelectableFields). */
export const nodeFieldSelectors: Record<string, FieldGetter> = {
  'spec.unschedulable': (n) => (n.spec?.unschedulable === true ? 'true' : 'false'),
};

export const namespaceTable: TableConvertor = {
  columns: [NAME_COLUMN, col('Status', 'string', false, 'The status of the namespace'), AGE_COLUMN],
  cells(ns, now) {
    return [ns.metadata.name, str(ns.status?.phase), age(ns, now)];
  },
};

/** Namespace fields selectable beyond metadata (NamespaceToSelectableFields). */
export const namespaceFieldSelectors: Record<string, FieldGetter> = {
  'status.phase': (ns) => ns.status?.phase,
};

export const leaseTable: TableConvertor = {
  columns: [NAME_COLUMN, col('Holder', 'string', false, 'holderIdentity contains the identity of the holder of a current lease.'), AGE_COLUMN],
  cells(l, now) {
    return [l.metadata.name, str(l.spec?.holderIdentity), age(l, now)];
  },
};

export const runtimeClassTable: TableConvertor = {
  columns: [NAME_COLUMN, col('Handler', 'string', false, 'Handler specifies the underlying runtime and configuration.'), AGE_COLUMN],
  cells(rc, now) {
    return [rc.metadata.name, str(rc.handler), age(rc, now)];
  },
};
