/**
 * The PersistentVolume controller (pkg/controller/volume/persistentvolume: pv_controller_base.go's
 * wiring, pv_controller.go's policy): binds claims to volumes, statically and — through the claim's
 * provisioner — dynamically, keeps both sides' phases, and releases volumes whose claim is gone.
 * Two queues with one worker each, as upstream (a claim sync is not reentrant: two concurrent ones
 * could bind one volume twice), fed by the informers and a 15 s resync of everything.
 *
 *   PVC events ──────────────▶ claim queue ──▶ ClaimSync (claim-sync.ts)
 *   PV events ─▶ volume queue ──▶ VolumeSync (volume-sync.ts) ─▶ its claim ─┘
 *       └─ claims naming the PV, and pending claims of its class ──────────┘
 *   StorageClass events ─▶ pending claims of the class;  pods ─▶ their unbound claims (the waiting event)
 */
import type { KubeObject } from '../../apis/object.ts';
import { claimClass, volumeClass } from '../../apis/volumes/volume-match.ts';
import { R, type Client, type ResourceRef } from '../../client/client.ts';
import { runController, type RunningController } from '../../client/controller.ts';
import { isConflict } from '../../client/errors.ts';
import type { InformerHandlers, ObjectKey } from '../../client/controller-types.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { controllerEvents, type SharedEventRecorder } from '../controller-utils.ts';
import type { BinderContext } from './binder-writes.ts';
import { ClaimSync } from './claim-sync.ts';
import { LatestCache } from './latest-cache.ts';
import { VolumeSync } from './volume-sync.ts';

export const STORAGE_CLASSES: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };
/** Pods filed under `<namespace>/<claim>` for each PVC volume they have (common.PodPVCIndex). */
export const POD_PVC_INDEX = 'pod-pvc';
/** Claims by the volume they name. */
const VOLUME_NAME_INDEX = 'pvc-volume-name';
const COMPONENT = 'persistentvolume-controller';
/** pvClaimBinderSyncPeriod. */
const RESYNC_MS = 15_000;

/** The PVC keys (`ns/claim`) of a pod's volumes. */
export function podPvcIndex(pod: KubeObject): string[] {
  const ns = pod.metadata.namespace ?? 'default';
  return ((pod.spec?.volumes ?? []) as any[]).map((v) => v?.persistentVolumeClaim?.claimName).filter((n): n is string => typeof n === 'string' && !!n).map((n) => `${ns}/${n}`);
}

export class PersistentVolumeController {
  readonly name = 'persistentvolume-binder';
  readonly claimQueue = new RateLimitedQueue();
  readonly volumeQueue = new RateLimitedQueue();
  private readonly pvs: SharedInformer;
  private readonly pvcs: SharedInformer;
  private readonly classes: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly ctx: BinderContext;
  private readonly claimSync: ClaimSync;
  private readonly volumeSync: VolumeSync;

  constructor(client: Client, factory: InformerFactory, private readonly log?: Logger, opts: { recorder?: SharedEventRecorder; resyncMs?: number } = {}) {
    this.resyncMs = opts.resyncMs ?? RESYNC_MS;
    this.pvs = factory.forResource(R.persistentvolumes);
    this.pvcs = factory.forResource(R.persistentvolumeclaims);
    this.classes = factory.forResource(STORAGE_CLASSES);
    this.pods = factory.forResource(R.pods);
    this.pods.addIndex(POD_PVC_INDEX, podPvcIndex);
    this.pvcs.addIndex(VOLUME_NAME_INDEX, (c) => (c.spec?.volumeName ? [c.spec.volumeName] : []));
    this.ctx = {
      client, events: controllerEvents(client, COMPONENT, opts.recorder, log),
      volumes: new LatestCache(this.pvs), claims: new LatestCache(this.pvcs),
      storageClass: (name) => this.classes.get(name),
      storageClasses: () => this.classes.list(),
      podsUsingClaim: (ns, claim) => this.pods.byIndex(POD_PVC_INDEX, `${ns}/${claim}`).filter((p) => !p.metadata.deletionTimestamp),
      enqueueClaim: (key) => this.claimQueue.add(key),
    };
    this.claimSync = new ClaimSync(this.ctx);
    this.volumeSync = new VolumeSync(this.ctx);
    this.pvcs.addHandlers(this.claimHandlers());
    this.pvs.addHandlers(this.volumeHandlers());
    this.classes.addHandlers({ add: (sc) => this.enqueuePendingClaims((c) => claimClass(c) === sc.metadata.name || !c.spec?.storageClassName) });
    this.pods.addHandlers({
      // A consumer appearing or being scheduled changes what a WaitForFirstConsumer claim waits for.
      add: (p) => this.enqueueUnboundClaimsOf(p),
      update: (o, p) => { if (!!o.spec?.nodeName !== !!p.spec?.nodeName) this.enqueueUnboundClaimsOf(p); },
    });
  }

