/**
 * The fencing controller's decisions, pure (Berth's own; upstream's nearest are the pod GC's
 * out-of-service handling, pkg/controller/podgc, and the attach-detach controller's force detach
 * after six minutes — Kubernetes otherwise leaves a lost node's StatefulSet members to a human):
 * when a node counts as lost, what may be done with each of its members, and the fence generation.
 */
import type { KubeObject } from '../../apis/object.ts';
import { TAINT_OUT_OF_SERVICE } from '../../apis/well-known.ts';
import { ANN_FENCE, ANN_FENCE_ACK_PREFIX, ANN_NODE_FENCE_AFTER, ANN_REPLACE_WITH_EMPTY_VOLUME, FENCE_MARGIN_SECONDS, isStatefulPod, parseFence } from '../../apis/volumes/replicated.ts';
import { bricksOf, isReplicatedVolume } from '../../apis/volumes/replicated-volume.ts';

type Cond = { type: string; status: string; lastTransitionTime?: string };

/** What the controller makes of a node. */
export type NodeVerdict =
  | { state: 'ready' }
  /** Silent, not yet lost: act at `lostAt` (ms). */
  | { state: 'silent'; since: number; lostAt: number; fenceAfterSeconds: number }
  /** Lost: its members may be fenced and moved; `fences` names what stopped the old copies. */
  | { state: 'lost'; since: number; selfFence: string }
  /** Silent for good, but nothing guarantees its containers stopped: members are not moved. */
  | { state: 'unfenceable'; since: number; why: string };

/** The node's Ready condition status and when it last changed (ms), Unknown if it has none. */
function readiness(node: KubeObject): { status: string; since: number } {
  const c = ((node.status?.conditions ?? []) as Cond[]).find((x) => x.type === 'Ready');
  const since = Date.parse(c?.lastTransitionTime ?? node.metadata.creationTimestamp ?? '');
  return { status: c?.status ?? 'Unknown', since: Number.isNaN(since) ? 0 : since };
}

/** The node's announced fenceAfter in seconds (agent-node.ts), or undefined when it does not self-fence. */
export function nodeFenceAfter(node: KubeObject): number | undefined {
  const s = Number(node.metadata.annotations?.[ANN_NODE_FENCE_AFTER]);
  return Number.isFinite(s) && s > 0 ? s : undefined;
}

/** Whether the node carries the out-of-service taint (a human declared it shut down; KEP-2268). */
export function outOfService(node: KubeObject): boolean {
  return ((node.spec?.taints ?? []) as { key: string }[]).some((t) => t.key === TAINT_OUT_OF_SERVICE);
}

/**
 * A node is lost once its Ready condition has been Unknown (the node lifecycle controller: no Lease
 * renewal for the grace period) for its fenceAfter plus FENCE_MARGIN_SECONDS — by then every stateful
 * container there has killed itself (native/shim/fence.c) — or at once when it is not Ready and
 * carries the out-of-service taint, as upstream's pod GC force-deletes there. Ready False is an agent
 * that still talks to the API: not lost. A node announcing no fenceAfter is never lost by waiting.
 */
export function nodeVerdict(node: KubeObject, now: number): NodeVerdict {
  const r = readiness(node);
  if (r.status === 'True') return { state: 'ready' };
  if (outOfService(node)) return { state: 'lost', since: r.since, selfFence: `the ${TAINT_OUT_OF_SERVICE} taint (the node was declared shut down)` };
  if (r.status !== 'Unknown') return { state: 'ready' };
  const after = nodeFenceAfter(node);
  if (after === undefined) {
    return { state: 'unfenceable', since: r.since, why: `node ${node.metadata.name} does not self-fence (no ${ANN_NODE_FENCE_AFTER}: berth up, or --fence-after 0), so its containers may still run; `
      + `once it is known to be off, taint it ${TAINT_OUT_OF_SERVICE}=nodeshutdown:NoExecute to move its members` };
  }
  const lostAt = r.since + (after + FENCE_MARGIN_SECONDS) * 1000;
  if (now < lostAt) return { state: 'silent', since: r.since, lostAt, fenceAfterSeconds: after };
  return { state: 'lost', since: r.since, selfFence: `self-fence deadline: its stateful containers killed themselves ${after} s after its last Lease renewal (${after + FENCE_MARGIN_SECONDS} s after NotReady, margin included)` };
}

