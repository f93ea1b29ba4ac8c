/**
 * PV protection (pkg/controller/volume/pvprotection): every volume carries the
 * `kubernetes.io/pv-protection` finalizer, so deleting a volume that is still Bound leaves it
 * Terminating until its claim lets go — an administrator cannot pull storage from under a claim.
 */
import type { KubeObject } from '../../apis/object.ts';
import { PV_PROTECTION_FINALIZER } from '../../apis/volumes/annotations.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isConflict, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';

export class PvProtectionController implements Reconciler {
  readonly name = 'pv-protection';
  readonly queue = new RateLimitedQueue();
  private readonly pvs: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger) {
    this.pvs = factory.forResource(R.persistentvolumes);
    this.pvs.addHandlers(enqueueHandlers(this.queue));
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const pv = this.pvs.get(key);
    if (!pv) return;
    const finalizers = pv.metadata.finalizers ?? [];
    const has = finalizers.includes(PV_PROTECTION_FINALIZER);
    if (!pv.metadata.deletionTimestamp) {
      if (!has) await this.setFinalizers(pv, [...finalizers, PV_PROTECTION_FINALIZER]);
      return;
    }
    // A Bound volume is in use; its phase changes when its claim goes (the PV controller releases it).
    if (!has || pv.status?.phase === 'Bound') return;
    await this.setFinalizers(pv, finalizers.filter((f) => f !== PV_PROTECTION_FINALIZER));
  }

  private async setFinalizers(pv: KubeObject, finalizers: string[]): Promise<void> {
    try {
      await this.client.update(R.persistentvolumes, undefined, { ...pv, metadata: { ...pv.metadata, finalizers } });
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err)) throw err;
      this.queue.addRateLimited(pv.metadata.name!);
    }
  }
}
