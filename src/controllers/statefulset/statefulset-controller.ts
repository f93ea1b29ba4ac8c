/**
 * The StatefulSet controller (pkg/controller/statefulset/stateful_set.go): informer events on
 * StatefulSets, their pods and their ControllerRevisions queue the set's key; a sync claims the set's
 * pods and revisions (adopting orphans whose name and labels fit, releasing those that no longer
 * match), settles the current and update revisions, runs the policy (stateful-set-control.ts) through
 * the writes of stateful-pod-control.ts, records the status and trims the history.
 *
 *   StatefulSet / Pod / ControllerRevision events ─▶ key ─▶ queue ─▶ reconcile
 *     claim pods + revisions ─▶ syncRevisions ─▶ syncMembers (create / delete / repair) ─▶ status ─▶ truncateHistory
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Client, ResourceRef } from '../../client/client.ts';
import { R } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import {
  CONTROLLER_UID_INDEX, ORPHAN_INDEX, claimCandidates, claimObjects, controllerEvents, controllerRefOf, controllerUidIndex,
  isPodAvailable, isPodReady, newControllerRef, orphanIndex, selectorOf, type SharedEventRecorder,
} from '../controller-utils.ts';
import { completeRollingUpdate, syncMembers, type MemberStatus } from './stateful-set-control.ts';
import { StatefulPodControl } from './stateful-pod-control.ts';
import { CONTROLLER_REVISIONS, syncRevisions, truncateHistory } from './stateful-set-revisions.ts';
import { applyRevision, parentAndOrdinal } from './stateful-set-utils.ts';

export const STATEFULSETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'statefulsets' };
const COMPONENT = 'statefulset-controller';

/** The status fields this controller owns, in the shape the API stores them. */
function statusOf(s: MemberStatus): Record<string, unknown> {
  return {
    observedGeneration: s.observedGeneration, replicas: s.replicas, readyReplicas: s.readyReplicas,
    availableReplicas: s.availableReplicas, currentReplicas: s.currentReplicas, updatedReplicas: s.updatedReplicas,
    currentRevision: s.currentRevision, updateRevision: s.updateRevision, collisionCount: s.collisionCount,
  };
}

export class StatefulSetController implements Reconciler {
  readonly name = 'statefulset';
  readonly queue = new RateLimitedQueue();
  private readonly sets: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly revisions: SharedInformer;
  private readonly control: StatefulPodControl;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: { recorder?: SharedEventRecorder; now?: () => number } = {}) {
    this.now = opts.now ?? Date.now;
    this.control = new StatefulPodControl(client, controllerEvents(client, COMPONENT, opts.recorder, log));
    this.sets = factory.forResource(STATEFULSETS);
    this.pods = factory.forResource(R.pods);
    this.revisions = factory.forResource(CONTROLLER_REVISIONS);
    for (const informer of [this.pods, this.revisions]) {
      informer.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
      informer.addIndex(ORPHAN_INDEX, orphanIndex);
    }
    this.sets.addHandlers(enqueueHandlers(this.queue));
    const toOwner = (obj: KubeObject): ObjectKey | undefined => {
      const ref = controllerRefOf(obj);
      if (ref?.kind === 'StatefulSet') return `${obj.metadata.namespace}/${ref.name}`;
      // An orphan named like a member may be adopted by the set of that name.
      const { parent } = parentAndOrdinal(obj);
      return !ref && parent && this.sets.get(`${obj.metadata.namespace}/${parent}`) ? `${obj.metadata.namespace}/${parent}` : undefined;
    };
    this.pods.addHandlers(enqueueHandlers(this.queue, toOwner));
    this.revisions.addHandlers(enqueueHandlers(this.queue, (r) => {
      const ref = controllerRefOf(r);
      return ref?.kind === 'StatefulSet' ? `${r.metadata.namespace}/${ref.name}` : undefined;
    }));
  }

  private readonly now: () => number;

  run(workers = 2): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const cached = this.sets.get(key);
    if (!cached) return;
    const set = structuredClone(cached);
    const ref = newControllerRef(set, 'apps/v1', 'StatefulSet');
    const selector = selectorOf(set);
    // The set's own pods and revisions and its namespace's orphans, by index (claimCandidates, as
    // upstream's FilterPodsByOwner): others' are never claimed, so a namespace walk found no more.
    // Only pods named as members (`<set>-<ordinal>`) are candidates, as isMemberOf.
    const memberNamed = claimCandidates(this.pods, set).filter((p) => parentAndOrdinal(p).parent === set.metadata.name);
    const pods = await claimObjects(this.client, R.pods, set, ref, selector, memberNamed, this.log);
    const owned = await claimObjects(this.client, CONTROLLER_REVISIONS, set, ref, selector, claimCandidates(this.revisions, set), this.log);
    const { current, update, collisionCount } = await syncRevisions(this.client, set, owned, ref);

    let status: MemberStatus;
    let failure: unknown;
    try {
      status = await syncMembers({
        set, currentSet: applyRevision(set, current), updateSet: applyRevision(set, update),
        currentRevision: current.metadata.name!, updateRevision: update.metadata.name!, collisionCount, pods, now: this.now(),
      }, this.control);
    } catch (err) {
      const partial = (err as { status?: MemberStatus }).status;
      if (!partial) throw err;
      status = partial;
      failure = err;
    }
    completeRollingUpdate(set, status);
    await this.writeStatus(set, status);
    await truncateHistory(this.client, set, [...owned.filter((r) => r.metadata.name !== update.metadata.name), update], pods, [status.currentRevision, status.updateRevision]);
    if (failure) throw failure;
    // Members Ready but not yet Available: look again when minReadySeconds has passed.
    const minReady = Number(set.spec?.minReadySeconds ?? 0);
    if (minReady > 0 && pods.some((p) => isPodReady(p) && !isPodAvailable(p, minReady, this.now()))) this.queue.addAfter(key, minReady * 1000 + 50);
  }

  private async writeStatus(set: KubeObject, status: MemberStatus): Promise<void> {
    const next = statusOf(status);
    const cur = set.status ?? {};
    if (Object.entries(next).every(([k, v]) => (cur[k] ?? (k === 'collisionCount' ? 0 : undefined)) === v)) return;
    try {
      await this.client.patch(STATEFULSETS, set.metadata.namespace, set.metadata.name!, 'merge', { status: next }, 'status');
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

