/**
 * The annotations, finalizers and names of PersistentVolume binding and provisioning that more than
 * one part of Berth reads or writes (k8s.io/component-helpers/storage/volume: AnnBindCompleted,
 * AnnBoundByController, AnnSelectedNode, AnnStorageProvisioner…; pkg/volume/util finalizers), and
 * Berth's own local-path provisioner: its name and what a node agent publishes on its Node.
 */

/** On a PVC whose binding completed once (its value does not matter). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** On a PV or PVC bound by a controller rather than pre-bound by a user. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** On a dynamically provisioned PV: the provisioner that made it (and so deletes it). */
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
/** On a PVC to be provisioned: which provisioner should (the PV controller sets both keys). */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** On a PVC of a WaitForFirstConsumer class: the node the scheduler chose for its first pod. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** The pre-StorageClassName way to name a class, still honoured before `storageClassName`. */
export const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';
/** On a StorageClass: `true` makes it the default for PVCs that name no class. */
export const ANN_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
export const ANN_BETA_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';

/** Keeps a PVC a pod uses (pvc-protection controller). */
export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
/** Keeps a bound PV (pv-protection controller). */
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';

/** A class whose volumes are only ever made by hand (no dynamic provisioning). */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/** Berth's node-local provisioner: one directory per volume on the node the pod was scheduled to. */
export const LOCAL_PATH_PROVISIONER = 'berth.dev/local-path';
/** The default StorageClass every cluster has (created at server start). */
export const LOCAL_PATH_CLASS = 'local-path';
/** Node annotation (set by the node's agent): the absolute directory its local-path volumes live in. */
export const ANN_LOCAL_PATH_DIR = 'local-path.berth.dev/dir';
/**
 * Node annotation (set by the node's agent): how a local-path volume's size is enforced there —
 * `project` (file system project quotas) or `none` (capacity recorded, not enforced).
 */
export const ANN_LOCAL_PATH_QUOTA = 'local-path.berth.dev/quota';
/** PV annotation: the same, as it applied when the volume was provisioned or last resized. */
export const ANN_LOCAL_PATH_SIZE_LIMIT = 'local-path.berth.dev/size-limit';
