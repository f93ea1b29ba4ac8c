/**
 * The scale of a pod's controller, read from the informers' caches — the finders of
 * pkg/controller/disruption (getPodReplicaSet, getPodDeployment, getPodStatefulSet and the generic
 * getScaleController). Berth's kinds with a scale subresource are exactly Deployments, ReplicaSets and
 * StatefulSets (ReplicationControllers are not served), so the generic finder has no other kind to
 * ask; for any other owner it gives upstream's answers: the kind does not implement scale, or no
 * such kind is served.
 */
import type { OwnerReference } from '../../apis/object.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import type { Informer } from '../../client/controller-types.ts';
import { controllerRefOf } from '../controller-utils.ts';
import type { ControllerScale, ScaleFinder } from './disruption-policy.ts';

/** The workload caches the finders read. */
export interface WorkloadCaches {
  replicasets: Informer;
  deployments: Informer;
  statefulsets: Informer;
}

const groupOf = (apiVersion: string): string => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
const APPS_GROUPS = ['apps', 'extensions'];

/** A cached object of this name with the uid the reference names, as its scale. */
function scaleOf(cache: Informer, namespace: string, ref: { name: string; uid: string }): ControllerScale | undefined {
  const obj = cache.get(`${namespace}/${ref.name}`);
  if (!obj || obj.metadata.uid !== ref.uid) return undefined;
  return { uid: obj.metadata.uid!, replicas: Number(obj.spec?.replicas ?? 1) };
}

/**
 * A ScaleFinder over the caches. A ReplicaSet a Deployment controls counts as the Deployment (its
 * replicas are what the rollout keeps); one whose Deployment is gone counts as itself.
 */
export function scaleFinder(caches: WorkloadCaches, served: readonly ResourceInfo[]): ScaleFinder {
  return (ref: OwnerReference, namespace: string) => {
    const group = groupOf(ref.apiVersion);
    if (ref.kind === 'ReplicaSet' && APPS_GROUPS.includes(group)) {
      const rs = caches.replicasets.get(`${namespace}/${ref.name}`);
      if (!rs || rs.metadata.uid !== ref.uid) return undefined;
      const owner = controllerRefOf(rs);
      if (owner?.kind === 'Deployment' && APPS_GROUPS.includes(groupOf(owner.apiVersion))) {
        const d = scaleOf(caches.deployments, namespace, owner);
        if (d) return d;
      }
      return scaleOf(caches.replicasets, namespace, ref);
    }
    if (ref.kind === 'StatefulSet' && group === 'apps') return scaleOf(caches.statefulsets, namespace, ref);
    if (ref.kind === 'Deployment' && APPS_GROUPS.includes(group)) return scaleOf(caches.deployments, namespace, ref);
    const info = served.find((r) => r.group === group && r.kind === ref.kind);
    if (!info) throw new Error(`no matches for kind "${ref.kind}" in version "${ref.apiVersion}"`);
    const resource = group ? `${info.plural}.${group}` : info.plural;
    if (info.subresources?.includes('scale')) throw new Error(`the scale of ${resource} is not read by the disruption controller`);
    throw new Error(`${resource} does not implement the scale subresource`);
  };
}
