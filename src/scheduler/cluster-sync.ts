/**
 * Turns node and pod watch events into snapshot and queue changes: nodes into NodeInfos; assigned,
 * non-terminal pods onto their node (confirming assumed ones); pending pods for this scheduler into
 * the queue; and the cluster events that send unschedulable pods back for another try.
 */
import type { KubeObject } from '../apis/object.ts';
import type { ClientWatchEvent } from '../client/client.ts';
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

  /** A full node list (initial or after a watch break). */
  replaceNodes(items: KubeObject[]): void {
    const names = new Set(items.map((n) => n.metadata.name!));
    for (const info of [...this.snap.nodes]) if (!names.has(info.name)) this.snap.removeNode(info.name);
    for (const n of items) this.snap.setNode(n);
    this.queue.moveOnEvent('NodeAdd');
  }

  /** One node watch event. */
  nodeEvent(ev: ClientWatchEvent): void {
    const node = ev.object;
    const name = node.metadata.name!;
    if (ev.type === 'DELETED') { this.snap.removeNode(name); return; }
    const before = this.snap.byName.get(name);
    const had = before?.node ? schedulingView(before.node) : undefined;
    this.snap.setNode(node);
    // Heartbeats change only conditions and times: they must not flush the unschedulable pods.
    if (had === undefined) this.queue.moveOnEvent('NodeAdd');
    else if (had !== schedulingView(node)) this.queue.moveOnEvent('NodeUpdate');
  }

  /** A full pod list (initial or after a watch break). */
  replacePods(items: KubeObject[]): void {
    const seen = new Set<string>();
    for (const p of items) {
      seen.add(keyOf(p));
      this.podEvent({ type: 'MODIFIED', object: p });
    }
    const gone = new Set([...this.snap.podNode.keys(), ...this.queue.keys()]);
    for (const key of gone) {
      if (seen.has(key) || this.assumed.has(key)) continue;
      const [namespace, name] = key.split('/');
      this.podEvent({ type: 'DELETED', object: { metadata: { namespace, name } } });
    }
  }

  /** One pod watch event. */
  podEvent(ev: ClientWatchEvent): void {
    const pod = ev.object;
    const key = keyOf(pod);
    const nodeName: string | undefined = pod.spec?.nodeName;
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (ev.type === 'DELETED' || (nodeName && terminal)) {
      this.queue.delete(key);
      this.assumed.delete(key);
      if (this.snap.removePod(key) !== undefined) this.queue.moveOnEvent('PodDelete');
      if (ev.type === 'DELETED') this.onPodGone(pod);
      return;
    }
    if (nodeName) {
      this.queue.delete(key);
      const wasAssumed = this.assumed.delete(key);
      const existing = this.snap.nodeOfPod(key)?.pods.get(key);
      if (existing && !wasAssumed && this.snap.podNode.get(key) === nodeName && sameLabels(existing.pod, pod)) {
        existing.pod = pod; // status-only change: keep the parsed info
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
