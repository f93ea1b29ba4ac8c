/**
 * Where a new replicated volume's replicas go (heketi's brick allocator, reduced): among the storage
 * nodes that can take one now, the least loaded first, and no two replicas in one zone while another
 * zone is left — so a zone (or, without zone labels, a node) going down costs one replica at most.
 * Pure; the provisioner turns "too few nodes" into the claim's Pending reason.
 */
import type { KubeObject } from '../../apis/object.ts';
import { STORAGE_NODE_LABEL } from '../../apis/volumes/replicated.ts';
import { SIMULATED_LABEL } from '../../apis/well-known.ts';

export const ZONE_LABEL = 'topology.kubernetes.io/zone';

/** Why a node cannot take a new replica now, or undefined when it can. */
export function unfitReason(node: KubeObject): string | undefined {
  const labels = node.metadata.labels ?? {};
  if (labels[STORAGE_NODE_LABEL] !== 'true') return 'not a storage node';
  if (labels[SIMULATED_LABEL] !== undefined) return 'simulated';
  if (node.metadata.deletionTimestamp) return 'being deleted';
  if (node.spec?.unschedulable) return 'cordoned';
  const ready = (node.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'Ready');
  if (ready?.status !== 'True') return 'not Ready';
  return undefined;
}

/** Storage nodes (labelled), fit or not: for messages. */
export function storageNodes(nodes: readonly KubeObject[]): KubeObject[] {
  return nodes.filter((n) => n.metadata.labels?.[STORAGE_NODE_LABEL] === 'true');
}

/**
 * `replicas` distinct nodes from `nodes`, or undefined when fewer fit. `load` counts the replicas a
 * node already holds. Ties go by name, so the choice is stable.
 */
export function placeReplicas(nodes: readonly KubeObject[], replicas: number, load: (node: string) => number): KubeObject[] | undefined {
  const fit = nodes.filter((n) => unfitReason(n) === undefined)
    .sort((a, b) => load(a.metadata.name!) - load(b.metadata.name!) || a.metadata.name!.localeCompare(b.metadata.name!));
  if (fit.length < replicas) return undefined;
  const chosen: KubeObject[] = [];
  const zones = new Set<string>();
  const zoneOf = (n: KubeObject) => n.metadata.labels?.[ZONE_LABEL] ?? `node:${n.metadata.name}`;
  while (chosen.length < replicas) {
    const left = fit.filter((n) => !chosen.includes(n));
    chosen.push(left.find((n) => !zones.has(zoneOf(n))) ?? left[0]);
    zones.add(zoneOf(chosen[chosen.length - 1]));
  }
  return chosen;
}
