/**
 * Turns node and pod informer events into snapshot and queue changes (kube-scheduler's
 * eventhandlers.go): nodes into NodeInfos; assigned, non-terminal pods onto their node (confirming
 * assumed ones); pending pods for this scheduler into the queue; and the cluster events that send
 * unschedulable pods back for another try. A re-list's differences arrive as the same events.
 */
import type { KubeObject } from '../apis/object.ts';
import type { InformerHandlers } from '../client/controller-types.ts';
import { podInfoOf } from './pod-info.ts';
import type { SchedulingQueue } from './queue.ts';
import type { Snapshot } from './snapshot.ts';

/** Keeps a snapshot and a queue in step with the API. */
export class ClusterSync {
  /** Pods assumed on a node while their binding is in flight: key → node name. */
  readonly assumed = new Map<string, string>();

  constructor(private readonly snap: Snapshot, private readonly queue: SchedulingQueue, private readonly schedulerName = 'default-scheduler',
    private readonly onPodGone: (pod: KubeObject) => void = () => {}) {}

  /** Whether this scheduler should place the pod now. */
  responsibleFor(pod: KubeObject): boolean {
    const spec = pod.spec ?? {};
    return !spec.nodeName && !pod.metadata.deletionTimestamp && (spec.schedulerName ?? 'default-scheduler') === this.schedulerName
      && !(Array.isArray(spec.schedulingGates) && spec.schedulingGates.length > 0)
      && pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';
  }

  /** Node informer handlers: nodes into NodeInfos, and the node events that retry pods. */
  readonly nodeHandlers: InformerHandlers = {
    add: (node) => this.nodeChanged(node),
    update: (_old, node) => this.nodeChanged(node),
    delete: (node) => { this.snap.removeNode(node.metadata.name!); },
  };

  /** Pod informer handlers (a re-list's differences arrive as these too). */
  readonly podHandlers: InformerHandlers = {
    add: (pod) => this.podEvent('MODIFIED', pod),
    update: (_old, pod) => this.podEvent('MODIFIED', pod),
    delete: (pod) => this.podEvent('DELETED', pod),
  };

  private nodeChanged(node: KubeObject): void {
    const name = node.metadata.name!;
    const before = this.snap.byName.get(name);
    const had = before?.node ? schedulingView(before.node) : undefined;
    this.snap.setNode(node);
    // Heartbeats change only conditions and times: they must not flush the unschedulable pods.
    if (had === undefined) this.queue.moveOnEvent('NodeAdd');
    else if (had !== schedulingView(node)) this.queue.moveOnEvent('NodeUpdate');
  }

  /** One pod change: an add or update is `MODIFIED` (the same handling), a delete `DELETED`. */
  private podEvent(type: 'MODIFIED' | 'DELETED', pod: KubeObject): void {
    const key = keyOf(pod);
    const nodeName: string | undefined = pod.spec?.nodeName;
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (type === 'DELETED' || (nodeName && terminal)) {
      this.queue.delete(key);
      this.assumed.delete(key);
      if (this.snap.removePod(key) !== undefined) this.queue.moveOnEvent('PodDelete');
      if (type === 'DELETED') this.onPodGone(pod);
      return;
    }
    if (nodeName) {
      this.queue.delete(key);
      const wasAssumed = this.assumed.delete(key);
      const existing = this.snap.nodeOfPod(key)?.pods.get(key);
      // A status-only change, or our own binding confirmed where we assumed it: the parsed info
      // (requests, ports, affinity) cannot have changed, so keep it rather than parse the pod again.
      if (existing && this.snap.podNode.get(key) === nodeName && sameLabels(existing.pod, pod)) {
        existing.pod = pod;
        return;
      }
      this.snap.addPod(podInfoOf(pod), nodeName);
      if (!wasAssumed) this.queue.moveOnEvent(existing ? 'AssignedPodUpdate' : 'AssignedPodAdd');
      return;
    }
    if (this.assumed.has(key)) return; // binding in flight
    if (this.responsibleFor(pod)) this.queue.addOrUpdate(podInfoOf(pod));
    else this.queue.delete(key);
  }
}

function keyOf(pod: KubeObject): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
}

function sameLabels(a: KubeObject, b: KubeObject): boolean {
  const la = a.metadata.labels ?? {};
  const lb = b.metadata.labels ?? {};
  const ka = Object.keys(la);
  if (ka.length !== Object.keys(lb).length) return false;
  for (const k of ka) if (la[k] !== lb[k]) return false;
  return a.metadata.deletionTimestamp === b.metadata.deletionTimestamp;
}

/** The parts of a node scheduling reads. */
function schedulingView(node: KubeObject): string {
  return JSON.stringify([node.metadata.labels, node.spec?.taints, node.spec?.unschedulable, node.status?.allocatable]);
}
