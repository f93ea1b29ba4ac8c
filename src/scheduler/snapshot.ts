/**
 * The scheduler's live view of the cluster: NodeInfos (in a stable array for round-robin sampling,
 * and by name), where every known pod sits (bound or assumed), and the pods with required
 * anti-affinity (which every incoming pod must respect). Fed by the node and pod watches and by
 * assume/forget; the pipeline reads it synchronously, so no per-cycle copy is needed.
 */
import type { KubeObject } from '../apis/object.ts';
import { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';

/** Nodes and pods as the scheduler sees them. */
export class Snapshot {
  /** Nodes with a Node object, in insertion order. */
  readonly nodes: NodeInfo[] = [];
  /** Every NodeInfo, ghosts included. */
  readonly byName = new Map<string, NodeInfo>();
  /** Pod key → node name, for every pod counted on a node. */
  readonly podNode = new Map<string, string>();
  /** Counted pods with required anti-affinity terms. */
  readonly podsWithRequiredAntiAffinity = new Map<string, PodInfo>();
  /** Counted pods with any (anti-)affinity term, for scoring symmetry. */
  readonly podsWithAffinity = new Map<string, PodInfo>();

  /** Adds or updates a node. */
  setNode(node: KubeObject): NodeInfo {
    const name = node.metadata.name!;
    let info = this.byName.get(name);
    if (!info) {
      info = new NodeInfo(name, node);
      this.byName.set(name, info);
      this.nodes.push(info);
    } else {
      if (!info.node) this.nodes.push(info);
      info.setNode(node);
    }
    return info;
  }

  /** Removes a node; its pods stay counted on a ghost until they go. */
  removeNode(name: string): void {
    const info = this.byName.get(name);
    if (!info?.node) return;
    info.node = undefined;
    const i = this.nodes.indexOf(info);
    if (i >= 0) this.nodes.splice(i, 1);
    if (info.pods.size === 0) this.byName.delete(name);
  }

  /** Counts a pod on a node (bound or assumed), moving it if it was elsewhere. */
  addPod(p: PodInfo, nodeName: string): void {
    this.removePod(p.key);
    let info = this.byName.get(nodeName);
    if (!info) {
      info = new NodeInfo(nodeName);
      this.byName.set(nodeName, info);
    }
    info.addPod(p);
    this.podNode.set(p.key, nodeName);
    if (p.antiAffinity.length) this.podsWithRequiredAntiAffinity.set(p.key, p);
    if (p.affinity.length || p.antiAffinity.length || p.preferredAffinity.length || p.preferredAntiAffinity.length) {
      this.podsWithAffinity.set(p.key, p);
    }
  }

  /** Stops counting a pod; returns the node it was on. */
  removePod(key: string): string | undefined {
    const nodeName = this.podNode.get(key);
    if (nodeName === undefined) return undefined;
    this.podNode.delete(key);
    this.podsWithRequiredAntiAffinity.delete(key);
    this.podsWithAffinity.delete(key);
    const info = this.byName.get(nodeName);
    if (info) {
      info.removePod(key);
      if (!info.node && info.pods.size === 0) this.byName.delete(nodeName);
    }
    return nodeName;
  }

  /** The NodeInfo a counted pod sits on. */
  nodeOfPod(key: string): NodeInfo | undefined {
    const n = this.podNode.get(key);
    return n === undefined ? undefined : this.byName.get(n);
  }
}
