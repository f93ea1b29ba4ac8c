/**
 * The DaemonSet controller (pkg/controller/daemon): one pod per eligible node (see
 * node-eligibility.ts), created unbound with a `metadata.name In [node]` field affinity so the
 * scheduler binds it; pods on nodes that no longer qualify, failed pods and duplicates are deleted;
 * RollingUpdate (maxUnavailable, or maxSurge: new pod first, old one deleted once the new is
 * available) or OnDelete; ControllerRevisions `<ds>-<hash>` keep the template history; status counts.
 *
 * The DaemonSet is read from the API (one object); its pods and revisions from the shared informers by
 * controller uid, as upstream's getDaemonPods and controlledHistories (listing all pods of the
 * namespace from the API cost the API server 320–525 ms a sync at 20,000 pods in a namespace). The
 * pod cache lags the controller's own writes: creations and deletions it still waits to see
 * (Expectations, as upstream's) hold back further creates and deletes; status is still written.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client, type ResourceRef } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import { keyOf, splitKey, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import {
  CONTROLLER_UID_INDEX, Expectations, controllerUidIndex, isPodAvailable, isPodReady, newControllerRef, podFromTemplate,
  ownedPodHandlers, selectorOf, controllerEvents, type ControllerEvents, type SharedEventRecorder,
} from '../controller-utils.ts';
import { CONTROLLER_REVISIONS, REVISION_HASH_LABEL, maxRevision, newRevision, templateHash } from '../history/controller-history.ts';
import { daemonPodAffinity, daemonTolerations, nodeShouldRunDaemonPod, targetNodeOf } from './node-eligibility.ts';

/** apps/v1 DaemonSets and ControllerRevisions. */
export const DAEMONSETS: ResourceRef = { group: 'apps', version: 'v1', resource: 'daemonsets' };
export { CONTROLLER_REVISIONS };
const COMPONENT = 'daemonset-controller';

type Rec = Record<string, any>;

/** An intOrString (count or percent) scaled against `total`, rounding up as Kubernetes does here. */
export function scaledValue(v: unknown, total: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && /^\d+%$/.test(v)) return Math.ceil((Number(v.slice(0, -1)) * total) / 100);
  return 0;
}

/** The DaemonSet reconciler; see the file comment. */
export class DaemonSetController implements Reconciler {
  readonly name = 'daemonset';
  readonly queue = new RateLimitedQueue();
  private readonly nodes: SharedInformer;
  private readonly dsInformer: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly revisions: SharedInformer;
  /** Pod creations and deletions each DaemonSet waits to see in the pod cache. */
  readonly expectations = new Expectations();

