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
 * On a PV (and its PVC): the current fence, JSON `{"node": "<lost node>", "generation": <n>}` (more
 * fields may follow: see {@link Fence}). The generation only grows; it is the fencing generation the
 * issue asks to record. The fencing controller also sets it on the fenced pod itself (with `pod`): an
 * agent never runs a pod carrying a fence that names its node.
 */
export const ANN_FENCE = 'storage.berth.dev/fence';
/** On a PV: `<prefix><brick node>` = the generation that brick node has enforced. */
export const ANN_FENCE_ACK_PREFIX = 'storage.berth.dev/fence-ack.';

/**
 * On a StatefulSet: "true" lets a member whose local-path volume died with its node start elsewhere
 * with an empty volume (its PVC is deleted and made again). Without it such a member stays put.
 */
export const ANN_REPLACE_WITH_EMPTY_VOLUME = 'berth.dev/replace-with-empty-volume';

/**
 * The agent's heartbeat, `<agent data dir>/<HEARTBEAT_FILE>`: one line, the CLOCK_MONOTONIC time in
 * milliseconds at which the agent *sent* its last successful node Lease renewal (monotonic, so a
 * wall-clock step neither fences nor un-fences; the shims on the same machine read the same clock).
 * Written atomically (temporary file + rename).
 */
export const HEARTBEAT_FILE = 'lease-heartbeat';
/** On a Node: the agent's fenceAfter in seconds — its stateful containers die that long after its last renewal. */
export const ANN_NODE_FENCE_AFTER = 'berth.dev/fence-after-seconds';
/** fenceAfter unless configured: 5 s, under the 8 s node grace with a 2 s margin and over two renewals. */
export const DEFAULT_FENCE_AFTER_SECONDS = 5;
/** What the control plane adds to grace + fenceAfter before it moves a member (the shim's check period, kill time, slack). */
export const FENCE_MARGIN_SECONDS = 2;

/** The value of ANN_FENCE (on PVs, PVCs, and the fenced pod itself). */
export interface Fence {
  /** The lost node. */
  node: string;
  /** Grows by one with every fence of a volume; a pod's fence carries the highest of its volumes'. */
  generation: number;
  /** The uid of the pod the fence was set for (so its replacement, same name, is not taken for it). */
  pod?: string;
  /** When the control plane set it (RFC 3339). */
  at?: string;
}

/** ANN_FENCE's value parsed, or undefined when absent or malformed. */
export function parseFence(value: string | undefined): Fence | undefined {
  if (!value) return undefined;
  try {
    const f = JSON.parse(value) as Partial<Fence>;
    if (typeof f.node !== 'string' || !f.node || !Number.isSafeInteger(f.generation) || f.generation! < 0) return undefined;
    return { node: f.node, generation: f.generation!, ...(typeof f.pod === 'string' ? { pod: f.pod } : {}), ...(typeof f.at === 'string' ? { at: f.at } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Whether a pod is stateful for fencing: a StatefulSet member, or a pod with a persistentVolumeClaim
 * volume (its data may be taken over elsewhere). Only such pods' containers self-fence and only they
 * are moved by the fencing controller; an ordinary pod outlives its agent as before.
 */
export function isStatefulPod(pod: { metadata: { ownerReferences?: { kind?: string; controller?: boolean }[] }; spec?: { volumes?: { persistentVolumeClaim?: unknown }[] } }): boolean {
  if (pod.metadata.ownerReferences?.some((r) => r.controller && r.kind === 'StatefulSet')) return true;
  return (pod.spec?.volumes ?? []).some((v) => !!v.persistentVolumeClaim);
}

/**
 * The fenceAfter seconds, checked: at least two Lease renewals (a late renewal must not fence a
 * healthy node) and at most the node grace minus FENCE_MARGIN_SECONDS (a node must have fenced itself
 * before the control plane could think it lost).
 */
export function validateFenceAfter(seconds: number, renewIntervalSeconds: number, graceSeconds: number): number {
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`--fence-after must be a positive number of seconds, got ${seconds}`);
  if (seconds < 2 * renewIntervalSeconds) {
    throw new Error(`--fence-after ${seconds} s is too short: the agent renews its Lease every ${renewIntervalSeconds} s, so under ${2 * renewIntervalSeconds} s (two renewals) `
      + `one late renewal would kill the node's stateful containers; use at least ${2 * renewIntervalSeconds} (default ${DEFAULT_FENCE_AFTER_SECONDS})`);
  }
  if (seconds > graceSeconds - FENCE_MARGIN_SECONDS) {
    throw new Error(`--fence-after ${seconds} s is too long: the control plane thinks a node lost after ${graceSeconds} s (node grace), and a node must have fenced itself `
      + `${FENCE_MARGIN_SECONDS} s before that (clock and kill margin); use at most ${graceSeconds - FENCE_MARGIN_SECONDS} (default ${DEFAULT_FENCE_AFTER_SECONDS})`);
  }
  return seconds;
}
