/**
 * PVC protection (pkg/controller/volume/pvcprotection): every claim carries the
 * `kubernetes.io/pvc-protection` finalizer, so deleting a claim a pod still uses leaves it Terminating
 * until no scheduled, unfinished pod names it — the data is never pulled from under a running pod.
 * "Unused" is read from the pod cache and confirmed with a live list of the namespace's pods, as
 * upstream does, since a pod created a moment ago may not be in the cache yet.
 *
 *   PVC events ─▶ key ─┐
 *   pod deleted / finished / scheduled ─▶ its claims' keys ─┴▶ queue ─▶ reconcile: add or remove the finalizer
 */
import type { KubeObject } from '../../apis/object.ts';
import { PVC_PROTECTION_FINALIZER } from '../../apis/volumes/annotations.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { POD_PVC_INDEX, podPvcIndex } from '../persistentvolume/pv-controller.ts';

/** Whether `pod` keeps `claim` in use: scheduled (the agent may have it mounted) and not finished. */
export function podUsesClaim(pod: KubeObject, claimName: string): boolean {
  if (!pod.spec?.nodeName) return false;
  if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return false;
  return ((pod.spec?.volumes ?? []) as any[]).some((v) => v?.persistentVolumeClaim?.claimName === claimName);
}

export class PvcProtectionController implements Reconciler {
  readonly name = 'pvc-protection';
  readonly queue = new RateLimitedQueue();
  private readonly pvcs: SharedInformer;
  private readonly pods: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger) {
    this.pvcs = factory.forResource(R.persistentvolumeclaims);
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(POD_PVC_INDEX, podPvcIndex);
    this.pvcs.addHandlers(enqueueHandlers(this.queue));
    // A pod's end (deleted, finished) may free its claims; so may its binding (first use).
    this.pods.addHandlers({
      add: (p) => this.enqueueClaimsOf(p),
      update: (o, p) => { if (o.status?.phase !== p.status?.phase || o.spec?.nodeName !== p.spec?.nodeName) this.enqueueClaimsOf(p); },
      delete: (p) => this.enqueueClaimsOf(p),
    });
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const pvc = this.pvcs.get(key);
    if (!pvc) return;
    const finalizers = pvc.metadata.finalizers ?? [];
    const has = finalizers.includes(PVC_PROTECTION_FINALIZER);
    if (!pvc.metadata.deletionTimestamp) {
      if (!has) await this.setFinalizers(pvc, [...finalizers, PVC_PROTECTION_FINALIZER]);
      return;
    }
    if (!has || await this.inUse(pvc)) return;
    await this.setFinalizers(pvc, finalizers.filter((f) => f !== PVC_PROTECTION_FINALIZER));
    this.log?.debug('removed the protection finalizer of an unused claim', { pvc: key });
  }

  private async inUse(pvc: KubeObject): Promise<boolean> {
    const ns = pvc.metadata.namespace!;
    const name = pvc.metadata.name!;
    if (this.pods.byIndex(POD_PVC_INDEX, `${ns}/${name}`).some((p) => podUsesClaim(p, name))) return true;
    const { items } = await this.client.list(R.pods, ns);
    return items.some((p) => podUsesClaim(p, name));
  }

  private async setFinalizers(pvc: KubeObject, finalizers: string[]): Promise<void> {
    try {
      await this.client.update(R.persistentvolumeclaims, pvc.metadata.namespace, { ...pvc, metadata: { ...pvc.metadata, finalizers } });
    } catch (err) {
      // Gone, or changed since the cache saw it: the next event brings it back.
      if (!isNotFound(err) && !isConflict(err)) throw err;
      if (isConflict(err)) this.queue.addRateLimited(`${pvc.metadata.namespace}/${pvc.metadata.name}`);
    }
  }

  private enqueueClaimsOf(pod: KubeObject): void {
    for (const key of podPvcIndex(pod)) this.queue.add(key);
  }
}
