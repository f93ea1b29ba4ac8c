/**
 * The fencing controller (issue 16; Berth's own — Kubernetes leaves a lost node's StatefulSet pods
 * Terminating until a human force-deletes them or sets the out-of-service taint, which its pod GC
 * then honours): for each stateful pod (a StatefulSet member, or a pod with claims) of a lost node
 * (fencing-policy.ts: Ready Unknown for the node's fenceAfter + margin, or out-of-service):
 *
 *   NodeLost ──▶ fence: ANN_FENCE {node, generation, pod, at} on the pod, its PVCs and PVs
 *            ──▶ wait for the live brick nodes' acks of that generation (replicated PVs)
 *            ──▶ MemberFenced ──▶ delete the pod (grace 0, uid precondition): its StatefulSet makes it again
 *            ──▶ MemberMoved once the new pod (same name, new uid) is Running on another node
 *
 * Events go to the pod, its StatefulSet and its claims, in that order. A member whose volume is
 * local to the lost node stays (a MemberNotMoved condition and event say why), unless its StatefulSet
 * opts in to ANN_REPLACE_WITH_EMPTY_VOLUME: then its local claims are deleted too and it starts
 * elsewhere empty. When the node is Ready again, the fences naming it are lifted from the volumes
 * no pod of that node uses any more. Keys: `node/<name>` and `member/<namespace>/<name>`.
 */
