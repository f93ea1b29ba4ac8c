/**
 * Garbage collection by ownerReferences (pkg/controller/garbagecollector), on the shared reconcile
 * loop: one informer per resource (shared through the factory, with an owner-uid index) feeds one
 * rate-limited queue of object keys, and `reconcile(key)` looks at the object in two roles:
 *  - as an owner being deleted: `orphan` — its references are removed from every dependent, then the
 *    finalizer; `foregroundDeletion` — its dependents are queued (and so deleted), and once no
 *    dependent with `blockOwnerDeletion` is left, the finalizer goes and the owner with it;
 *  - as a dependent: its owners are looked up (cache, then the API before calling one gone) and
 *    owner-policy.ts decides — keep, drop references, or delete it (background when all owners are
 *    gone, foreground under an owner that waits).
 *
 *   informers (every resource) ─handlers─▶ keys `group|resource|ns/name` ─▶ RateLimitedQueue ─▶ reconcile ─▶ Client
 */
import type { KubeObject, OwnerReference } from '../../apis/object.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import type { Client, ResourceRef } from '../../client/client.ts';
import { runController, type RunningController } from '../../client/controller.ts';
import { keyOf, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import { FINALIZER_FOREGROUND, FINALIZER_ORPHAN } from '../../registry/finalizers.ts';
import type { Logger } from '../../util/log.ts';
import { everyResource, refOf } from '../every-resource.ts';
import { CRDS } from '../crd/crd-controller.ts';
import { customKindOf } from '../crd/custom-kinds.ts';
import { deleteDependent, removeFinalizer, removeOwnerReferences } from './operations.ts';
import { blockingDependents, decideForDependent, deletingWith, ownerUids, type OwnerState } from './owner-policy.ts';

/** The informer index filing objects by the uids of their owners. */
export const OWNER_UID_INDEX = 'ownerUID';

/** One resource the collector knows: how to address it, and its informer (none for ignored kinds). */
interface Kind {
  info: ResourceInfo;
  ref: ResourceRef;
  informer?: SharedInformer;
}

/** The garbage collector; see the file comment. */
export class GarbageCollector implements Reconciler {
  readonly name = 'garbage-collector';
  readonly queue = new RateLimitedQueue();
  /** By `group|plural`. */
  private readonly byResource = new Map<string, Kind>();
  /** By `group|Kind`: owner references name a kind, not a resource. */
  private readonly byKind = new Map<string, Kind>();

  constructor(private readonly client: Client, private readonly factory: InformerFactory, resources: readonly ResourceInfo[], private readonly log?: Logger) {
    for (const info of resources) {
      const kind: Kind = { info, ref: refOf(info) };
      this.byResource.set(`${info.group}|${info.plural}`, kind);
      // Two resources of one kind (core and events.k8s.io Events) share the first.
      if (!this.byKind.has(`${info.group}|${info.kind}`)) this.byKind.set(`${info.group}|${info.kind}`, kind);
    }
    for (const info of everyResource(resources)) this.watch(this.byResource.get(`${info.group}|${info.plural}`)!);
    // Custom resources join as their CRDs are Established (upstream re-reads discovery for the same).
    const crds = this.byResource.get(`${CRDS.group}|${CRDS.resource}`)?.informer;
    const addCustom = (crd: KubeObject) => {
      const info = customKindOf(crd);
      if (!info || this.byResource.has(`${info.group}|${info.plural}`)) return;
      const kind: Kind = { info, ref: refOf(info) };
      this.byResource.set(`${info.group}|${info.plural}`, kind);
      this.byKind.set(`${info.group}|${info.kind}`, kind);
      this.watch(kind);
    };
    crds?.addHandlers({ add: addCustom, update: (_old, crd) => addCustom(crd) });
  }

  /** The informer of one kind, with the owner index and the handlers that queue GC work. */
  private watch(kind: Kind): void {
      kind.informer = this.factory.forResource(kind.ref);
      kind.informer.addIndex(OWNER_UID_INDEX, ownerUids);
      kind.informer.addHandlers({
        add: (obj) => { if (hasGcWork(obj)) this.enqueue(kind, obj); },
        update: (old, obj) => {
          if (old === obj) return;
          const refsChanged = !sameRefs(old.metadata.ownerReferences, obj.metadata.ownerReferences);
          if (refsChanged || old.metadata.deletionTimestamp !== obj.metadata.deletionTimestamp || !sameList(old.metadata.finalizers, obj.metadata.finalizers)) {
            if (hasGcWork(obj)) this.enqueue(kind, obj);
          }
          // An owner that lost this dependent may be waiting for exactly that.
          if (refsChanged) {
            const now = new Set(ownerUids(obj));
            this.enqueueOwners(obj, (old.metadata.ownerReferences ?? []).filter((r) => !now.has(r.uid)));
          }
        },
        delete: (obj) => {
          // Its dependents may now be garbage; a foreground-deleting owner may have been waiting for it.
          for (const d of this.dependentsOf(obj.metadata.uid!)) this.enqueue(d.kind, d.obj);
          this.enqueueOwners(obj, obj.metadata.ownerReferences ?? []);
        },
      });
  }

  /** Starts `workers` reconcile loops. */
  run(workers = 4): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const at = key.indexOf('|', key.indexOf('|') + 1);
    const kind = this.byResource.get(key.slice(0, at));
    const obj = kind?.informer?.get(key.slice(at + 1));
    // Gone: the delete handler has queued its dependents.
    if (!kind || !obj) return;
    if (deletingWith(obj, FINALIZER_ORPHAN)) return this.orphanDependents(kind, obj);
    if (deletingWith(obj, FINALIZER_FOREGROUND)) return this.deleteDependentsFirst(kind, obj);
    // Being deleted anyway: nothing to decide for it as a dependent.
    if (obj.metadata.deletionTimestamp || !obj.metadata.ownerReferences?.length) return;
    await this.collectIfOwnersGone(kind, obj);
  }

  /** Owner role, `orphan`: dependents lose their reference to it, then it loses the finalizer. */
  private async orphanDependents(kind: Kind, owner: KubeObject): Promise<void> {
    const uid = owner.metadata.uid!;
    for (const d of this.dependentsOf(uid)) await removeOwnerReferences(this.client, d.kind.ref, d.obj, [uid]);
    await removeFinalizer(this.client, kind.ref, owner, FINALIZER_ORPHAN);
  }

  /** Owner role, `foregroundDeletion`: dependents go first; the owner once none blocks it. */
  private async deleteDependentsFirst(kind: Kind, owner: KubeObject): Promise<void> {
    const deps = this.dependentsOf(owner.metadata.uid!);
    // Each dependent decides in its own reconcile (another owner may keep it: then only the reference goes).
    for (const d of deps) if (!d.obj.metadata.deletionTimestamp) this.enqueue(d.kind, d.obj);
    if (blockingDependents(owner.metadata.uid!, deps.map((d) => d.obj)).length) return; // their delete events bring it back
    await removeFinalizer(this.client, kind.ref, owner, FINALIZER_FOREGROUND);
    this.log?.debug('foreground deletion finished', { object: `${kind.info.plural}/${keyOf(owner)}` });
  }

  /** Dependent role: delete it, or drop references, when its owners are gone or waiting for it. */
  private async collectIfOwnersGone(kind: Kind, obj: KubeObject): Promise<void> {
    const owners: { uid: string; state: OwnerState }[] = [];
    for (const ref of obj.metadata.ownerReferences!) owners.push({ uid: ref.uid, state: await this.ownerState(ref, obj) });
    const decision = decideForDependent(owners, { finalizers: obj.metadata.finalizers, hasDependents: this.dependentsOf(obj.metadata.uid!).length > 0 });
    if (decision.action === 'keep') return;
    const what = `${kind.info.plural}/${keyOf(obj)}`;
    if (decision.action === 'remove-references') {
      this.log?.debug('removing references to gone owners', { object: what, owners: decision.uids });
      await removeOwnerReferences(this.client, kind.ref, obj, decision.uids);
      return;
    }
    this.log?.debug('deleting an object whose owners are gone', { object: what, propagationPolicy: decision.propagationPolicy });
    await deleteDependent(this.client, kind.ref, obj, decision.propagationPolicy);
  }

  /**
   * What became of the owner `ref` of `dependent`. The cache answers when it has the owner; an owner
   * it lacks is asked of the API, since a lagging cache must never get a live owner's dependents
   * deleted. An owner that cannot be looked up (a kind not served, or a namespaced owner of a
   * cluster-scoped object, which Kubernetes treats as unresolvable) counts as present.
   */
  private async ownerState(ref: OwnerReference, dependent: KubeObject): Promise<OwnerState> {
    const slash = ref.apiVersion.indexOf('/');
    const kind = this.byKind.get(`${slash < 0 ? '' : ref.apiVersion.slice(0, slash)}|${ref.kind}`);
    const dependentNs = dependent.metadata.namespace;
    if (!kind || (kind.info.namespaced && !dependentNs)) return 'solid';
    const ns = kind.info.namespaced ? dependentNs : undefined;
    let owner = kind.informer?.get(ns ? `${ns}/${ref.name}` : ref.name);
    if (owner?.metadata.uid !== ref.uid) {
      try {
        owner = await this.client.get(kind.ref, ns, ref.name);
      } catch (err) {
        if (isNotFound(err)) return 'dangling';
        throw err;
      }
      if (owner.metadata.uid !== ref.uid) return 'dangling';
    }
    return deletingWith(owner, FINALIZER_FOREGROUND) ? 'waiting' : 'solid';
  }

  /** Cached objects whose ownerReferences name `uid`, across every resource. */
  private dependentsOf(uid: string): { kind: Kind; obj: KubeObject }[] {
    const out: { kind: Kind; obj: KubeObject }[] = [];
    for (const kind of this.byResource.values()) for (const obj of kind.informer?.byIndex(OWNER_UID_INDEX, uid) ?? []) out.push({ kind, obj });
    return out;
  }

  private enqueue(kind: Kind, obj: KubeObject): void {
    this.queue.add(`${kind.info.group}|${kind.info.plural}|${keyOf(obj)}`);
  }

  /** Queues the owners `refs` of `obj` that the collector can address. */
  private enqueueOwners(obj: KubeObject, refs: readonly OwnerReference[]): void {
    for (const ref of refs) {
      const slash = ref.apiVersion.indexOf('/');
      const kind = this.byKind.get(`${slash < 0 ? '' : ref.apiVersion.slice(0, slash)}|${ref.kind}`);
      if (!kind?.informer) continue;
      const ns = kind.info.namespaced ? obj.metadata.namespace : undefined;
      if (kind.info.namespaced && !ns) continue;
      this.queue.add(`${kind.info.group}|${kind.info.plural}|${ns ? `${ns}/${ref.name}` : ref.name}`);
    }
  }
}

/** Something for the collector: owners to check, or an orphan/foreground deletion to finish. */
function hasGcWork(obj: KubeObject): boolean {
  return !!obj.metadata.ownerReferences?.length || deletingWith(obj, FINALIZER_ORPHAN) || deletingWith(obj, FINALIZER_FOREGROUND);
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  return (a ?? []).join('\0') === (b ?? []).join('\0');
}

function sameRefs(a: readonly OwnerReference[] | undefined, b: readonly OwnerReference[] | undefined): boolean {
  return JSON.stringify(a ?? []) === JSON.stringify(b ?? []);
}
