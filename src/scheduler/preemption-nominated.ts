/**
 * Nominated pods (kube-scheduler's PodNominator and RunFilterPluginsWithNominatedPods, reduced to
 * resources): a pod that preempted is nominated to its node, and until it is placed there the room
 * its victims leave is kept for it — a pod of lower or equal priority may not use the node as if the
 * nominated pod were absent. As a filter whose preFilter skips while nobody is nominated, so a cycle
 * without preemption pays one call. Its failures are NodeResourcesFit's, so a pod they reject is
 * retried on the same events.
 */
import { failure, type Failure, type Plugin } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import { insufficient, NAME as FIT, TOO_MANY_PODS } from './plugins/node-resources-fit.ts';

export const NAME = 'NominatedPods';

/** Which pod is nominated to which node (in memory; written to status.nominatedNodeName too). */
export class Nominator {
  private readonly byPod = new Map<string, { info: PodInfo; node: string }>();
  private readonly byNode = new Map<string, Map<string, PodInfo>>();

  get size(): number {
    return this.byPod.size;
  }

  /** Nominates `info` to `node` (moving an earlier nomination). */
  set(info: PodInfo, node: string): void {
    this.delete(info.key);
    this.byPod.set(info.key, { info, node });
    let on = this.byNode.get(node);
    if (!on) this.byNode.set(node, (on = new Map()));
    on.set(info.key, info);
  }

  /** Forgets a nomination (the pod was placed, deleted, or preemption found nothing for it). */
  delete(key: string): void {
    const had = this.byPod.get(key);
    if (!had) return;
    this.byPod.delete(key);
    const on = this.byNode.get(had.node);
    on?.delete(key);
    if (on && on.size === 0) this.byNode.delete(had.node);
  }

  nodeOf(key: string): string | undefined {
    return this.byPod.get(key)?.node;
  }

  /** The pods nominated to a node. */
  onNode(node: string): Iterable<PodInfo> {
    return this.byNode.get(node)?.values() ?? [];
  }

  keys(): IterableIterator<string> {
    return this.byPod.keys();
  }
}

/** What a pod must leave room for on a node: nominated pods of at least its priority, itself excepted. */
function reserved(nominator: Nominator, pod: PodInfo, node: NodeInfo): { cpu: number; memory: number; storage: number; pods: number } | undefined {
  let r: { cpu: number; memory: number; storage: number; pods: number } | undefined;
  for (const n of nominator.onNode(node.name)) {
    if (n.key === pod.key || n.priority < pod.priority) continue;
    r ??= { cpu: 0, memory: 0, storage: 0, pods: 0 };
    r.cpu += n.requests.milliCPU;
    r.memory += n.requests.memory;
    r.storage += n.requests.ephemeralStorage;
    r.pods++;
  }
  return r;
}

/** The filter: a node keeps the cpu, memory, ephemeral storage and pod slot of the pods nominated to it. */
export function nominatedPodsFilter(nominator: Nominator, placed: (key: string) => boolean): Plugin {
  return {
    name: NAME,
    preFilter() {
      if (nominator.size === 0) return 'skip';
      // A nominated pod placed since (bound by us or by someone else) holds no reservation any more.
      for (const key of [...nominator.keys()]) if (placed(key)) nominator.delete(key);
      return nominator.size === 0 ? 'skip' : undefined;
    },
    filter(pod, node): Failure | null {
      const r = reserved(nominator, pod, node);
      if (!r) return null;
      const reasons: string[] = [];
      if (node.pods.size + r.pods + 1 > node.allowedPods) reasons.push(TOO_MANY_PODS);
      const a = node.allocatable;
      const u = node.requested;
      const want = pod.requests;
      if (want.milliCPU > 0 && want.milliCPU > a.milliCPU - u.milliCPU - r.cpu) reasons.push(insufficient('cpu'));
      if (want.memory > 0 && want.memory > a.memory - u.memory - r.memory) reasons.push(insufficient('memory'));
      if (want.ephemeralStorage > 0 && want.ephemeralStorage > a.ephemeralStorage - u.ephemeralStorage - r.storage) reasons.push(insufficient('ephemeral-storage'));
      return reasons.length ? failure(FIT, reasons, false) : null;
    },
  };
}
