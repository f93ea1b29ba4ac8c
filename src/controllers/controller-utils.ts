/**
 * Helpers the workload controllers share (after Kubernetes' pkg/controller/controller_utils.go and
 * pkg/api/v1/pod): pod readiness and availability, pods from templates, controller owner references,
 * creation/deletion expectations, the deletion ranking of pods, and each controller's event recorder.
 */
import type { KubeObject, OwnerReference } from '../apis/object.ts';
import { fromLabelSelectorSpec } from '../apis/selectors/label-selector-spec.ts';
import type { LabelSelector } from '../apis/selectors/label-selector.ts';
import type { Client, ResourceRef } from '../client/client.ts';
import { keyOf, type InformerHandlers, type ObjectKey, type WorkQueue } from '../client/controller-types.ts';
import { EventRecorder, clientEventSink, type EventType } from '../client/event-recorder.ts';
import type { Logger } from '../util/log.ts';

/** apps/v1 refs the workload controllers use. */
export const APPS = {
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
} as const satisfies Record<string, ResourceRef>;

/** The name of the informer index filing objects by their controller owner's uid. */
export const CONTROLLER_UID_INDEX = 'controllerUID';

type Condition = { type: string; status: string; lastTransitionTime?: string };

/** The pod's Ready condition, if any. */
export function podReadyCondition(pod: KubeObject): Condition | undefined {
  return (pod.status?.conditions ?? []).find((c: Condition) => c.type === 'Ready');
}

/** Ready=True. */
export function isPodReady(pod: KubeObject): boolean {
  return podReadyCondition(pod)?.status === 'True';
}

/** Ready for at least minReadySeconds (by the Ready condition's lastTransitionTime). */
export function isPodAvailable(pod: KubeObject, minReadySeconds = 0, now = Date.now()): boolean {
  const c = podReadyCondition(pod);
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = Date.parse(c.lastTransitionTime ?? '');
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

/** Not finished and not being deleted (FilterActivePods). */
export function isPodActive(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

/** The controller owner reference, if any. */
export function controllerRefOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** Indexes objects by their controller owner's uid (for informer.addIndex). */
export function controllerUidIndex(obj: KubeObject): string[] {
  const ref = controllerRefOf(obj);
  return ref ? [ref.uid] : [];
}

/** The name of the pod informer index filing bound pods by spec.nodeName (one index for every controller). */
export const POD_NODE_NAME_INDEX = 'spec.nodeName';

/** Indexes a pod by the node it is bound to (for informer.addIndex on pods). */
export function podNodeNameIndex(pod: KubeObject): string[] {
  return pod.spec?.nodeName ? [pod.spec.nodeName] : [];
}

/** The name of the informer index filing objects without a controller owner by their namespace. */
export const ORPHAN_INDEX = 'orphanByNamespace';

/** Indexes objects without a controller owner by namespace (for informer.addIndex). */
export function orphanIndex(obj: KubeObject): string[] {
  return controllerRefOf(obj) ? [] : [obj.metadata.namespace ?? ''];
}

/**
 * What `owner` may claim (claimObjects): the objects it controls and its namespace's orphans, from
 * the informer's CONTROLLER_UID_INDEX and ORPHAN_INDEX — not the whole namespace, as kube's
 * ReplicaSet controller reads its PodControllerUIDIndex (owner UID, then the orphan key). Objects
 * controlled by others are never claimed, so the result is the same; the cost is the owner's, not
 * the namespace's: at 150,000 pods in one namespace each ReplicaSet sync walked all of them.
 */
export function claimCandidates(informer: { byIndex(name: string, value: string): KubeObject[] }, owner: KubeObject): KubeObject[] {
  const ns = owner.metadata.namespace ?? '';
  // A controller reference never crosses namespaces (the garbage collector ignores one that does).
  const owned = informer.byIndex(CONTROLLER_UID_INDEX, owner.metadata.uid!).filter((o) => (o.metadata.namespace ?? '') === ns);
  return owned.concat(informer.byIndex(ORPHAN_INDEX, ns));
}

/** A controller owner reference to `owner` (blockOwnerDeletion so foreground deletion waits). */
export function newControllerRef(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** A spec's label selector, parsed; matches nothing when absent or invalid. */
export function selectorOf(obj: KubeObject): LabelSelector {
  try {
    return fromLabelSelectorSpec(obj.spec?.selector);
  } catch {
    return fromLabelSelectorSpec(null);
  }
}

/** A new pod from a pod template, owned by `owner`, named `<owner>-<random>` by the server. */
export function podFromTemplate(template: KubeObject | undefined, owner: KubeObject, ref: OwnerReference): KubeObject {
  const t = structuredClone(template ?? { metadata: {}, spec: {} }) as { metadata?: Record<string, any>; spec?: Record<string, any> };
  const meta = t.metadata ?? {};
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: {
      generateName: `${owner.metadata.name}-`, namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}) }, annotations: { ...(meta.annotations ?? {}) },
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [ref],
    },
    spec: t.spec ?? {},
  };
}

