/**
 * Berth's local-path provisioner (in the manner of rancher's local-path-provisioner, run as a
 * controller of the control plane): the claims of StorageClasses whose provisioner is
 * `berth.dev/local-path` get a `local` PersistentVolume on the node their first pod was scheduled to
 * (provision-claim.ts), grow when their claim asks for more (expand-claim.ts), and are removed with
 * their directory when released under reclaim policy Delete (delete-volume.ts). The directory itself
 * is the node agent's: created when a pod first mounts the volume (agent/pod/local-path.ts), removed
 * by a helper pod the agent runs. Why this split: the node may read only the volumes its pods use
 * (Node authorizer) and may not create or delete PersistentVolumes (NodeRestriction's spirit: a node
 * touches its own objects only), so the API objects are made here, by the control plane, and only
 * the bytes on disk are the node's.
 *
 *   PVC events ─▶ claim queue ─▶ provisionClaim (unbound) | expandClaim (bound)
 *   PV events, helper pod events ─▶ volume queue ─▶ deleteVolume (released, Delete)
 *   StorageClass / Node events ─▶ the claims they may unblock
 */
import type { KubeObject } from '../../apis/object.ts';
import { ANN_LOCAL_PATH_DIR, ANN_PROVISIONED_BY, LOCAL_PATH_PROVISIONER } from '../../apis/volumes/annotations.ts';
import { claimClass } from '../../apis/volumes/volume-match.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey } from '../../client/controller-types.ts';
import type { InformerFactory, InformerScope } from '../../client/informer-factory.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { controllerEvents, type SharedEventRecorder } from '../controller-utils.ts';
import { STORAGE_CLASSES } from '../persistentvolume/pv-controller.ts';
import { HELPER_NAMESPACE, HELPER_VOLUME_LABEL, deleteVolume, removeFinishedHelper } from './delete-volume.ts';
import { expandClaim } from './expand-claim.ts';
import type { LocalPathContext } from './local-path-context.ts';
import { provisionClaim } from './provision-claim.ts';

/** The helper pods this provisioner runs (and only those). */
export const HELPER_POD_SCOPE: InformerScope = { namespace: HELPER_NAMESPACE, labelSelector: HELPER_VOLUME_LABEL };

export class LocalPathProvisioner {
  readonly name = 'local-path-provisioner';
  readonly claimQueue = new RateLimitedQueue();
  readonly volumeQueue = new RateLimitedQueue();
  private readonly ctx: LocalPathContext;

  constructor(client: Client, factory: InformerFactory, private readonly log?: Logger, opts: { recorder?: SharedEventRecorder } = {}) {
    this.ctx = {
      client,
      // The component upstream's external provisioners record as: the provisioner's name.
      events: controllerEvents(client, LOCAL_PATH_PROVISIONER, opts.recorder, log),
      claims: factory.forResource(R.persistentvolumeclaims),
      volumes: factory.forResource(R.persistentvolumes),
      nodes: factory.forResource(R.nodes),
      classes: factory.forResource(STORAGE_CLASSES),
      helperPods: factory.forResource(R.pods, HELPER_POD_SCOPE),
    };
    const { claims, volumes, nodes, classes, helperPods } = this.ctx;
    claims.addHandlers(enqueueHandlers(this.claimQueue, (c) => (this.isOurs(c) ? keyOf(c) : undefined)));
    volumes.addHandlers(enqueueHandlers(this.volumeQueue, (v) => {
      if (v.metadata.annotations?.[ANN_PROVISIONED_BY] !== LOCAL_PATH_PROVISIONER) return undefined;
      // A volume's growth or binding concerns its claim too.
      const ref = v.spec?.claimRef;
      if (ref?.name) this.claimQueue.add(`${ref.namespace}/${ref.name}`);
      return v.metadata.name!;
    }));
    helperPods.addHandlers(enqueueHandlers(this.volumeQueue, (p) => p.metadata.labels?.[HELPER_VOLUME_LABEL]));
    // A class appearing (or a node announcing its directory) may unblock waiting claims.
    const pending = () => { for (const c of claims.list()) if (!c.spec?.volumeName && this.isOurs(c)) this.claimQueue.add(keyOf(c)); };
    classes.addHandlers({ add: pending, update: pending });
    const dirOf = (n: KubeObject) => n.metadata.annotations?.[ANN_LOCAL_PATH_DIR];
    nodes.addHandlers({ add: pending, update: (o, n) => { if (dirOf(o) !== dirOf(n)) pending(); } });
  }

  run(workers = 1): RunningController {
    const claims = runController({ name: 'local-path-claims', reconcile: (k) => this.syncClaim(k) }, this.claimQueue, { workers, log: this.log });
    const volumes = runController({ name: 'local-path-volumes', reconcile: (k) => this.syncVolume(k) }, this.volumeQueue, { workers, log: this.log });
    return { async stop() { await Promise.all([claims.stop(), volumes.stop()]); } };
  }

  async syncClaim(key: ObjectKey): Promise<void> {
    const claim = this.ctx.claims.get(key);
    if (!claim) return;
    const sc = this.classOf(claim);
    if (!claim.spec?.volumeName) {
      if (sc?.provisioner === LOCAL_PATH_PROVISIONER) await provisionClaim(this.ctx, claim, sc);
      return;
    }
    const pv = this.ctx.volumes.get(claim.spec.volumeName);
    if (pv?.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER) await expandClaim(this.ctx, claim, pv, sc);
  }

  async syncVolume(name: ObjectKey): Promise<void> {
    const pv = this.ctx.volumes.get(name);
    if (pv) await deleteVolume(this.ctx, pv);
    else await removeFinishedHelper(this.ctx, name);
  }

  private classOf(claim: KubeObject): KubeObject | undefined {
    const name = claimClass(claim);
    return name ? this.ctx.classes.get(name) : undefined;
  }

  /** Claims of a local-path class (by name, or for bound claims by their volume). */
  private isOurs(claim: KubeObject): boolean {
    if (this.classOf(claim)?.provisioner === LOCAL_PATH_PROVISIONER) return true;
    const pv = claim.spec?.volumeName ? this.ctx.volumes.get(claim.spec.volumeName) : undefined;
    return pv?.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER;
  }
}

function keyOf(o: KubeObject): ObjectKey {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}
