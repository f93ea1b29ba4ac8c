/**
 * The node lifecycle controller (pkg/controller/nodelifecycle) with its taint-eviction manager
 * (pkg/controller/tainteviction), simplified: a node whose Lease in kube-node-lease (or Ready
 * heartbeat) is older than the grace period gets every condition Unknown (NodeStatusUnknown); Ready
 * Unknown taints it `node.kubernetes.io/unreachable`, Ready False `node.kubernetes.io/not-ready`
 * (NoExecute and NoSchedule), and recovery removes them; a cordoned node (spec.unschedulable) carries
 * `node.kubernetes.io/unschedulable:NoSchedule` (doNoScheduleTaintingPass). Pods on a node with NoExecute taints are
 * deleted at once without a matching toleration, else after the least tolerationSeconds — except
 * StatefulSet pods, which are left in place (logged): the fencing controller (../fencing) moves them
 * only once they are provably stopped. The pods of a
 * node that stopped posting status get Ready=False at once (MarkPodsNotReady), so endpoints drop them
 * within the grace period rather than at their eviction.
 *
 * A node's heartbeat counts when it *arrives* (upstream's probeTimestamp): the controller notes on its
 * own clock when the Lease's renewTime (or the Ready heartbeat) last changed, and the node is stale
 * once nothing changed for the grace period. So a node whose clock is off still counts as alive
 * while it renews — and when its timestamps differ from the controller's clock by more than the
 * grace on arrival, that is reported (a NodeClockSkew Warning event on the Node, a log line) instead
 * of the node flapping NotReady. On first sight (a new leader) a plausible timestamp is believed; an
 * implausible one gets a grace period from now, as upstream gives every node it has not seen yet.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { Informer, ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { POD_NODE_NAME_INDEX, controllerEvents, controllerRefOf, podNodeNameIndex, type ControllerEvents, type SharedEventRecorder } from '../controller-utils.ts';
import { realClock, type Clock } from '../cronjob/clock.ts';
import { evictionDecision, type Taint } from './taint-toleration.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from '../../apis/well-known.ts';
import { rfc3339 } from '../../apis/time.ts';
import { DEFAULT_NODE_GRACE_PERIOD_SECONDS, validateNodeGracePeriod } from './node-lease-timing.ts';

/** The namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const COMPONENT = 'node-controller';
const MANAGED = [TAINT_NOT_READY, TAINT_UNREACHABLE];

/** Options for {@link NodeLifecycleController}. */
export interface NodeLifecycleOptions {
  /** Seconds without a heartbeat before a node is Unknown; default 10 (node-lease-timing.ts). */
  gracePeriodSeconds?: number;
  clock?: Clock;
  /** The controller manager's event recorder; default one of its own. */
  recorder?: SharedEventRecorder;
}

type Cond = { type: string; status: string; reason?: string; message?: string; lastHeartbeatTime?: string; lastTransitionTime?: string };

/** The taints a node should carry for its Ready status (timeAdded kept from `current`). */
export function readinessTaints(ready: string | undefined, current: Taint[], now: string): Taint[] {
  const key = ready === 'False' ? TAINT_NOT_READY : ready === 'Unknown' ? TAINT_UNREACHABLE : undefined;
  const kept = current.filter((t) => !MANAGED.includes(t.key) || (t.key === key && (t.effect === 'NoExecute' || t.effect === 'NoSchedule')));
  if (key) {
    for (const effect of ['NoSchedule', 'NoExecute']) {
      if (!kept.some((t) => t.key === key && t.effect === effect)) kept.push({ key, effect, ...(effect === 'NoExecute' ? { timeAdded: now } : {}) });
    }
  }
  return kept;
}

