/**
 * Carrying preemption out (framework/preemption's Evaluator.Preempt and prepareCandidate): decide in
 * memory (preemption.ts), nominate the preemptor to the chosen node, then — in the background, as
 * upstream's async preemption — give each victim the DisruptionTarget condition
 * (PreemptionByScheduler), delete it gracefully, and record a `Preempted` event on it; pods of lower
 * priority nominated to that node lose their nomination. While its victims are being written the
 * preemptor is not eligible again, nor while a victim on its nominated node is still terminating.
 */
import type { KubeObject } from '../apis/object.ts';
import { rfc3339 } from '../apis/time.ts';
import type { Client } from '../client/client.ts';
import { R } from '../client/client.ts';
import { isNotFound } from '../client/errors.ts';
import type { EventRecorder } from '../client/event-recorder.ts';
import type { Logger } from '../util/log.ts';
import type { Plugin } from './framework.ts';
import type { NodeInfo } from './node-info.ts';
import type { PodInfo } from './pod-info.ts';
import { budgetsOf, ineligibility, NOT_ELIGIBLE_TERMINATING, preempt, REASON_PREEMPTION_BY_SCHEDULER, type Candidate } from './preemption.ts';
import { Nominator } from './preemption-nominated.ts';
import type { Snapshot } from './snapshot.ts';

/** What the PostFilter decided for one pod. */
export interface PostFilterResult {
  /** A node to nominate the pod to; null: clear its nomination; undefined: leave it. */
  nominate?: string | null;
  /** The message's preemption part; undefined: the default (no victims found / not helpful), '' none. */
  message?: string;
  /** The victims' writes, to run in the background. */
  run?: () => Promise<void>;
}

export interface PreemptionOptions {
  schedulerName: string;
  /** PodDisruptionBudgets (from an informer). */
  budgets: () => KubeObject[];
}

/** The scheduler's preemption: the nominator, the decision, and the victims' writes. */
export class Preemption {
  readonly nominator = new Nominator();
  /** Preemptors whose victims are still being written. */
  private readonly writing = new Set<string>();

  constructor(private readonly client: Client, private readonly events: EventRecorder, private readonly log: Logger,
    private readonly opts: PreemptionOptions) {}

  /** The PostFilter for a pod that fits nowhere; `potential`: the nodes preemption might help (Diagnosis.potential). */
  postFilter(info: PodInfo, snap: Snapshot, filters: readonly Plugin[], potential?: readonly NodeInfo[]): PostFilterResult {
    if (this.writing.has(info.key)) return { message: NOT_ELIGIBLE_TERMINATING };
    const nominated = this.nominator.nodeOf(info.key) ?? (info.pod.status?.nominatedNodeName || undefined);
    const why = ineligibility(info, snap, nominated);
    if (why) return { message: why };
    const chosen = preempt(info, snap, filters, potential?.length === 0 ? [] : budgetsOf(this.opts.budgets()), Math.random, potential);
    if (!chosen) {
      this.nominator.delete(info.key);
      return nominated ? { nominate: null } : {};
    }
    this.nominator.set(info, chosen.node.name);
    this.log.info('preempting', { pod: info.key, node: chosen.node.name, victims: chosen.victims.map((v) => v.key) });
    this.writing.add(info.key);
    return { nominate: chosen.node.name, message: '', run: () => this.carryOut(info, chosen).finally(() => this.writing.delete(info.key)) };
  }

  /** The pod was placed or deleted: it holds no nomination. */
  forget(key: string): void {
    this.nominator.delete(key);
  }

  private async carryOut(preemptor: PodInfo, c: Candidate): Promise<void> {
    const node = c.node.name;
    await Promise.all(c.victims.map((v) => this.evict(preemptor, v, node)));
    // Lower-priority pods nominated here would count on room the preemptor now takes.
    const displaced = [...this.nominator.onNode(node)].filter((p) => p.key !== preemptor.key && p.priority < preemptor.priority);
    for (const p of displaced) this.nominator.delete(p.key);
    await Promise.all(displaced.map((p) => this.patchStatus(p, { nominatedNodeName: null })));
  }

  private async evict(preemptor: PodInfo, victim: PodInfo, node: string): Promise<void> {
    const condition = {
      type: 'DisruptionTarget', status: 'True', reason: REASON_PREEMPTION_BY_SCHEDULER,
      message: `${this.opts.schedulerName}: preempting to accommodate a higher priority pod`,
      lastProbeTime: null, lastTransitionTime: rfc3339(),
    };
    try {
      await this.client.patch(R.pods, victim.namespace, victim.name, 'strategic', { status: { conditions: [condition] } }, 'status');
      await this.client.delete(R.pods, victim.namespace, victim.name, { preconditions: { uid: victim.uid } });
    } catch (err) {
      if (isNotFound(err)) return; // gone already: its room is free
      this.log.warn('preempting a victim failed', { victim: victim.key, preemptor: preemptor.key, error: (err as Error).message });
      return;
    }
    void this.events.event(victim.pod, 'Normal', 'Preempted', `Preempted by pod ${preemptor.uid} on node ${node}`);
  }

  private async patchStatus(p: PodInfo, status: Record<string, unknown>): Promise<void> {
    try {
      await this.client.patch(R.pods, p.namespace, p.name, 'strategic', { status }, 'status');
    } catch (err) {
      if (!isNotFound(err)) this.log.debug('nomination not cleared', { pod: p.key, error: String(err) });
    }
  }
}
