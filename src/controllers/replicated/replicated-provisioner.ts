/**
 * Berth's replicated-volume provisioner (external-provisioner + the engine's controller side, as
 * heketi served Kubernetes' glusterfs class): the claims of StorageClasses whose provisioner is
 * `berth.dev/replicated` get a PV with a replica on each of three distinct storage nodes
 * (provision-claim.ts); the PV's health and end are followed in volume-lifecycle.ts. Why the engine
 * work is not here: the gluster CLI must talk to a glusterd on its own machine, and the control plane
 * need not run on a storage node — so the storage nodes' agents act on the PV (agent/storage/), and
 * this controller only decides and records.
 *
 *   PVC events ─▶ claim queue ─▶ provisionClaim (unbound claims of a replicated class)
 *   PV events ─▶ volume queue ─▶ syncHealth (events, status message) · syncDeletion (released, Delete)
 *                                · rebuild-replica.ts (a replica whose node is lost moves to a spare storage node)
 *   Node / StorageClass events ─▶ the claims still waiting for storage nodes
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_PROVISIONED_BY } from '../../apis/volumes/annotations.ts';
import { REPLICATED_PROVISIONER, STORAGE_NODE_LABEL } from '../../apis/volumes/replicated.ts';
import { claimClass } from '../../apis/volumes/volume-match.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey } from '../../client/controller-types.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { controllerEvents, type SharedEventRecorder } from '../controller-utils.ts';
import { STORAGE_CLASSES } from '../persistentvolume/pv-controller.ts';
import { glusterEngine } from './gluster-engine.ts';
import { unfitReason } from './placement.ts';
import { provisionClaim } from './provision-claim.ts';
import { planRebuild, REBUILD_AFTER_MS, startRebuild } from './rebuild-replica.ts';
import type { ReplicatedContext } from './replicated-context.ts';
import type { VolumeEngine } from './volume-engine.ts';
import { syncDeletion, syncHealth } from './volume-lifecycle.ts';

export class ReplicatedProvisioner {
  readonly name = 'replicated-provisioner';
  readonly claimQueue = new RateLimitedQueue();
  readonly volumeQueue = new RateLimitedQueue();
  private readonly ctx: ReplicatedContext;
  private readonly rebuildAfterMs: number;

  constructor(client: Client, factory: InformerFactory, private readonly log?: Logger, opts: { recorder?: SharedEventRecorder; engine?: VolumeEngine; rebuildAfterMs?: number } = {}) {
    this.rebuildAfterMs = opts.rebuildAfterMs ?? REBUILD_AFTER_MS;
    this.ctx = {
      client,
      engine: opts.engine ?? glusterEngine,
      events: controllerEvents(client, REPLICATED_PROVISIONER, opts.recorder, log),
      claims: factory.forResource(R.persistentvolumeclaims),
      volumes: factory.forResource(R.persistentvolumes),
      nodes: factory.forResource(R.nodes),
      classes: factory.forResource(STORAGE_CLASSES),
    };
    const { claims, volumes, nodes, classes } = this.ctx;
    claims.addHandlers(enqueueHandlers(this.claimQueue, (c) => (!c.spec?.volumeName && this.isOurs(c) ? keyOf(c) : undefined)));
    volumes.addHandlers(enqueueHandlers(this.volumeQueue, (v) => (v.metadata.annotations?.[ANN_PROVISIONED_BY] === REPLICATED_PROVISIONER ? v.metadata.name! : undefined)));
    const pending = () => { for (const c of claims.list()) if (!c.spec?.volumeName && this.isOurs(c)) this.claimQueue.add(keyOf(c)); };
    classes.addHandlers({ add: pending, update: pending });
    // A storage node becoming usable (or not) may unblock waiting claims and released volumes.
    const relevant = (n: KubeObject) => `${n.metadata.labels?.[STORAGE_NODE_LABEL]}|${unfitReason(n)}`;
    // Released volumes may finish deleting; bound ones may need a replica rebuilt.
    const released = () => { for (const v of volumes.list()) if (v.metadata.annotations?.[ANN_PROVISIONED_BY] === REPLICATED_PROVISIONER) this.volumeQueue.add(v.metadata.name!); };
    nodes.addHandlers({
      add: pending,
      update: (o, n) => { if (relevant(o) !== relevant(n)) { pending(); released(); } },
      delete: released,
    });
  }

  run(workers = 1): RunningController {
    const claims = runController({ name: 'replicated-claims', reconcile: (k) => this.syncClaim(k) }, this.claimQueue, { workers, log: this.log });
    const volumes = runController({ name: 'replicated-volumes', reconcile: (k) => this.syncVolume(k) }, this.volumeQueue, { workers, log: this.log });
    return { async stop() { await Promise.all([claims.stop(), volumes.stop()]); } };
  }

  async syncClaim(key: ObjectKey): Promise<void> {
    const claim = this.ctx.claims.get(key);
    if (!claim || claim.spec?.volumeName) return;
    const sc = this.classOf(claim);
    if (sc?.provisioner === REPLICATED_PROVISIONER) await provisionClaim(this.ctx, claim, sc);
  }

  async syncVolume(name: ObjectKey): Promise<void> {
    const pv = this.ctx.volumes.get(name);
    if (!pv) return;
    await syncHealth(this.ctx, pv);
    await syncDeletion(this.ctx, pv);
    const plan = planRebuild(this.ctx, pv, this.rebuildAfterMs);
    if (plan && 'retryInMs' in plan) this.volumeQueue.addAfter(name, plan.retryInMs + 100);
    else if (plan) await startRebuild(this.ctx, pv, plan.from, plan.to);
  }

  private classOf(claim: KubeObject): KubeObject | undefined {
    const name = claimClass(claim);
    return name ? this.ctx.classes.get(name) : undefined;
  }

  private isOurs(claim: KubeObject): boolean {
    return this.classOf(claim)?.provisioner === REPLICATED_PROVISIONER;
  }
}

function keyOf(o: KubeObject): ObjectKey {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}