  private readonly events: ControllerEvents;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: { recorder?: SharedEventRecorder } = {}) {
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    this.dsInformer = factory.forResource(DAEMONSETS);
    this.nodes = factory.forResource(R.nodes);
    this.dsInformer.addHandlers(enqueueHandlers(this.queue));
    this.revisions = factory.forResource(CONTROLLER_REVISIONS);
    this.revisions.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(CONTROLLER_UID_INDEX, controllerUidIndex);
    this.pods.addHandlers(ownedPodHandlers('DaemonSet', this.expectations, this.queue));
    // Any node change may change where every DaemonSet runs.
    this.nodes.addHandlers(enqueueHandlers(this.queue, () => this.dsInformer.list().map(keyOf)));
  }

  /** Starts `workers` reconcile loops. */
  run(workers = 2): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const { namespace, name } = splitKey(key);
    let ds: KubeObject;
    try {
      ds = await this.client.get(DAEMONSETS, namespace, name);
    } catch (err) {
      if (isNotFound(err)) { this.expectations.delete(key); return; }
      throw err;
    }
    if (ds.metadata.deletionTimestamp) return;
    const spec: Rec = ds.spec;
    const owner = newControllerRef(ds, 'apps/v1', 'DaemonSet');
    const hash = templateHash(spec.template, ds.status?.collisionCount ?? 0);
    const selector = selectorOf(ds);
    // Before the pods are read: a creation observed in between only makes this sync wait for nothing.
    const satisfied = this.expectations.satisfied(key);
    const pods = this.ownedBy(this.pods, ds).filter((p) => selector.matches(p.metadata.labels));
    await this.syncRevisions(ds, hash, owner, pods);

    const byNode = new Map<string, KubeObject[]>();
    for (const p of pods) {
      const n = targetNodeOf(p);
      if (!n || p.metadata.deletionTimestamp) continue;
      byNode.set(n, [...(byNode.get(n) ?? []), p]);
    }
    const nodes = this.nodes.list().filter((n) => !n.metadata.deletionTimestamp);
    const toCreate: string[] = [];
    const toDelete: KubeObject[] = [];
    const eligible: Array<{ node: string; pods: KubeObject[] }> = [];
    let misscheduled = 0;
    for (const node of nodes) {
      const nodeName = node.metadata.name!;
      const fit = nodeShouldRunDaemonPod(node, spec.template?.spec);
      let here = byNode.get(nodeName) ?? [];
      byNode.delete(nodeName);
      if (!fit.shouldContinueRunning) { toDelete.push(...here); if (here.length) misscheduled++; continue; }
      // Failed daemon pods are replaced.
      toDelete.push(...here.filter((p) => p.status?.phase === 'Failed'));
      here = here.filter((p) => p.status?.phase !== 'Failed');
      // Duplicates of one revision: keep the oldest.
      const seen = new Set<string>();
      const sorted = [...here].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? ''));
      here = [];
      for (const p of sorted) {
        const h = p.metadata.labels?.[REVISION_HASH_LABEL] === hash ? 'new' : 'old';
        if (seen.has(h)) toDelete.push(p); else { seen.add(h); here.push(p); }
      }
      // Tolerated by NoExecute but not NoSchedule: existing pods stay, counted as misscheduled.
      if (!fit.shouldRun) { if (here.length) misscheduled++; continue; }
      if (here.length === 0) toCreate.push(nodeName);
      eligible.push({ node: nodeName, pods: here });
    }
    // Pods for nodes that are gone.
    for (const ps of byNode.values()) toDelete.push(...ps);
    if (spec.updateStrategy?.type !== 'OnDelete') this.rollingUpdate(ds, hash, eligible, toCreate, toDelete);

    // Creations or deletions not yet seen in the cache: its pods are not the whole story. Only the
    // status is written (observedGeneration kept), as upstream; the awaited pod events queue it again.
    if (!satisfied) {
      await this.writeStatus(ds, hash, eligible, misscheduled, true, false);
      return;
    }
    await this.deletePods(key, ds, toDelete);
    await this.createPods(key, ds, hash, owner, toCreate);
    await this.writeStatus(ds, hash, eligible, misscheduled, toCreate.length > 0 || toDelete.length > 0, true);
  }

  /** The objects of `informer` that `ds` controls (by controller uid; a reference never crosses namespaces). */
  private ownedBy(informer: SharedInformer, ds: KubeObject): KubeObject[] {
    return informer.byIndex(CONTROLLER_UID_INDEX, ds.metadata.uid!).filter((o) => o.metadata.namespace === ds.metadata.namespace);
  }

  /** Deletes `pods`, each deletion expected in the cache first. */
  private async deletePods(key: ObjectKey, ds: KubeObject, pods: KubeObject[]): Promise<void> {
    if (!pods.length) return;
    this.expectations.expectDeletions(key, pods.map(keyOf));
    for (const p of pods) {
      try {
        await this.client.delete(R.pods, p.metadata.namespace, p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
        void this.events.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      } catch (err) {
        this.expectations.deletionObserved(key, keyOf(p));
        if (!isNotFound(err)) {
          // The rest will not be deleted now: stop waiting for them.
          for (const q of pods) this.expectations.deletionObserved(key, keyOf(q));
          throw err;
        }
      }
    }
  }

  /** Creates a daemon pod for each node, each creation expected in the cache first. */
  private async createPods(key: ObjectKey, ds: KubeObject, hash: string, owner: ReturnType<typeof newControllerRef>, nodeNames: string[]): Promise<void> {
    if (!nodeNames.length) return;
    const spec: Rec = ds.spec;
    this.expectations.expectCreations(key, nodeNames.length);
    let made = 0;
    try {
      for (const nodeName of nodeNames) {
        const pod = podFromTemplate(spec.template, ds, owner);
        pod.metadata.labels = { ...pod.metadata.labels, [REVISION_HASH_LABEL]: hash, 'pod-template-generation': String(spec.templateGeneration ?? ds.metadata.generation ?? 1) };
        pod.spec.tolerations = daemonTolerations(pod.spec);
        pod.spec.affinity = daemonPodAffinity(pod.spec.affinity, nodeName);
        const created = await this.client.create(R.pods, ds.metadata.namespace, pod);
        made++;
        void this.events.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
      }
    } finally {
      // Creations that never happened will never be observed.
      this.expectations.lowerCreations(key, nodeNames.length - made);
    }
  }

  /**
   * RollingUpdate: with maxSurge, start a new pod beside an old one (up to maxSurge nodes at once) and
   * delete the old one once the new is available; otherwise delete old pods — unavailable ones
   * freely, available ones while fewer than maxUnavailable nodes are unavailable.
   */
  private rollingUpdate(ds: KubeObject, hash: string, eligible: Array<{ node: string; pods: KubeObject[] }>, toCreate: string[], toDelete: KubeObject[]): void {
    const ru: Rec = ds.spec.updateStrategy?.rollingUpdate ?? {};
    const minReady = ds.spec.minReadySeconds ?? 0;
    const desired = eligible.length;
    const isNew = (p: KubeObject) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash;
    const avail = (p: KubeObject) => isPodAvailable(p, minReady);
    const surge = scaledValue(ru.maxSurge, desired);
    if (surge > 0) {
      let surging = eligible.filter((e) => e.pods.some(isNew) && e.pods.some((p) => !isNew(p))).length;
      for (const e of eligible) {
        const oldP = e.pods.find((p) => !isNew(p));
        const newP = e.pods.find(isNew);
        if (!oldP) continue;
        if (newP && avail(newP)) toDelete.push(oldP);
        else if (!newP && !avail(oldP)) toDelete.push(oldP);
        else if (!newP && surging < surge) { toCreate.push(e.node); surging++; }
      }
      return;
    }
    const maxUnavailable = Math.max(1, scaledValue(ru.maxUnavailable ?? 1, desired));
    let unavailable = eligible.filter((e) => !e.pods.some(avail)).length;
    for (const e of eligible) {
      for (const p of e.pods.filter((x) => !isNew(x))) {
        if (!avail(p)) { toDelete.push(p); continue; }
        if (unavailable < maxUnavailable) { toDelete.push(p); unavailable++; }
      }
    }
  }

  /** Ensures the current revision exists with the highest number; prunes history beyond the limit. */
  private async syncRevisions(ds: KubeObject, hash: string, owner: ReturnType<typeof newControllerRef>, pods: KubeObject[]): Promise<void> {
    const ns = ds.metadata.namespace;
    // From the cache: one a lagging cache misses is created again (AlreadyExists) or updated (a conflict, retried).
    const revs = this.ownedBy(this.revisions, ds);
    const top = maxRevision(revs);
    const curName = `${ds.metadata.name}-${hash}`;
    const cur = revs.find((r) => r.metadata.name === curName);
    if (!cur) {
      try {
        await this.client.create(CONTROLLER_REVISIONS, ns, newRevision(ds, hash, top + 1, owner));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
    } else if (Number((cur as Rec).revision) < top) {
      await this.client.update(CONTROLLER_REVISIONS, ns, { ...cur, revision: top + 1 });
    }
    const live = new Set(pods.map((p) => p.metadata.labels?.[REVISION_HASH_LABEL]));
    const old = revs.filter((r) => r.metadata.name !== curName && !live.has(r.metadata.labels?.[REVISION_HASH_LABEL])).sort((a, b) => Number((a as Rec).revision) - Number((b as Rec).revision));
    for (const r of old.slice(0, Math.max(0, old.length - (ds.spec.revisionHistoryLimit ?? 10)))) {
      try {
        await this.client.delete(CONTROLLER_REVISIONS, ns, r.metadata.name!);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }

  /** `observed`: this sync acted on the DaemonSet's generation (observedGeneration follows it). */
  private async writeStatus(ds: KubeObject, hash: string, eligible: Array<{ node: string; pods: KubeObject[] }>, misscheduled: number, changed: boolean, observed: boolean): Promise<void> {
    const minReady = ds.spec.minReadySeconds ?? 0;
    const desired = eligible.length;
    const available = eligible.filter((e) => e.pods.some((p) => isPodAvailable(p, minReady))).length;
    const st: Rec = {
      ...(ds.status ?? {}),
      desiredNumberScheduled: desired,
      currentNumberScheduled: eligible.filter((e) => e.pods.length > 0).length,
      numberMisscheduled: misscheduled,
      numberReady: eligible.filter((e) => e.pods.some(isPodReady)).length,
      numberAvailable: available,
      numberUnavailable: desired - available,
      updatedNumberScheduled: eligible.filter((e) => e.pods.some((p) => p.metadata.labels?.[REVISION_HASH_LABEL] === hash)).length,
      observedGeneration: observed ? ds.metadata.generation : ds.status?.observedGeneration,
    };
    if (st.observedGeneration === undefined) delete st.observedGeneration;
    if (st.numberUnavailable === 0) delete st.numberUnavailable;
    if (JSON.stringify(st) !== JSON.stringify(ds.status ?? {})) {
      await this.client.update(DAEMONSETS, ds.metadata.namespace, { ...ds, status: st }, 'status');
    }
    // minReadySeconds: look again once pods may have become available.
    if (!changed && minReady > 0 && available < desired) this.queue.addAfter(keyOf(ds), minReady * 1000);
  }
}