/** The taints with `node.kubernetes.io/unschedulable:NoSchedule` exactly when the node is cordoned. */
export function unschedulableTaint(taints: Taint[], unschedulable: boolean): Taint[] {
  const has = taints.some((t) => t.key === TAINT_UNSCHEDULABLE && t.effect === 'NoSchedule');
  if (unschedulable === has) return taints;
  return unschedulable ? [...taints, { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' }] : taints.filter((t) => !(t.key === TAINT_UNSCHEDULABLE && t.effect === 'NoSchedule'));
}

/** The node lifecycle reconciler (keys are node names); see the file comment. */
export class NodeLifecycleController implements Reconciler {
  readonly name = 'node-lifecycle';
  readonly queue = new RateLimitedQueue();
  private readonly clock: Clock;
  private readonly graceMs: number;
  private readonly events: ControllerEvents;
  // Reads come from the informers' caches: every pod event wakes its node's key, and a GET per wake
  // (and a LIST of the node's pods, which decodes every pod in SQLite) cost most of the server's CPU
  // when many nodes went NotReady under load.
  private readonly nodes: Informer;
  private readonly leases: Informer;
  private readonly pods: Informer;
  /** Per node: its last heartbeat stamps and when (controller clock) they last changed. */
  private readonly beats = new Map<string, { stamp: string; observedAt: number }>();
  /** Nodes reported for clock skew, not yet back within the grace. */
  private readonly skewed = new Set<string>();

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: NodeLifecycleOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.graceMs = validateNodeGracePeriod(opts.gracePeriodSeconds ?? DEFAULT_NODE_GRACE_PERIOD_SECONDS) * 1000;
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    this.nodes = factory.forResource(R.nodes);
    this.leases = factory.forResource(R.leases, { namespace: NODE_LEASE_NAMESPACE });
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(POD_NODE_NAME_INDEX, podNodeNameIndex);
    this.nodes.addHandlers(enqueueHandlers(this.queue));
    this.leases.addHandlers(enqueueHandlers(this.queue, (l) => l.metadata.name));
    this.pods.addHandlers(enqueueHandlers(this.queue, (p) => p.spec?.nodeName || undefined));
  }

  /** Starts `workers` reconcile loops. */
  run(workers = 2): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    // A write on a stale copy fails with a 409 and the key is retried with the newer one.
    let node = this.nodes.get(key);
    if (!node) {
      this.beats.delete(key);
      this.skewed.delete(key);
      return;
    }
    const now = this.clock.now();
    const t = rfc3339(now);
    const lease = this.leases.get(`${NODE_LEASE_NAMESPACE}/${key}`);
    const conds: Cond[] = node.status?.conditions ?? [];
    const ready = conds.find((c) => c.type === 'Ready');
    const last = this.lastHeartbeat(node, lease?.spec?.renewTime, ready?.lastHeartbeatTime, now);
    const stale = now - last > this.graceMs;
    if (stale && ready?.status !== 'Unknown') {
      const next: Cond[] = conds.map((c) => ({ ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: c.status === 'Unknown' ? c.lastTransitionTime : t }));
      if (!ready) next.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: t });
      node = await this.client.update(R.nodes, undefined, { ...node, status: { ...node.status, conditions: next } }, 'status');
      this.log?.info('node stopped posting status', { node: key });
      // Upstream's MarkPodsNotReady, on the transition only: a node that stopped posting status cannot
      // vouch for its pods, so Services stop routing to them now, not when they are evicted. (Not on
      // every pass: an agent coming back sets its pods Ready before its Node, and must not be fought.)
      await this.markPodsNotReady(key, t);
      void this.events.event(node, 'Normal', 'NodeNotReady', `Node ${key} status is now: NodeNotReady`);
    } else if (!stale) {
      this.queue.addAfter(key, last + this.graceMs - now + 50);
    }
    const readyNow = (node.status?.conditions ?? []).find((c: Cond) => c.type === 'Ready')?.status;
    const taints: Taint[] = node.spec?.taints ?? [];
    const want = unschedulableTaint(readinessTaints(readyNow, taints, t), node.spec?.unschedulable === true);
    if (JSON.stringify(want) !== JSON.stringify(taints)) {
      node = await this.client.update(R.nodes, undefined, { ...node, spec: { ...node.spec, taints: want.length ? want : undefined } });
    }
    await this.evictPods(node, now);
  }

  /** Sets the Ready condition of the node's pods to False (the agent sets it again when it is back). */
  private async markPodsNotReady(nodeName: string, t: string): Promise<void> {
    for (const pod of this.pods.byIndex(POD_NODE_NAME_INDEX, nodeName)) {
      if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const conditions: Cond[] = pod.status?.conditions ?? [];
      if (!conditions.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
      const next = conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', reason: 'NodeNotReady', message: `Node ${nodeName} stopped posting status`, lastTransitionTime: t } : c));
      try {
        await this.client.update(R.pods, pod.metadata.namespace, { ...pod, status: { ...pod.status, conditions: next } }, 'status');
      } catch (err) {
        // Gone, or changed meanwhile (its event requeues the node).
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }

  /**
   * When the node's last heartbeat arrived, on the controller's clock (see the file comment), and
   * the clock-skew report when its timestamps disagree with that clock by more than the grace.
   */
  private lastHeartbeat(node: KubeObject, renewTime: string | undefined, readyBeat: string | undefined, now: number): number {
    const name = node.metadata.name!;
    const stamp = `${renewTime ?? ''}|${readyBeat ?? ''}`;
    const prev = this.beats.get(name);
    if (prev?.stamp === stamp) return prev.observedAt;
    const time = (x: string | undefined) => (x ? Date.parse(x) : NaN);
    let observedAt: number;
    if (!prev) {
      // First sight: a dead node and a skewed one look alike; believe only a plausible timestamp.
      const claimed = [renewTime, readyBeat, node.metadata.creationTimestamp].map(time).filter((x) => !Number.isNaN(x));
      const newest = claimed.length ? Math.max(...claimed) : now;
      observedAt = Math.abs(now - newest) <= this.graceMs ? Math.min(newest, now) : now;
    } else {
      observedAt = now;
      // The stamp that just arrived (the node's own clock) against this controller's.
      const [prevRenew] = prev.stamp.split('|');
      const arrived = time((renewTime ?? '') !== prevRenew ? renewTime : readyBeat);
      if (!Number.isNaN(arrived)) this.checkSkew(node, now - arrived);
    }
    this.beats.set(name, { stamp, observedAt });
    return observedAt;
  }

  /** A heartbeat that just arrived claims a time `offBy` ms before the controller's clock. */
  private checkSkew(node: KubeObject, offBy: number): void {
    const name = node.metadata.name!;
    if (Math.abs(offBy) <= this.graceMs) {
      if (this.skewed.delete(name)) this.log?.info('node clock back in step with the control plane', { node: name, offBySeconds: Math.round(offBy / 100) / 10 });
      return;
    }
    if (this.skewed.has(name)) return;
    this.skewed.add(name);
    const secs = Math.abs(offBy / 1000).toFixed(1);
    const message = `Node ${name}'s heartbeats are stamped ${secs} s ${offBy > 0 ? 'behind' : 'ahead of'} the control plane's clock, more than the ${this.graceMs / 1000} s grace period: `
      + 'its clock is off (check its time synchronisation). Its readiness is judged by when its heartbeats arrive, so it is not marked NotReady for this.';
    this.log?.warn('node clock skew', { node: name, offBySeconds: Number((offBy / 1000).toFixed(1)), graceSeconds: this.graceMs / 1000 });
    void this.events.event(node, 'Warning', 'NodeClockSkew', message);
  }

  /** The taint manager's pass over one node's pods. */
  private async evictPods(node: KubeObject, now: number): Promise<void> {
    const taints: Taint[] = node.spec?.taints ?? [];
    if (!taints.some((t) => t.effect === 'NoExecute')) return;
    const nodeName = node.metadata.name!;
    let soonest: number | undefined;
    for (const pod of this.pods.byIndex(POD_NODE_NAME_INDEX, nodeName)) {
      if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') continue;
      const d = evictionDecision(taints, pod.spec?.tolerations, now);
      if (d.action === 'keep') continue;
      if (d.action === 'evict-at') { soonest = Math.min(soonest ?? d.at, d.at); continue; }
      const podKey = `${pod.metadata.namespace}/${pod.metadata.name}`;
      if (controllerRefOf(pod)?.kind === 'StatefulSet') {
        this.log?.warn('not evicting a StatefulSet pod from a NoExecute-tainted node', { pod: podKey, node: nodeName });
        continue;
      }
      try {
        await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
        void this.events.event(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${podKey}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (soonest !== undefined) this.queue.addAfter(nodeName, soonest - now + 50);
  }
}
