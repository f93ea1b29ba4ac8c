/**
 * The ReplicaSet controller (pkg/controller/replicaset): keeps `spec.replicas` active pods per
 * ReplicaSet — creating pods from the template (slow start: batches of 1, 2, 4…), deleting surplus
 * pods in deletion-rank order — adopts matching orphans, releases pods that stopped matching, and
 * writes status. Creation/deletion expectations keep a lagging pod cache from causing double work.
 *
 * The same loop runs ReplicationControllers (core/v1): upstream's ReplicationManager is the
 * ReplicaSet controller over a converted view of RCs; here the kind is a parameter (REPLICATION_CONTROLLER),
 * its only differences being where it lives and its map selector.
 */
import type { KubeObject } from '../../apis/object.ts';
import { fromLabelSelectorSpec } from '../../apis/selectors/label-selector-spec.ts';
import type { LabelSelector } from '../../apis/selectors/label-selector.ts';
import type { Client, ResourceRef } from '../../client/client.ts';
import { R } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import { keyOf, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import {
  APPS, CONTROLLER_UID_INDEX, Expectations, ORPHAN_INDEX, claimCandidates, claimObjects, compareForDeletion, controllerRefOf, controllerUidIndex, orphanIndex,
  isPodActive, isPodAvailable, isPodReady, newControllerRef, podFromTemplate, selectorOf, controllerEvents,
  type ControllerEvents, type SharedEventRecorder,
} from '../controller-utils.ts';
import { calculateStatus, statusEquals } from './replicaset-status.ts';

/** Most pods created or deleted in one sync (Kubernetes' burstReplicas). */
const BURST_REPLICAS = 500;

/** The kind a ReplicaSetController keeps (see the file comment). */
export interface ReplicatedKind {
  /** The controller's name (work-queue, leader election, descriptors). */
  name: string;
  /** The events' source component. */
  component: string;
  resource: ResourceRef;
  apiVersion: string;
  kind: string;
  selector(obj: KubeObject): LabelSelector;
}

export const REPLICA_SET: ReplicatedKind = {
  name: 'replicaset', component: 'replicaset-controller', resource: APPS.replicasets, apiVersion: 'apps/v1', kind: 'ReplicaSet', selector: selectorOf,
};

const RCS: ResourceRef = { group: '', version: 'v1', resource: 'replicationcontrollers' };

export const REPLICATION_CONTROLLER: ReplicatedKind = {
  name: 'replicationcontroller', component: 'replication-controller', resource: RCS, apiVersion: 'v1', kind: 'ReplicationController',
  // An RC's selector is a label map; an empty one selects nothing (the API defaults it from the template).
  selector: (rc) => {
    const m = rc.spec?.selector;
    return m && typeof m === 'object' && Object.keys(m).length ? fromLabelSelectorSpec({ matchLabels: m }) : fromLabelSelectorSpec(null);
  },
};

/** The ReplicaSet reconciler over shared informers; see the file comment. */
export class ReplicaSetController implements Reconciler {
  readonly name: string;
  readonly queue = new RateLimitedQueue();
  readonly expectations = new Expectations();
  private readonly rsInformer: SharedInformer;
  private readonly podInformer: SharedInformer;
  private readonly events: ControllerEvents;

  private readonly kind: ReplicatedKind;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: { recorder?: SharedEventRecorder; kind?: ReplicatedKind } = {}) {
    this.kind = opts.kind ?? REPLICA_SET;
    this.name = this.kind.name;
    this.events = controllerEvents(client, this.kind.component, opts.recorder, log);
    this.rsInformer = factory.forResource(this.kind.resource);
    this.podInformer = factory.forResource(R.pods);
    this.podInformer.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
    this.podInformer.addIndex(ORPHAN_INDEX, orphanIndex);
    this.rsInformer.addHandlers(enqueueHandlers(this.queue));
    this.podInformer.addHandlers({
      add: (pod) => {
        const rs = this.ownerOf(pod);
        if (rs) { this.expectations.creationObserved(keyOf(rs)); this.queue.add(keyOf(rs)); return; }
        if (pod.metadata.deletionTimestamp) return;
        for (const k of this.matchingReplicaSets(pod)) this.queue.add(k);
      },
      update: (oldPod, pod) => {
        if (pod.metadata.deletionTimestamp && !oldPod.metadata.deletionTimestamp) {
          // A graceful delete: the pod is as good as gone for counting.
          const rs = this.ownerOf(pod);
          if (rs) this.expectations.deletionObserved(keyOf(rs), keyOf(pod));
        }
        const before = this.ownerOf(oldPod);
        const now = this.ownerOf(pod);
        if (before && before !== now) this.queue.add(keyOf(before));
        if (now) { this.queue.add(keyOf(now)); return; }
        // An orphan that changed labels may now be adoptable.
        for (const k of this.matchingReplicaSets(pod)) this.queue.add(k);
      },
      delete: (pod) => {
        const rs = this.ownerOf(pod);
        if (!rs) return;
        this.expectations.deletionObserved(keyOf(rs), keyOf(pod));
        this.queue.add(keyOf(rs));
      },
    });
  }

  /** Starts `workers` reconcile loops (the informers are started by the factory). */
  run(workers = 2): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  /** The ReplicaSet controlling `pod`, if cached. */
  private ownerOf(pod: KubeObject): KubeObject | undefined {
    const ref = controllerRefOf(pod);
    if (!ref || ref.kind !== this.kind.kind) return undefined;
    const rs = this.rsInformer.get(`${pod.metadata.namespace}/${ref.name}`);
    return rs?.metadata.uid === ref.uid ? rs : undefined;
  }

  private matchingReplicaSets(pod: KubeObject): ObjectKey[] {
    return this.rsInformer.list(pod.metadata.namespace)
      .filter((rs) => this.kind.selector(rs).matches(pod.metadata.labels))
      .map(keyOf);
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const cached = this.rsInformer.get(key);
    if (!cached) { this.expectations.delete(key); return; }
    const rs = structuredClone(cached);
    const needsSync = this.expectations.satisfied(key);
    const selector = this.kind.selector(rs);
    const candidates = claimCandidates(this.podInformer, rs).filter(isPodActive);
    const ref = newControllerRef(rs, this.kind.apiVersion, this.kind.kind);
    const pods = await claimObjects(this.client, R.pods, rs, ref, selector, candidates, this.log);
    let manageError: unknown;
    if (needsSync && !rs.metadata.deletionTimestamp) {
      try {
        await this.manageReplicas(key, rs, pods);
      } catch (err) {
        manageError = err;
      }
    }
    const counts = calculateStatus(rs, pods);
    if (!statusEquals(rs, counts)) {
      try {
        await this.client.patch(this.kind.resource, rs.metadata.namespace, rs.metadata.name!, 'merge', { status: counts }, 'status');
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (manageError) throw manageError;
    // Pods ready but not yet available: look again when minReadySeconds has passed.
    const minReady: number = rs.spec?.minReadySeconds ?? 0;
    if (minReady > 0 && pods.some((p) => isPodReady(p) && !isPodAvailable(p, minReady))) {
      this.queue.addAfter(key, minReady * 1000 + 50);
    }
  }

  /** Creates or deletes pods so `pods` (active, owned) becomes spec.replicas. */
  private async manageReplicas(key: ObjectKey, rs: KubeObject, pods: KubeObject[]): Promise<void> {
    const want: number = rs.spec?.replicas ?? 1;
    const diff = pods.length - want;
    if (diff < 0) {
      const n = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expectCreations(key, n);
      const ref = newControllerRef(rs, this.kind.apiVersion, this.kind.kind);
      const created = await slowStartBatch(n, 1, async () => {
        const pod = await this.client.create(R.pods, rs.metadata.namespace, podFromTemplate(rs.spec?.template, rs, ref));
        void this.events.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
      });
      if (created.failed) {
        // Creations that never happened will never be observed.
        this.expectations.lowerCreations(key, n - created.ok);
        void this.events.event(rs, 'Warning', 'FailedCreate', `Error creating: ${(created.error as Error).message}`);
        throw created.error;
      }
    } else if (diff > 0) {
      const n = Math.min(diff, BURST_REPLICAS);
      const victims = [...pods].sort(compareForDeletion).slice(0, n);
      this.expectations.expectDeletions(key, victims.map(keyOf));
      const errors: unknown[] = [];
      await Promise.all(victims.map(async (pod) => {
        try {
          await this.client.delete(R.pods, pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
          void this.events.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
        } catch (err) {
          this.expectations.deletionObserved(key, keyOf(pod));
          if (!isNotFound(err)) errors.push(err);
        }
      }));
      if (errors.length) throw errors[0];
    }
  }
}

/**
 * Runs `fn` `count` times in batches growing 1, 2, 4… (Kubernetes' slowStartBatch), stopping at the
 * first batch with a failure, so a template the API refuses costs one call rather than hundreds.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>): Promise<{ ok: number; failed: boolean; error?: unknown }> {
  let remaining = count;
  let ok = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    ok += batch - failures.length;
    if (failures.length) return { ok, failed: true, error: failures[0].reason };
    remaining -= batch;
  }
  return { ok, failed: false };
}

/** Creates the controller, wired to the factory's informers; call `run()` after `factory.start()`. */
export function newReplicaSetController(client: Client, factory: InformerFactory, log?: Logger): ReplicaSetController {
  return new ReplicaSetController(client, factory, log);
}
