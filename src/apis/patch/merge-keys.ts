/**
 * Strategic-merge-patch metadata for the built-in types Berth serves: the `patchStrategy` and
 * `patchMergeKey` struct tags of Kubernetes' Go types (k8s.io/api, k8s.io/apimachinery), written out
 * as a table keyed by OpenAPI definition name and JSON field name. Fields not listed have no strategy:
 * lists are replaced wholesale and maps are merged recursively.
 *
 * The OpenAPI generator (scripts/gen-openapi.ts) copies these into `x-kubernetes-patch-strategy` /
 * `x-kubernetes-patch-merge-key`; the strategic merge patch reads them from here.
 */

/** One field's patch metadata. */
export interface PatchMeta {
  /** Comma-separated, as in the Go tag: `merge`, `retainKeys`, `merge,retainKeys`, `replace`. */
  strategy: string;
  /** Key identifying list items of object lists; absent for primitive lists and structs. */
  mergeKey?: string;
}

const merge = (mergeKey?: string): PatchMeta => (mergeKey ? { strategy: 'merge', mergeKey } : { strategy: 'merge' });
const mergeRetain = (mergeKey: string): PatchMeta => ({ strategy: 'merge,retainKeys', mergeKey });
const byType = merge('type');

// Containers and ephemeral containers share the same list fields.
const containerFields: Record<string, PatchMeta> = {
  ports: merge('containerPort'),
  env: merge('name'),
  volumeMounts: merge('mountPath'),
  volumeDevices: merge('devicePath'),
};

const CORE = 'io.k8s.api.core.v1';
const APPS = 'io.k8s.api.apps.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';

/** definition name → field → patch metadata. */
export const MERGE_KEYS: Readonly<Record<string, Readonly<Record<string, PatchMeta>>>> = {
  [`${META}.ObjectMeta`]: { finalizers: merge(), ownerReferences: merge('uid') },
  [`${CORE}.PodSpec`]: {
    volumes: mergeRetain('name'),
    initContainers: merge('name'),
    containers: merge('name'),
    ephemeralContainers: merge('name'),
    imagePullSecrets: merge('name'),
    hostAliases: merge('ip'),
    topologySpreadConstraints: merge('topologyKey'),
    schedulingGates: merge('name'),
    resourceClaims: mergeRetain('name'),
  },
  [`${CORE}.Container`]: containerFields,
  [`${CORE}.EphemeralContainer`]: containerFields,
  [`${CORE}.PodStatus`]: {
    conditions: byType,
    podIPs: merge('ip'),
    hostIPs: merge('ip'),
    resourceClaimStatuses: mergeRetain('name'),
  },
  [`${CORE}.NodeSpec`]: { podCIDRs: merge() },
  [`${CORE}.NodeStatus`]: { conditions: byType, addresses: byType },
  [`${CORE}.NamespaceStatus`]: { conditions: byType },
  [`${CORE}.ServiceSpec`]: { ports: merge('port') },
  [`${CORE}.ServiceStatus`]: { conditions: byType },
  [`${CORE}.ServiceAccount`]: { secrets: merge('name') },
  [`${CORE}.PersistentVolumeClaimStatus`]: { conditions: byType },
  [`${APPS}.DeploymentSpec`]: { strategy: { strategy: 'retainKeys' } },
  [`${APPS}.DeploymentStatus`]: { conditions: byType },
  [`${APPS}.ReplicaSetStatus`]: { conditions: byType },
  [`${APPS}.StatefulSetStatus`]: { conditions: byType },
  [`${APPS}.DaemonSetStatus`]: { conditions: byType },
  ['io.k8s.api.batch.v1.JobStatus']: { conditions: byType },
  ['io.k8s.api.policy.v1.PodDisruptionBudgetStatus']: { conditions: byType },
};

/** Patch metadata of `field` in definition `defName`, if Kubernetes declares any. */
export function patchMetaFor(defName: string | undefined, field: string): PatchMeta | undefined {
  return defName ? MERGE_KEYS[defName]?.[field] : undefined;
}

/** True when the comma-separated strategy contains `part` (e.g. `merge` in `merge,retainKeys`). */
export function hasStrategy(meta: PatchMeta | undefined, part: string): boolean {
  return !!meta && meta.strategy.split(',').includes(part);
}