/** Pod phase rank for deletion: Pending before Unknown before Running (ActivePodsWithRanks). */
const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/**
 * Orders pods so the ones to delete first come first, as Kubernetes' ranking (simplified):
 * unscheduled before scheduled, Pending < Unknown < Running, not ready before ready, ready for less
 * time before longer, more restarts first, newer before older.
 */
export function compareForDeletion(a: KubeObject, b: KubeObject): number {
  const sched = (p: KubeObject) => (p.spec?.nodeName ? 1 : 0);
  if (sched(a) !== sched(b)) return sched(a) - sched(b);
  const ph = (p: KubeObject) => PHASE_RANK[p.status?.phase ?? 'Pending'] ?? 0;
  if (ph(a) !== ph(b)) return ph(a) - ph(b);
  const rd = (p: KubeObject) => (isPodReady(p) ? 1 : 0);
  if (rd(a) !== rd(b)) return rd(a) - rd(b);
  if (isPodReady(a) && isPodReady(b)) {
    const since = (p: KubeObject) => Date.parse(podReadyCondition(p)?.lastTransitionTime ?? '') || 0;
    if (since(a) !== since(b)) return since(b) - since(a);
  }
  const restarts = (p: KubeObject) => (p.status?.containerStatuses ?? []).reduce((n: number, c: { restartCount?: number }) => n + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const created = (p: KubeObject) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;
  if (created(a) !== created(b)) return created(b) - created(a);
  // Same second: the later name sorts first, for a stable order.
  return (b.metadata.name ?? '').localeCompare(a.metadata.name ?? '');
}

/**
 * ControllerExpectations: how many creations and which deletions a controller still waits to see in
 * its informer before acting again, so a stale cache does not make it create or delete twice.
 * Expectations expire after 5 minutes, as in Kubernetes, in case an event was missed.
 */
export class Expectations {
  private readonly m = new Map<ObjectKey, { adds: number; dels: Set<string>; at: number }>();
  constructor(private readonly ttlMs = 5 * 60_000) {}

  expectCreations(key: ObjectKey, n: number): void {
    const e = this.entry(key);
    e.adds = n;
    e.at = Date.now();
  }

  /** Expects the deletion of the pods with these keys (namespace/name). */
  expectDeletions(key: ObjectKey, podKeys: string[]): void {
    const e = this.entry(key);
    e.dels = new Set(podKeys);
    e.at = Date.now();
  }

  creationObserved(key: ObjectKey): void {
    const e = this.m.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  /** Lowers the expected creations (a create that failed or was skipped). */
  lowerCreations(key: ObjectKey, n: number): void {
    const e = this.m.get(key);
    if (e) e.adds = Math.max(0, e.adds - n);
  }

  deletionObserved(key: ObjectKey, podKey: string): void {
    this.m.get(key)?.dels.delete(podKey);
  }

  /** True when nothing is pending, or the expectations expired. */
  satisfied(key: ObjectKey): boolean {
    const e = this.m.get(key);
    if (!e) return true;
    return (e.adds <= 0 && e.dels.size === 0) || Date.now() - e.at > this.ttlMs;
  }

  delete(key: ObjectKey): void {
    this.m.delete(key);
  }

  private entry(key: ObjectKey) {
    let e = this.m.get(key);
    if (!e) this.m.set(key, (e = { adds: 0, dels: new Set(), at: Date.now() }));
    return e;
  }
}

/**
 * The pod handlers of a controller that waits on expectations (Job, DaemonSet): the pod's controller
 * owner of `kind` is enqueued on every change (the owner it had before too, if that changed), and
 * the pod's creation and deletion (its deletionTimestamp newly set, or gone) are marked observed.
 * `also` runs first on every event, for the controller's own bookkeeping.
 */
export function ownedPodHandlers(kind: string, expectations: Expectations, queue: WorkQueue, also: InformerHandlers = {}): InformerHandlers {
  const ownerOf = (pod: KubeObject) => {
    const ref = controllerRefOf(pod);
    return ref?.kind === kind ? `${pod.metadata.namespace}/${ref.name}` : undefined;
  };
  return {
    add: (pod) => {
      also.add?.(pod);
      const key = ownerOf(pod);
      if (!key) return;
      expectations.creationObserved(key);
      queue.add(key);
    },
    update: (old, pod) => {
      also.update?.(old, pod);
      const key = ownerOf(pod);
      if (key && pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) expectations.deletionObserved(key, keyOf(pod));
      const before = ownerOf(old);
      if (before && before !== key) queue.add(before);
      if (key) queue.add(key);
    },
    delete: (pod) => {
      also.delete?.(pod);
      const key = ownerOf(pod);
      if (!key) return;
      expectations.deletionObserved(key, keyOf(pod));
      queue.add(key);
    },
  };
}

/** One controller's events, its component set once (client/event-recorder.ts's EventRecorder). */
export interface ControllerEvents {
  event(obj: KubeObject, type: EventType, reason: string, message: string): Promise<void>;
}

/**
 * The controller manager's recorder, shared by its controllers (one aggregation cache), as
 * client-go's recorders share their broadcaster: each controller takes its view with `withSource`.
 */
export interface SharedEventRecorder {
  withSource(source: { component: string }): ControllerEvents;
}

/**
 * A controller's events as `component`: a view of the manager's `shared` recorder, or, for a
 * controller built on its own (tests), a recorder of its own on `client`. Aggregated, never throwing.
 */
export function controllerEvents(client: Client, component: string, shared?: SharedEventRecorder, log?: Logger): ControllerEvents {
  return shared?.withSource({ component }) ?? new EventRecorder({ sink: clientEventSink(client), source: { component }, log });
}

/**
 * ClaimObjects (ControllerRefManager): of `candidates` in the owner's namespace, returns those the
 * owner controls — adopting orphans its selector matches, releasing owned ones it no longer matches.
 * Objects controlled by someone else are left alone. A deleting owner neither adopts nor releases.
 */
export async function claimObjects(client: Client, ref: ResourceRef, owner: KubeObject, controllerRef: OwnerReference, selector: LabelSelector, candidates: KubeObject[], log?: Logger): Promise<KubeObject[]> {
  const owned: KubeObject[] = [];
  const deleting = !!owner.metadata.deletionTimestamp;
  for (const obj of candidates) {
    const cr = controllerRefOf(obj);
    const matches = selector.matches(obj.metadata.labels);
    if (cr) {
      if (cr.uid !== owner.metadata.uid) continue;
      if (matches || deleting) { owned.push(obj); continue; }
      const refs = (obj.metadata.ownerReferences ?? []).filter((r) => r.uid !== owner.metadata.uid);
      await patchOwners(client, ref, obj, refs, log);
      continue;
    }
    if (!matches || deleting || obj.metadata.deletionTimestamp) continue;
    const adopted = await patchOwners(client, ref, obj, [...(obj.metadata.ownerReferences ?? []), controllerRef], log);
    if (adopted) owned.push(adopted);
  }
  return owned;
}

/** Replaces an object's ownerReferences (guarded by its uid); undefined when it is gone or changed. */
async function patchOwners(client: Client, ref: ResourceRef, obj: KubeObject, refs: OwnerReference[], log?: Logger): Promise<KubeObject | undefined> {
  try {
    // A JSON patch `test` on the uid: never touch a same-named successor.
    return await client.patch(ref, obj.metadata.namespace, obj.metadata.name!, 'json', [
      { op: 'test', path: '/metadata/uid', value: obj.metadata.uid },
      { op: 'add', path: '/metadata/ownerReferences', value: refs },
    ]);
  } catch (err) {
    log?.debug('owner reference patch failed', { object: obj.metadata.name, error: (err as Error).message });
    return undefined;
  }
}