import type { KubeObject } from '../../apis/object.ts';
import { rfc3339 } from '../../apis/time.ts';
import { ANN_FENCE, parseFence, type Fence } from '../../apis/volumes/replicated.ts';
import { R, type Client, type ResourceRef } from '../../client/client.ts';
import { runController, type RunningController } from '../../client/controller.ts';
import type { Informer, ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { CONTROLLER_UID_INDEX, POD_NODE_NAME_INDEX, controllerEvents, controllerRefOf, controllerUidIndex, podNodeNameIndex, type ControllerEvents, type SharedEventRecorder } from '../controller-utils.ts';
import { realClock, type Clock } from '../cronjob/clock.ts';
import { STATEFULSETS } from '../statefulset/statefulset-controller.ts';
import { claimNames, isMember, memberPlan, missingAcks, nextGeneration, nodeVerdict, type MemberVolume, type NodeVerdict } from './fencing-policy.ts';

const COMPONENT = 'fencing-controller';
/** PVCs and PVs by the node their fence names: a node Ready again lifts only those, not a walk of all. */
const FENCE_NODE_INDEX = 'fenceNode';
const fenceNodeIndex = (o: KubeObject): string[] => {
  const node = parseFence(o.metadata.annotations?.[ANN_FENCE])?.node;
  return node ? [node] : [];
};
/** On a member moved by this controller: JSON {from, to, generation, lostAt, fencedAt, movedAt, fences}. */
export const ANN_MOVED_FROM = 'berth.dev/moved-from';
/** The pod condition of a member left on its lost node (kubectl describe pod shows it). */
export const CONDITION_NOT_MOVED = 'MemberNotMoved';
/** How often acks are looked for again while a storage fence is pending. */
const ACK_RETRY_MS = 1000;

export interface FencingOptions {
  clock?: Clock;
  recorder?: SharedEventRecorder;
}

/** A member fenced and deleted, until its replacement runs. */
interface Pending {
  from: string;
  oldUid: string;
  generation: number;
  lostAt: number;
  fencedAt: number;
  fences: string;
  set?: KubeObject;
  claims: KubeObject[];
}

export class FencingController implements Reconciler {
  readonly name = 'fencing';
  readonly queue = new RateLimitedQueue();
  private readonly clock: Clock;
  private readonly events: ControllerEvents;
  private readonly nodes: Informer;
  private readonly pods: Informer;
  private readonly pvcs: Informer;
  private readonly pvs: Informer;
  private readonly sets: Informer;
  private readonly pending = new Map<string, Pending>();
  /** Events already emitted per pod uid (each step is told once). */
  private readonly told = new Map<string, Set<string>>();

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: FencingOptions = {}) {
    this.clock = opts.clock ?? realClock;
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    this.nodes = factory.forResource(R.nodes);
    this.pods = factory.forResource(R.pods);
    this.pvcs = factory.forResource(R.persistentvolumeclaims);
    this.pvs = factory.forResource(R.persistentvolumes);
    this.sets = factory.forResource(STATEFULSETS);
    this.pods.addIndex(POD_NODE_NAME_INDEX, podNodeNameIndex);
    this.pods.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
    this.pvcs.addIndex(FENCE_NODE_INDEX, fenceNodeIndex);
    this.pvs.addIndex(FENCE_NODE_INDEX, fenceNodeIndex);
    const node = (name: string | undefined) => name && this.queue.add(`node/${name}`);
    this.nodes.addHandlers({ add: (n) => node(n.metadata.name), update: (_o, n) => node(n.metadata.name) });
    const pod = (p: KubeObject) => {
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      if (this.pending.has(key)) this.queue.add(`member/${key}`);
      if (isMember(p)) node(p.spec?.nodeName);
    };
    this.pods.addHandlers({ add: pod, update: (_o, p) => pod(p), delete: (p) => { this.told.delete(p.metadata.uid!); } });
    // A StatefulSet's opt-in (replace with an empty volume) wakes the nodes of its members.
    this.sets.addHandlers({
      update: (_o, set) => {
        // Its members by controller UID: every status write of a set used to walk its namespace's pods.
        for (const p of this.pods.byIndex(CONTROLLER_UID_INDEX, set.metadata.uid!)) if (p.metadata.namespace === set.metadata.namespace) node(p.spec?.nodeName);
      },
    });
    // An ack (or a fence) on a PV wakes the node it names.
    this.pvs.addHandlers({ update: (_o, pv) => node(parseFence(pv.metadata.annotations?.[ANN_FENCE])?.node) });
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const [kind, ...rest] = key.split('/');
    if (kind === 'node') return this.syncNode(rest.join('/'));
    if (kind === 'member') return this.syncMoved(rest.join('/'));
  }

  private async syncNode(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) return;
    const now = this.clock.now();
    const v = nodeVerdict(node, now);
    if (v.state === 'ready') {
      await this.clearNotMoved(name);
      return this.liftFences(name);
    }
    for (const pod of this.pods.byIndex(POD_NODE_NAME_INDEX, name)) {
      if (!isMember(pod)) continue;
      await this.syncMember(pod, name, v, now);
    }
    if (v.state === 'silent') this.queue.addAfter(`node/${name}`, v.lostAt - now + 50);
  }

  private async syncMember(pod: KubeObject, nodeName: string, v: Exclude<NodeVerdict, { state: 'ready' }>, now: number): Promise<void> {
    const set = this.setOf(pod);
    const volumes = this.volumesOf(pod);
    const claims = volumes.flatMap((x) => (x.pvc ? [x.pvc] : []));
    const member = `${pod.metadata.namespace}/${pod.metadata.name}`;
    const lostFor = ((now - v.since) / 1000).toFixed(1);
    const plan = memberPlan(pod, nodeName, volumes, set);
    const moveAt = v.state === 'silent' ? ` It will be fenced and moved at ${rfc3339(v.lostAt)} (fenceAfter ${v.fenceAfterSeconds} s + margin) unless the node comes back.` : '';
    await this.tell(pod, set, claims, 'Warning', 'NodeLost', `Node ${nodeName} stopped renewing its Lease (NotReady since ${rfc3339(v.since)}, ${lostFor} s ago); member ${member} is on it.${plan.action === 'stay' ? '' : moveAt}`);
    if (v.state === 'silent') return;
    if (v.state === 'unfenceable') return this.notMoved(pod, set, claims, v.why);
    if (plan.action === 'stay') return this.notMoved(pod, set, claims, plan.why);

    // 1. The fence, on the pod first (its agent never runs it again), then on its volumes.
    let fence = parseFence(pod.metadata.annotations?.[ANN_FENCE]);
    if (!fence || fence.node !== nodeName || fence.pod !== pod.metadata.uid) {
      fence = { node: nodeName, generation: nextGeneration([pod, ...claims, ...volumes.flatMap((x) => (x.pv ? [x.pv] : []))]), pod: pod.metadata.uid!, at: rfc3339(now) };
      await this.annotate(R.pods, pod, { [ANN_FENCE]: JSON.stringify(fence) });
    }
    const value = JSON.stringify(fence);
    for (const x of volumes) {
      for (const [ref, obj] of [[R.persistentvolumeclaims, x.pvc], [R.persistentvolumes, x.pv]] as const) {
        if (obj && !sameFence(parseFence(obj.metadata.annotations?.[ANN_FENCE]), fence)) await this.annotate(ref, obj, { [ANN_FENCE]: value });
      }
    }
    // 2. The storage fence: every live brick node blocks the lost node before the member moves.
    const isReady = (n: string) => nodeVerdict(this.nodes.get(n) ?? { metadata: { name: n } } as KubeObject, now).state === 'ready';
    const waiting = plan.replicated.flatMap((pv) => missingAcks(this.pvs.get(pv.metadata.name!) ?? pv, fence!.generation, nodeName, isReady).map((n) => `${n} (${pv.metadata.name})`));
    if (waiting.length) {
      await this.tell(pod, set, claims, 'Normal', 'WaitingForStorageFence', `Fence generation ${fence.generation} set on ${member}'s volumes; waiting for brick nodes ${waiting.join(', ')} to block node ${nodeName}`);
      this.queue.addAfter(`node/${nodeName}`, ACK_RETRY_MS);
      return;
    }
    // 3. Fenced: say by what, then delete it so that its controller makes it again elsewhere.
    const storage = plan.replicated.length
      ? `storage fence generation ${fence.generation} on ${plan.replicated.map((pv) => pv.metadata.name).join(', ')}, acknowledged by its live brick nodes`
      : `fence generation ${fence.generation} recorded on the pod${claims.length ? ' and its volumes' : ''} (no replicated volume to block)`;
    const fences = `${v.selfFence}; ${storage}`;
    await this.tell(pod, set, claims, 'Normal', 'MemberFenced', `Member ${member} on lost node ${nodeName} is fenced: ${fences}`);
    if (plan.action === 'replace-empty') {
      const names = plan.claims.map((c) => c.metadata.name).join(', ');
      await this.tell(pod, set, claims, 'Warning', 'MemberReplacedEmpty', `Member ${member}'s local volume${plan.claims.length > 1 ? 's' : ''} ${names} stayed on lost node ${nodeName}: deleting ${plan.claims.length > 1 ? 'them' : 'it'} so the member starts elsewhere with an empty volume (the StatefulSet opted in)`);
      for (const c of plan.claims) await this.client.delete(R.persistentvolumeclaims, c.metadata.namespace, c.metadata.name!, { preconditions: { uid: c.metadata.uid } }).catch(ignoreNotFound);
    }
    try {
      await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
    this.log?.info('member fenced and deleted for replacement', { member, node: nodeName, generation: fence.generation });
    this.pending.set(member, { from: nodeName, oldUid: pod.metadata.uid!, generation: fence.generation, lostAt: v.since, fencedAt: now, fences, set, claims: plan.action === 'replace-empty' ? [] : claims });
  }

  /** The replacement of a fenced member: MemberMoved once it runs on another node. */
  private async syncMoved(member: string): Promise<void> {
    const p = this.pending.get(member);
    const pod = this.pods.get(member);
    if (!p || !pod || pod.metadata.uid === p.oldUid || pod.metadata.deletionTimestamp) return;
    const to = pod.spec?.nodeName;
    if (!to || to === p.from || pod.status?.phase !== 'Running') return;
    this.pending.delete(member);
    const now = this.clock.now();
    const story = { from: p.from, to, generation: p.generation, lostAt: rfc3339(p.lostAt), fencedAt: rfc3339(p.fencedAt), movedAt: rfc3339(now), fences: p.fences };
    await this.annotate(R.pods, pod, { [ANN_MOVED_FROM]: JSON.stringify(story) }).catch((err) => this.log?.warn('moved-from annotation not written', { member, error: String(err) }));
    const claims = p.claims.map((c) => this.pvcs.get(`${c.metadata.namespace}/${c.metadata.name}`) ?? c);
    await this.tell(pod, p.set, claims, 'Normal', 'MemberMoved', `Member ${member} moved from lost node ${p.from} to ${to}: Running ${((now - p.lostAt) / 1000).toFixed(1)} s after the node went NotReady (fence generation ${p.generation})`);
  }

  /** A member left where it is: its condition and a Warning event, once. */
  private async notMoved(pod: KubeObject, set: KubeObject | undefined, claims: KubeObject[], why: string): Promise<void> {
    await this.tell(pod, set, claims, 'Warning', 'MemberNotMoved', `Member ${pod.metadata.namespace}/${pod.metadata.name} ${why}`);
    const conditions: { type: string; status: string; message?: string }[] = pod.status?.conditions ?? [];
    if (conditions.some((c) => c.type === CONDITION_NOT_MOVED && c.status === 'True' && c.message === why)) return;
    const next = [...conditions.filter((c) => c.type !== CONDITION_NOT_MOVED), { type: CONDITION_NOT_MOVED, status: 'True', reason: why.includes('local volume') ? 'LocalVolumeOnLostNode' : 'NodeNotFenced', message: why, lastTransitionTime: rfc3339(this.clock.now()) }];
    try {
      await this.client.update(R.pods, pod.metadata.namespace, { ...pod, status: { ...pod.status, conditions: next } }, 'status');
    } catch (err) {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }

  /** The node is Ready again: its members' MemberNotMoved conditions go, and a later loss is told afresh. */
  private async clearNotMoved(nodeName: string): Promise<void> {
    for (const pod of this.pods.byIndex(POD_NODE_NAME_INDEX, nodeName)) {
      this.told.delete(pod.metadata.uid!);
      const conditions: { type: string }[] = pod.status?.conditions ?? [];
      if (!conditions.some((c) => c.type === CONDITION_NOT_MOVED)) continue;
      try {
        await this.client.update(R.pods, pod.metadata.namespace, { ...pod, status: { ...pod.status, conditions: conditions.filter((c) => c.type !== CONDITION_NOT_MOVED) } }, 'status');
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }

  /** The node is Ready again: fences naming it are lifted from volumes none of its pods use. */
  private async liftFences(nodeName: string): Promise<void> {
    const inUse = new Set(this.pods.byIndex(POD_NODE_NAME_INDEX, nodeName).flatMap((p) => claimNames(p).map((c) => `${p.metadata.namespace}/${c}`)));
    const lift = async (ref: ResourceRef, obj: KubeObject, claimKey: string | undefined) => {
      const f = parseFence(obj.metadata.annotations?.[ANN_FENCE]);
      if (f?.node !== nodeName || (claimKey && inUse.has(claimKey))) return;
      await this.annotate(ref, obj, { [ANN_FENCE]: null });
      if (ref === R.persistentvolumeclaims) {
        void this.events.event(obj, 'Normal', 'FenceLifted', `Node ${nodeName} is Ready again and runs no pod using this claim: fence generation ${f.generation} lifted`);
      }
    };
    for (const pvc of this.pvcs.byIndex(FENCE_NODE_INDEX, nodeName)) await lift(R.persistentvolumeclaims, pvc, `${pvc.metadata.namespace}/${pvc.metadata.name}`);
    for (const pv of this.pvs.byIndex(FENCE_NODE_INDEX, nodeName)) {
      const ref = pv.spec?.claimRef;
      await lift(R.persistentvolumes, pv, ref ? `${ref.namespace}/${ref.name}` : undefined);
    }
  }

  private setOf(pod: KubeObject): KubeObject | undefined {
    const ref = controllerRefOf(pod);
    return ref?.kind === 'StatefulSet' ? this.sets.get(`${pod.metadata.namespace}/${ref.name}`) : undefined;
  }

  private volumesOf(pod: KubeObject): MemberVolume[] {
    return claimNames(pod).map((claimName) => {
      const pvc = this.pvcs.get(`${pod.metadata.namespace}/${claimName}`);
      const pv = pvc?.spec?.volumeName ? this.pvs.get(pvc.spec.volumeName) : undefined;
      return { claimName, pvc, pv };
    });
  }

  /** Emits one step of the story on the pod, its StatefulSet and its claims — once per pod. */
  private async tell(pod: KubeObject, set: KubeObject | undefined, claims: KubeObject[], type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const uid = pod.metadata.uid!;
    const told = this.told.get(uid) ?? new Set<string>();
    if (told.has(reason)) return;
    told.add(reason);
    this.told.set(uid, told);
    this.log?.info(message, { reason });
    for (const obj of [pod, ...(set ? [set] : []), ...claims]) await this.events.event(obj, type, reason, message);
  }

  private async annotate(ref: ResourceRef, obj: KubeObject, annotations: Record<string, string | null>): Promise<void> {
    try {
      await this.client.patch(ref, obj.metadata.namespace, obj.metadata.name!, 'merge', { metadata: { annotations } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

function sameFence(a: Fence | undefined, b: Fence): boolean {
  return !!a && a.node === b.node && a.generation === b.generation && a.pod === b.pod;
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