/** The member's claims, by name, with what they are bound to. */
export interface MemberVolume {
  claimName: string;
  pvc?: KubeObject;
  pv?: KubeObject;
}

/** What may be done with a stateful pod of a lost node. */
export type MemberPlan =
  /** Fence its replicated volumes (if any), then delete it so its controller makes it again elsewhere. */
  | { action: 'move'; replicated: KubeObject[] }
  /** Its data is on the lost node: leave it (a condition and an event say why). */
  | { action: 'stay'; why: string }
  /** Opted in: delete its local claims too; it starts elsewhere with empty volumes. */
  | { action: 'replace-empty'; claims: KubeObject[]; replicated: KubeObject[] };

/** Whether the PV's data lives on one node (local, hostPath, or pinned there by node affinity). */
export function isNodeLocal(pv: KubeObject, node: string): boolean {
  if (pv.spec?.local || pv.spec?.hostPath) return true;
  const terms: { matchExpressions?: { key: string; operator: string; values?: string[] }[] }[] = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  return terms.length > 0 && terms.every((t) => (t.matchExpressions ?? []).some((e) => e.operator === 'In' && e.values?.length === 1 && e.values[0] === node));
}

/** The plan for `pod` (stateful, on lost `node`); `set` is its StatefulSet when it has one. */
export function memberPlan(pod: KubeObject, node: string, volumes: MemberVolume[], set?: KubeObject): MemberPlan {
  const local = volumes.filter((v) => v.pv && isNodeLocal(v.pv, node));
  const replicated = volumes.flatMap((v) => (v.pv && isReplicatedVolume(v.pv) ? [v.pv] : []));
  if (!local.length) return { action: 'move', replicated };
  const names = local.map((v) => `${v.claimName} (${v.pv!.metadata.name})`).join(', ');
  if (set?.metadata.annotations?.[ANN_REPLACE_WITH_EMPTY_VOLUME] === 'true') return { action: 'replace-empty', claims: local.flatMap((v) => (v.pvc ? [v.pvc] : [])), replicated };
  return {
    action: 'stay',
    why: `not moved: its local volume${local.length > 1 ? 's' : ''} ${names} ${local.length > 1 ? 'are' : 'is'} on node ${node}, which is lost; `
      + (set ? `annotate StatefulSet ${set.metadata.name} ${ANN_REPLACE_WITH_EMPTY_VOLUME}=true to start it elsewhere with an empty volume` : 'it runs again when the node is back'),
  };
}

/** The pods of a node the controller looks after: stateful, not finished. */
export function isMember(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return isStatefulPod(pod) && phase !== 'Succeeded' && phase !== 'Failed';
}

/** The next fence generation for a member: one more than any its volumes (or the pod) carried. */
export function nextGeneration(objs: KubeObject[]): number {
  return 1 + Math.max(0, ...objs.map((o) => parseFence(o.metadata.annotations?.[ANN_FENCE])?.generation ?? 0));
}

/**
 * The live brick nodes of a replicated PV that have not yet acknowledged `generation` (a brick node
 * that is itself not Ready cannot serve the minority anyway: quorum).
 */
export function missingAcks(pv: KubeObject, generation: number, lostNode: string, isReady: (node: string) => boolean): string[] {
  const nodes = [...new Set(bricksOf(pv).map((b) => b.node))].filter((n) => n !== lostNode && isReady(n));
  return nodes.filter((n) => Number(pv.metadata.annotations?.[ANN_FENCE_ACK_PREFIX + n] ?? -1) < generation);
}

/** The member's claim names (spec.volumes[].persistentVolumeClaim). */
export function claimNames(pod: KubeObject): string[] {
  return ((pod.spec?.volumes ?? []) as { persistentVolumeClaim?: { claimName?: string } }[]).flatMap((v) => (v.persistentVolumeClaim?.claimName ? [v.persistentVolumeClaim.claimName] : []));
}
