/**
 * NodeInfo: one node with the aggregates filters and scores read in O(1) — allocatable, requested
 * (real and non-zero for scoring), pod count, used host ports — kept up to date as pods are added,
 * assumed and removed. A NodeInfo without a Node object is a "ghost" holding pods of a deleted node.
 */
import type { KubeObject } from '../apis/object.ts';
import { tryParseQuantity } from '../apis/quantity.ts';
import type { HostPort, PodInfo } from './pod-info.ts';
import { addResources, emptyResources, parseResourceList, type Resources } from './resources.ts';
import type { Failure } from './framework.ts';
import type { Taint } from './taints.ts';

/** A node in the scheduler's snapshot. */
export class NodeInfo {
  node: KubeObject | undefined;
  labels: Record<string, string> = {};
  taints: Taint[] = [];
  unschedulable = false;
  allocatable: Resources = emptyResources();
  allowedPods = 0;
  readonly requested: Resources = emptyResources();
  nonZeroCPU = 0;
  nonZeroMemory = 0;
  readonly pods = new Map<string, PodInfo>();
  /** `proto/port` → ip → count. */
  readonly usedPorts = new Map<string, Map<string, number>>();
  /** Pods here with any pod (anti-)affinity, for the InterPodAffinity plugin. */
  podsWithAffinity = 0;
  /**
   * TaintToleration's memo: the failure it gave for one of this node's taints (the last one no pod
   * tolerated). While a fleet is tainted every pod meets every node's taint; a field read is what
   * that costs, not a WeakMap lookup (~40 % of the filter's time). Reset with the taints.
   */
  untoleratedTaint: Taint | undefined = undefined;
  untoleratedFailure: Failure | undefined = undefined;

  constructor(readonly name: string, node?: KubeObject) {
    if (node) this.setNode(node);
  }

  /** Takes the node object's labels, taints, unschedulable flag and allocatable. */
  setNode(node: KubeObject): void {
    this.node = node;
    this.labels = node.metadata.labels ?? {};
    this.taints = Array.isArray(node.spec?.taints) ? node.spec.taints : [];
    this.untoleratedTaint = undefined;
    this.untoleratedFailure = undefined;
    this.unschedulable = node.spec?.unschedulable === true;
    const alloc = node.status?.allocatable ?? node.status?.capacity ?? {};
    this.allocatable = parseResourceList(alloc);
    this.allowedPods = tryParseQuantity(alloc.pods) ?? 110;
  }

  /** Counts a pod on this node. */
  addPod(p: PodInfo): void {
    if (this.pods.has(p.key)) this.removePod(p.key);
    this.pods.set(p.key, p);
    addResources(this.requested, p.requests);
    this.nonZeroCPU += p.nonZeroCPU;
    this.nonZeroMemory += p.nonZeroMemory;
    for (const hp of p.hostPorts) this.port(hp, 1);
    if (hasAffinity(p)) this.podsWithAffinity++;
  }

  /** Stops counting a pod; false when it was not here. */
  removePod(key: string): boolean {
    const p = this.pods.get(key);
    if (!p) return false;
    this.pods.delete(key);
    addResources(this.requested, p.requests, -1);
    this.nonZeroCPU -= p.nonZeroCPU;
    this.nonZeroMemory -= p.nonZeroMemory;
    for (const hp of p.hostPorts) this.port(hp, -1);
    if (hasAffinity(p)) this.podsWithAffinity--;
    return true;
  }

  private port(hp: HostPort, delta: number): void {
    const k = `${hp.protocol}/${hp.port}`;
    let ips = this.usedPorts.get(k);
    if (!ips) this.usedPorts.set(k, (ips = new Map()));
    const n = (ips.get(hp.ip) ?? 0) + delta;
    if (n > 0) ips.set(hp.ip, n);
    else ips.delete(hp.ip);
    if (ips.size === 0) this.usedPorts.delete(k);
  }

  /** Whether a wanted host port collides with one in use (0.0.0.0 collides with every IP). */
  portInUse(hp: HostPort): boolean {
    const ips = this.usedPorts.get(`${hp.protocol}/${hp.port}`);
    if (!ips) return false;
    if (hp.ip === '0.0.0.0') return true;
    return ips.has(hp.ip) || ips.has('0.0.0.0');
  }
}

/** Whether a pod carries any pod affinity or anti-affinity term. */
export function hasAffinity(p: PodInfo): boolean {
  return p.affinity.length > 0 || p.antiAffinity.length > 0 || p.preferredAffinity.length > 0 || p.preferredAntiAffinity.length > 0;
}
