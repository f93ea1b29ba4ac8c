/**
 * Joining the storage nodes into one trusted pool (what an admin does with `gluster peer probe`,
 * made automatic and safe to repeat): a node already in a pool probes every Ready storage node not
 * yet in it; a node alone probes only when it is the first Ready storage node by name. So exactly
 * one pool grows from one seed — two lonely nodes probing each other at once could otherwise start
 * two pools, which gluster cannot merge. A probe of a member is a no-op.
 */
import type { KubeObject } from '../../apis/object.ts';
import { STORAGE_NODE_LABEL } from '../../apis/volumes/replicated.ts';
import type { GlusterCli } from './gluster-cli.ts';

/** The node's InternalIP. */
export function nodeIP(node: KubeObject | undefined): string | undefined {
  return (node?.status?.addresses ?? []).find((a: { type?: string }) => a.type === 'InternalIP')?.address;
}

export function isReady(node: KubeObject | undefined): boolean {
  return (node?.status?.conditions ?? []).some((c: { type?: string; status?: string }) => c.type === 'Ready' && c.status === 'True');
}

/** The addresses this node should probe now. */
export function probeTargets(me: string, nodes: readonly KubeObject[], peers: readonly string[]): string[] {
  const storage = nodes.filter((n) => n.metadata.labels?.[STORAGE_NODE_LABEL] === 'true' && isReady(n) && nodeIP(n))
    .sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!));
  const others = storage.filter((n) => n.metadata.name !== me);
  if (!peers.length && storage[0]?.metadata.name !== me) return [];
  return others.map((n) => nodeIP(n)!).filter((ip) => !peers.includes(ip));
}

/** Probes what `probeTargets` names; failures are reported, not thrown (the next pass retries). */
export async function joinPool(cli: GlusterCli, me: string, nodes: readonly KubeObject[]): Promise<string[]> {
  const peers = (await cli.peers()).map((p) => p.address);
  const problems: string[] = [];
  for (const ip of probeTargets(me, nodes, peers)) {
    await cli.probe(ip).catch((err) => problems.push((err as Error).message));
  }
  return problems;
}

/**
 * Keeps, per pool member, since when it has been connected (a member that drops out is forgotten,
 * so its return counts as new). Why: a glusterd that (re)joins imports the definitions it is behind
 * on in a synctask that lets go of glusterd's big lock while it stops stale bricks, and a volume
 * transaction arriving meanwhile (a `volume start force`) works on the half-replaced definition —
 * "Failed to store volinfo", "volume inconsistency: brick count is 0" in its log — which can leave
 * that member without the volume.
 */
export function trackConnections(since: Map<string, number>, peers: readonly { address: string; connected: boolean }[], now: number): void {
  const connected = new Set(peers.filter((p) => p.connected).map((p) => p.address));
  for (const a of [...since.keys()]) if (!connected.has(a)) since.delete(a);
  for (const a of connected) if (!since.has(a)) since.set(a, now);
}

/** How long no member has (re)joined: Infinity with none connected. */
export function settledForMs(since: ReadonlyMap<string, number>, now: number): number {
  return since.size ? now - Math.max(...since.values()) : Infinity;
}
