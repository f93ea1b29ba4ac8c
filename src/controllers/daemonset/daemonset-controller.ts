/**
 * The DaemonSet controller (pkg/controller/daemon): one pod per eligible node (see
 * node-eligibility.ts), created unbound with a `metadata.name In [node]` field affinity so the
 * scheduler binds it; pods on nodes that no longer qualify, failed pods and duplicates are deleted;
 * RollingUpdate (maxUnavailable, or maxSurge: new pod first, old one deleted once the new is
 * available) or OnDelete; ControllerRevisions `<ds>-<hash>` keep the template history; status counts.
 * Pods and revisions are read from the API; the informers trigger reconciles.
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
  controllerRefOf, isPodAvailable, isPodReady, newControllerRef, podFromTemplate, selectorOf, controllerEvents,
  type ControllerEvents, type SharedEventRecorder,
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

  private readonly events: ControllerEvents;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, opts: { recorder?: SharedEventRecorder } = {}) {
    this.events = controllerEvents(client, COMPONENT, opts.recorder, log);
    this.dsInformer = factory.forResource(DAEMONSETS);
    this.nodes = factory.forResource(R.nodes);
    this.dsInformer.addHandlers(enqueueHandlers(this.queue));
    factory.forResource(R.pods).addHandlers(enqueueHandlers(this.queue, (pod) => {
      const ref = controllerRefOf(pod);
      return ref?.kind === 'DaemonSet' ? `${pod.metadata.namespace}/${ref.name}` : undefined;
    }));
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
      if (isNotFound(err)) return;
      throw err;
    }
    if (ds.metadata.deletionTimestamp) return;
    const spec: Rec = ds.spec;
    const owner = newControllerRef(ds, 'apps/v1', 'DaemonSet');
    const hash = templateHash(spec.template, ds.status?.collisionCount ?? 0);
    const selector = selectorOf(ds);
    const pods = (await this.client.list(R.pods, namespace)).items.filter((p) => controllerRefOf(p)?.uid === ds.metadata.uid && selector.matches(p.metadata.labels));
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

    for (const p of toDelete) {
      try {
        await this.client.delete(R.pods, p.metadata.namespace, p.metadata.name!, { preconditions: { uid: p.metadata.uid } });
        void this.events.event(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    for (const nodeName of toCreate) {
      const pod = podFromTemplate(spec.template, ds, owner);
      pod.metadata.labels = { ...pod.metadata.labels, [REVISION_HASH_LABEL]: hash, 'pod-template-generation': String(spec.templateGeneration ?? ds.metadata.generation ?? 1) };
      pod.spec.tolerations = daemonTolerations(pod.spec);
      pod.spec.affinity = daemonPodAffinity(pod.spec.affinity, nodeName);
      const made = await this.client.create(R.pods, namespace, pod);
      void this.events.event(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${made.metadata.name}`);
    }
    await this.writeStatus(ds, hash, eligible, misscheduled, toCreate.length > 0 || toDelete.length > 0);
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
    const revs = (await this.client.list(CONTROLLER_REVISIONS, ns)).items.filter((r) => controllerRefOf(r)?.uid === ds.metadata.uid);
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

  private async writeStatus(ds: KubeObject, hash: string, eligible: Array<{ node: string; pods: KubeObject[] }>, misscheduled: number, changed: boolean): Promise<void> {
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
      observedGeneration: ds.metadata.generation,
    };
    if (st.numberUnavailable === 0) delete st.numberUnavailable;
    if (JSON.stringify(st) !== JSON.stringify(ds.status ?? {})) {
      await this.client.update(DAEMONSETS, ds.metadata.namespace, { ...ds, status: st }, 'status');
    }
    // minReadySeconds: look again once pods may have become available.
    if (!changed && minReady > 0 && available < desired) this.queue.addAfter(keyOf(ds), minReady * 1000);
  }
}
