/**
 * Namespace lifecycle (pkg/controller/namespace): a deleted namespace is Terminating, held by the
 * `kubernetes` finalizer in spec.finalizers; this controller deletes everything in it and, once a
 * fresh listing finds nothing left, removes that finalizer (the `finalize` subresource), which lets
 * the namespace go.
 *
 * On the shared reconcile loop: namespace events queue the names of Terminating namespaces; deletes
 * of their contents (from the factory's informers over every resource, shared with the garbage
 * collector) queue them again at once, and a namespace with contents left — pods in their grace
 * period, objects held by finalizers — is looked at again after `recheckMs`, as Kubernetes requeues
 * with its estimate.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import { R, type Client, type ResourceRef } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { everyResource, refOf } from '../every-resource.ts';
import { CRDS } from '../crd/crd-controller.ts';
import { customKindOf } from '../crd/custom-kinds.ts';
import { NAMESPACE_FINALIZER, type FinalizeNamespace } from './namespace-finalize.ts';

/** Options for {@link NamespaceController}. */
export interface NamespaceControllerOptions {
  /** How soon a namespace with contents left is looked at again; default 1000 ms. */
  recheckMs?: number;
}

/** The namespace lifecycle reconciler; see the file comment. */
export class NamespaceController implements Reconciler {
  readonly name = 'namespace';
  readonly queue = new RateLimitedQueue();
  private readonly namespaces: SharedInformer;
  /** Every namespaced resource, Events included: a namespace goes only once all of it is gone. */
  private readonly contents: ResourceRef[];
  private readonly recheckMs: number;

  constructor(private readonly client: Client, factory: InformerFactory, resources: readonly ResourceInfo[], private readonly finalize: FinalizeNamespace, private readonly log?: Logger, opts: NamespaceControllerOptions = {}) {
    this.recheckMs = opts.recheckMs ?? 1000;
    this.contents = resources.filter((r) => r.namespaced).map(refOf);
    this.namespaces = factory.forResource(R.namespaces);
    this.namespaces.addHandlers(enqueueHandlers(this.queue, (ns) => (ns.metadata.deletionTimestamp ? ns.metadata.name : undefined)));
    const contentGone = { delete: (obj: KubeObject) => { if (this.terminating(obj.metadata.namespace)) this.queue.add(obj.metadata.namespace!); } };
    for (const info of everyResource(resources)) if (info.namespaced) factory.forResource(refOf(info)).addHandlers(contentGone);
  }

  /** Starts `workers` reconcile loops. */
  run(workers = 2): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(name: ObjectKey): Promise<void> {
    const ns = this.namespaces.get(name);
    if (!ns?.metadata.deletionTimestamp) return;
    const left = await this.deleteContents(name);
    if (left > 0) {
      this.queue.addAfter(name, this.recheckMs);
      return;
    }
    if (!(ns.spec?.finalizers ?? []).includes(NAMESPACE_FINALIZER)) return;
    await this.finalize(name);
    this.log?.info('namespace finalized', { namespace: name });
  }

  /**
   * Deletes what is in the namespace, listed from the API (a lagging cache must not let a namespace
   * go with objects in it); returns how many objects are still there afterwards.
   */
  private async deleteContents(namespace: string): Promise<number> {
    let left = 0;
    for (const ref of [...this.contents, ...await this.customContents()]) {
      const { items } = await this.client.list(ref, namespace);
      if (!items.length) continue;
      for (const obj of items) {
        // Pods are asked again: a shorter grace period than a user's earlier delete may apply.
        if (obj.metadata.deletionTimestamp && obj.kind !== 'Pod') continue;
        try {
          await this.client.delete(ref, namespace, obj.metadata.name!, { preconditions: { uid: obj.metadata.uid } });
        } catch (err) {
          if (!isNotFound(err)) this.log?.warn('namespace cleanup: delete failed', { namespace, resource: ref.resource, object: obj.metadata.name, error: (err as Error).message });
        }
      }
      // Most deletes complete at once; what waits (a grace period, a finalizer) is still listed.
      left += (await this.client.list(ref, namespace)).items.length;
    }
    return left;
  }

  /** Namespaced custom resources, their CRDs read from the API (as upstream re-reads discovery). */
  private async customContents(): Promise<ResourceRef[]> {
    const { items } = await this.client.list(CRDS, undefined);
    return items.map(customKindOf).filter((i): i is ResourceInfo => !!i && i.namespaced).map(refOf);
  }

  private terminating(namespace: string | undefined): boolean {
    return !!namespace && !!this.namespaces.get(namespace)?.metadata.deletionTimestamp;
  }
}