  private readonly resyncMs: number;

  run(workers = 1): RunningController {
    // One worker per queue whatever is asked: see the file comment.
    void workers;
    const claims = runController({ name: 'persistentvolume-claims', reconcile: (k) => this.syncClaimKey(k) }, this.claimQueue, { workers: 1, log: this.log });
    const volumes = runController({ name: 'persistentvolume-volumes', reconcile: (k) => this.syncVolumeKey(k) }, this.volumeQueue, { workers: 1, log: this.log });
    const timer = setInterval(() => this.resync(), this.resyncMs);
    timer.unref();
    return {
      async stop() {
        clearInterval(timer);
        await Promise.all([claims.stop(), volumes.stop()]);
      },
    };
  }

  async syncClaimKey(key: ObjectKey): Promise<void> {
    const claim = this.ctx.claims.get(key);
    if (!claim) return;
    await quietConflicts(() => this.claimSync.sync(claim), () => this.claimQueue.addRateLimited(key));
  }

  async syncVolumeKey(key: ObjectKey): Promise<void> {
    const volume = this.ctx.volumes.get(key);
    if (!volume) return;
    await quietConflicts(() => this.volumeSync.sync(volume), () => this.volumeQueue.addRateLimited(key));
  }

  private resync(): void {
    for (const c of this.pvcs.list()) this.claimQueue.add(keyOf(c));
    for (const v of this.pvs.list()) this.volumeQueue.add(v.metadata.name!);
  }

  private claimHandlers(): InformerHandlers {
    return {
      add: (c) => this.claimQueue.add(keyOf(c)),
      update: (_o, c) => this.claimQueue.add(keyOf(c)),
      delete: (c) => {
        this.ctx.claims.forget(keyOf(c));
        // Its volume is released now.
        if (c.spec?.volumeName) this.volumeQueue.add(c.spec.volumeName);
      },
    };
  }

  private volumeHandlers(): InformerHandlers {
    const changed = (v: KubeObject) => {
      this.volumeQueue.add(v.metadata.name!);
      // Claims that name it, and — when it is free — pending claims of its class it might serve.
      const ref = v.spec?.claimRef;
      if (ref?.name) this.claimQueue.add(`${ref.namespace}/${ref.name}`);
      for (const c of this.pvcs.byIndex(VOLUME_NAME_INDEX, v.metadata.name!)) this.claimQueue.add(keyOf(c));
      if (!ref && v.status?.phase === 'Available') this.enqueuePendingClaims((c) => claimClass(c) === volumeClass(v));
    };
    return {
      add: changed,
      update: (_o, v) => changed(v),
      delete: (v) => {
        this.ctx.volumes.forget(v.metadata.name!);
        const ref = v.spec?.claimRef;
        if (ref?.name) this.claimQueue.add(`${ref.namespace}/${ref.name}`);
      },
    };
  }

  private enqueuePendingClaims(match: (c: KubeObject) => boolean): void {
    for (const c of this.pvcs.list()) if (!c.spec?.volumeName && match(c)) this.claimQueue.add(keyOf(c));
  }

  private enqueueUnboundClaimsOf(pod: KubeObject): void {
    for (const key of podPvcIndex(pod)) {
      const c = this.pvcs.get(key);
      if (c && !c.spec?.volumeName) this.claimQueue.add(key);
    }
  }
}

/**
 * The claim and volume workers (and provisioners, the scheduler) write the same objects: a conflict
 * is the normal sign that someone was faster. Retried with back-off, without the failure log.
 */
async function quietConflicts(sync: () => Promise<void>, retry: () => void): Promise<void> {
  try {
    await sync();
  } catch (err) {
    if (!isConflict(err)) throw err;
    retry();
  }
}

function keyOf(o: KubeObject): ObjectKey {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}
