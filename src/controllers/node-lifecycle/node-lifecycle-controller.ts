/**
 * The node lifecycle controller (pkg/controller/nodelifecycle) with its taint-eviction manager
 * (pkg/controller/tainteviction), simplified: a node whose Lease in kube-node-lease (or Ready
 * heartbeat) is older than the grace period gets every condition Unknown (NodeStatusUnknown); Ready
 * Unknown taints it `node.kubernetes.io/unreachable`, Ready False `node.kubernetes.io/not-ready`
 * (NoExecute and NoSchedule), and recovery removes them; a cordoned node (spec.unschedulable) carries
 * `node.kubernetes.io/unschedulable:NoSchedule` (doNoScheduleTaintingPass). Pods on a node with NoExecute taints are
 * deleted at once without a matching toleration, else after the least tolerationSeconds — except
 * StatefulSet pods, which are left in place (logged) until a safer mechanism exists.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { Informer, ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { controllerEvents, controllerRefOf, type ControllerEvents, type SharedEventRecorder } from '../controller-utils.ts';
import { realClock, type Clock } from '../cronjob/clock.ts';
import { evictionDecision, type Taint } from './taint-toleration.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE } from '../../apis/well-known.ts';
import { rfc3339 } from '../../apis/time.ts';

/** The namespace of node heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
const COMPONENT = 'node-controller';
const MANAGED = [TAINT_NOT_READY, TAINT_UNREACHABLE];

/** Options for {@link NodeLifecycleController}. */
export interface NodeLifecycleOptions {
  /** Seconds without a heartbeat before a node is Unknown; default 20. */
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

const NODE_NAME_INDEX = 'spec.nodeName';

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

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: NodeLifecycleOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.graceMs = (opts.gracePeriodSeconds ?? 20) * 1000;
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    this.nodes = factory.forResource(R.nodes);
    this.leases = factory.forResource(R.leases, { namespace: NODE_LEASE_NAMESPACE });
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(NODE_NAME_INDEX, (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []));
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
    if (!node) return;
    const now = this.clock.now();
    const t = rfc3339(now);
    const lease = this.leases.get(`${NODE_LEASE_NAMESPACE}/${key}`);
    const conds: Cond[] = node.status?.conditions ?? [];
    const ready = conds.find((c) => c.type === 'Ready');
    const beats = [lease?.spec?.renewTime, ready?.lastHeartbeatTime, node.metadata.creationTimestamp].map((x) => (x ? Date.parse(x) : NaN)).filter((x) => !Number.isNaN(x));
    const last = Math.max(...beats);
    const stale = now - last > this.graceMs;
    if (stale && ready?.status !== 'Unknown') {
      const next: Cond[] = conds.map((c) => ({ ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: c.status === 'Unknown' ? c.lastTransitionTime : t }));
      if (!ready) next.push({ type: 'Ready', status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: node.metadata.creationTimestamp, lastTransitionTime: t });
      node = await this.client.update(R.nodes, undefined, { ...node, status: { ...node.status, conditions: next } }, 'status');
      this.log?.info('node stopped posting status', { node: key });
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

  /** The taint manager's pass over one node's pods. */
  private async evictPods(node: KubeObject, now: number): Promise<void> {
    const taints: Taint[] = node.spec?.taints ?? [];
    if (!taints.some((t) => t.effect === 'NoExecute')) return;
    const nodeName = node.metadata.name!;
    let soonest: number | undefined;
    for (const pod of this.pods.byIndex(NODE_NAME_INDEX, nodeName)) {
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
