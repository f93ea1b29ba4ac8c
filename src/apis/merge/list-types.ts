/**
 * Server-side-apply markers of the built-in types that the strategic-merge-patch tags (merge-keys.ts)
 * do not say or say differently: `+listType`/`+listMapKey` where a list is keyed by more than its
 * patch merge key, `+structType=atomic` (`x-kubernetes-map-type: atomic`) types, and the defaults of
 * list-map key fields (a port without a protocol is keyed as TCP). Written out from k8s.io/api's Go
 * markers; scripts/gen-openapi.ts copies them into definitions.json as Kubernetes' OpenAPI carries them.
 */

export interface ListType { type: 'atomic' | 'set' | 'map'; keys?: string[] }

const CORE = 'io.k8s.api.core.v1';
const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const map = (...keys: string[]): ListType => ({ type: 'map', keys });

/** definition name → field → list type. */
export const LIST_TYPES: Readonly<Record<string, Readonly<Record<string, ListType>>>> = {
  [`${META}.ObjectMeta`]: { finalizers: { type: 'set' }, ownerReferences: map('uid') },
  [`${CORE}.PodSpec`]: {
    containers: map('name'),
    initContainers: map('name'),
    ephemeralContainers: map('name'),
    volumes: map('name'),
    imagePullSecrets: map('name'),
    hostAliases: map('ip'),
    topologySpreadConstraints: map('topologyKey', 'whenUnsatisfiable'),
    resourceClaims: map('name'),
    schedulingGates: map('name'),
  },
  [`${CORE}.Container`]: { ports: map('containerPort', 'protocol'), env: map('name'), volumeMounts: map('mountPath'), volumeDevices: map('devicePath') },
  [`${CORE}.EphemeralContainer`]: { ports: map('containerPort', 'protocol'), env: map('name'), volumeMounts: map('mountPath'), volumeDevices: map('devicePath') },
  [`${CORE}.ServiceSpec`]: { ports: map('port', 'protocol') },
};

/** Types applied as one value (`+structType=atomic`). */
export const ATOMIC_STRUCTS: readonly string[] = [
  `${META}.LabelSelector`,
  `${CORE}.LocalObjectReference`,
  `${CORE}.ObjectReference`,
  `${CORE}.TypedLocalObjectReference`,
  `${CORE}.ConfigMapKeySelector`,
  `${CORE}.SecretKeySelector`,
  `${CORE}.ObjectFieldSelector`,
  `${CORE}.ResourceFieldSelector`,
  `${CORE}.NodeSelector`,
  `${CORE}.NodeSelectorTerm`,
];

/** Defaults of list-map key fields: definition → field → default. */
export const KEY_DEFAULTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  [`${CORE}.ContainerPort`]: { protocol: 'TCP' },
  [`${CORE}.ServicePort`]: { protocol: 'TCP' },
};
