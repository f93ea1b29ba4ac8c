/**
 * The names that the replicated-volume engine, the fencing controller and the node agents share
 * (Berth's own; Kubernetes leaves a lost stateful member to a human — see issue 16). One file so the
 * three parts agree on the contract without importing each other:
 *
 *   fencing controller (control plane)         brick nodes' agents (storage component)
 *   ─ sets ANN_FENCE on each PV of a lost      ─ block the fenced node's traffic to their bricks
 *     node's stateful member (node + gen)        (nftables) and answer with ANN_FENCE_ACK_PREFIX+node
 *   ─ waits for the acks (or the brick node     ─ lift the block when ANN_FENCE is removed
 *     itself being lost), then moves the pod
 *
 *   node agent: writes HEARTBEAT_FILE after every successful Lease renewal; each stateful container's
 *   shim kills its container when the file is older than the node's fenceAfter (self-fencing).
 */

/** The provisioner of replicated volumes (replica 3 on 3 distinct storage nodes). */
export const REPLICATED_PROVISIONER = 'berth.dev/replicated';
/** The StorageClass every cluster has for them (created at server start, like local-path). */
export const REPLICATED_CLASS = 'replicated';
/** Node label an agent started with `--storage` sets: this node runs a storage daemon and holds bricks. */
export const STORAGE_NODE_LABEL = 'storage.berth.dev/node';

/**
 * On a PV (and its PVC): the current fence, JSON `{"node": "<lost node>", "generation": <n>}`. The
 * generation only grows; it is the fencing generation the issue asks to record.
 */
export const ANN_FENCE = 'storage.berth.dev/fence';
/** On a PV: `<prefix><brick node>` = the generation that brick node has enforced. */
export const ANN_FENCE_ACK_PREFIX = 'storage.berth.dev/fence-ack.';

/**
 * On a StatefulSet: "true" lets a member whose local-path volume died with its node start elsewhere
 * with an empty volume (its PVC is deleted and made again). Without it such a member stays put.
 */
export const ANN_REPLACE_WITH_EMPTY_VOLUME = 'berth.dev/replace-with-empty-volume';
