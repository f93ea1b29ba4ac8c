/**
 * One Deployment sync (pkg/controller/deployment: sync.go, rolling.go, recreate.go): find or create
 * the new ReplicaSet and keep revisions, scale ReplicaSets for a rolling update, a recreate, or a
 * plain scale (proportional, simplified), clean up old history, and write the status.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { Client } from '../../client/client.ts';
import { isAlreadyExists } from '../../client/errors.ts';
import type { SharedInformer } from '../../client/informer.ts';
import type { Logger } from '../../util/log.ts';
import { APPS, CONTROLLER_UID_INDEX, newControllerRef, type ControllerEvents } from '../controller-utils.ts';
import {
  DESIRED_REPLICAS, MAX_REPLICAS, REVISION, copiedAnnotations, fenceposts, isComplete, isSaturated,
  maxUnavailable, newRSNewReplicas, revisionOf, specReplicas, sumSpec, sumStatus,
} from './deployment-util.ts';
import { POD_TEMPLATE_HASH, canonicalJson, templateHash, templatesEqualIgnoringHash } from './template-hash.ts';
import { REASONS, getCondition, hasTimedOut, newCondition, rolloutStatus, type DeploymentCondition } from './deployment-status.ts';

/** What a sync needs from the controller. */
export interface SyncDeps {
  client: Client;
  rsInformer: SharedInformer;
  podInformer: SharedInformer;
  log?: Logger;
  /** The Deployment controller's events (ScalingReplicaSet). */
  events: ControllerEvents;
  /** Asks for another sync after a delay (progress deadline checks). */
  requeueAfter(ms: number): void;
}

const byCreation = (a: KubeObject, b: KubeObject) =>
  (Date.parse(a.metadata.creationTimestamp ?? '') || 0) - (Date.parse(b.metadata.creationTimestamp ?? '') || 0)
  || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

/** The state of one sync of one Deployment; see the file comment. */
export class DeploymentSync {
  /** A Progressing condition decided along the way, applied with the status. */
  private pending?: DeploymentCondition;
  private newRS?: KubeObject;
  private oldRSs: KubeObject[] = [];

  constructor(private readonly deps: SyncDeps, private readonly d: KubeObject, private rsList: KubeObject[]) {}

  private get allRSs(): KubeObject[] {
    return this.newRS ? [this.newRS, ...this.oldRSs] : [...this.oldRSs];
  }

  /** Runs the sync the Deployment's state calls for. */
  async run(): Promise<void> {
    const d = this.d;
    if (d.metadata.deletionTimestamp) {
      this.splitNewAndOld();
      return this.writeStatus();
    }
    this.checkPaused();
    this.splitNewAndOld();
    if (d.spec?.paused || this.isScalingEvent()) return this.scaleOnly();
    if (d.spec?.strategy?.type === 'Recreate') return this.rolloutRecreate();
    return this.rolloutRolling();
  }

  /** checkPausedConditions: Progressing Unknown while paused, "resumed" once unpaused. */
  private checkPaused(): void {
    if (typeof this.d.spec?.progressDeadlineSeconds !== 'number') return;
    const c = getCondition(this.d.status, 'Progressing');
    if (this.d.spec?.paused && c?.reason !== REASONS.paused) {
      this.pending = newCondition('Progressing', 'Unknown', REASONS.paused, 'Deployment is paused');
    } else if (!this.d.spec?.paused && c?.reason === REASONS.paused) {
      this.pending = newCondition('Progressing', 'Unknown', REASONS.resumed, 'Deployment is resumed');
    }
  }

  /** FindNewReplicaSet (oldest with an equal template) and the rest. */
  private splitNewAndOld(): void {
    const sorted = [...this.rsList].sort(byCreation);
    this.newRS = sorted.find((rs) => templatesEqualIgnoringHash(rs.spec?.template, this.d.spec?.template));
    this.oldRSs = sorted.filter((rs) => rs !== this.newRS);
  }

  /** isScalingEvent: an active ReplicaSet was sized for a different spec.replicas. */
  private isScalingEvent(): boolean {
    return this.allRSs.some((rs) => specReplicas(rs) > 0 && rs.metadata.annotations?.[DESIRED_REPLICAS] !== undefined
      && Number(rs.metadata.annotations[DESIRED_REPLICAS]) !== specReplicas(this.d));
  }

  /**
   * getNewReplicaSet: an existing new RS gets the next revision if it was an old one (rollout undo),
   * the Deployment's annotations and minReadySeconds; otherwise, with `create`, a new RS is made.
   */
  private async syncNewRS(create: boolean): Promise<void> {
    const d = this.d;
    const newRevision = Math.max(0, ...this.oldRSs.map(revisionOf)) + 1;
    const rs = this.newRS;
    if (rs) {
      const next = structuredClone(rs);
      const ann = (next.metadata.annotations ??= {});
      let changed = false;
      for (const [k, v] of Object.entries(copiedAnnotations(d))) if (ann[k] !== v) { ann[k] = v; changed = true; }
      if (revisionOf(rs) < newRevision) { ann[REVISION] = String(newRevision); changed = true; }
      if ((rs.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0)) { next.spec.minReadySeconds = d.spec?.minReadySeconds ?? 0; changed = true; }
      if (changed) this.newRS = await this.deps.client.update(APPS.replicasets, d.metadata.namespace, next);
      await this.setDeploymentRevision(revisionOf(this.newRS));
      if (!getCondition(d.status, 'Progressing')) {
        this.pending ??= newCondition('Progressing', 'True', REASONS.foundNewRS, `Found new replica set "${rs.metadata.name}"`);
      }
      return;
    }
    if (!create) return;
    const collisionCount: number = d.status?.collisionCount ?? 0;
    const hash = templateHash(d.spec?.template, collisionCount);
    const template = structuredClone(d.spec?.template ?? {});
    template.metadata ??= {};
    template.metadata.labels = { ...(template.metadata.labels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const selector = structuredClone(d.spec.selector);
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH]: hash };
    const [surge] = fenceposts(d);
    const fresh: KubeObject = {
      apiVersion: 'apps/v1', kind: 'ReplicaSet',
      metadata: {
        name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, labels: template.metadata.labels,
        annotations: {
          ...copiedAnnotations(d), [REVISION]: String(newRevision),
          [DESIRED_REPLICAS]: String(specReplicas(d)), [MAX_REPLICAS]: String(specReplicas(d) + surge),
        },
        ownerReferences: [newControllerRef(d, 'apps/v1', 'Deployment')],
      },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    fresh.spec.replicas = newRSNewReplicas(d, [...this.oldRSs, fresh], fresh);
    try {
      this.newRS = await this.deps.client.create(APPS.replicasets, d.metadata.namespace, fresh);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.deps.client.get(APPS.replicasets, d.metadata.namespace, fresh.metadata.name!);
      const ours = existing.metadata.ownerReferences?.some((r) => r.controller && r.uid === d.metadata.uid);
      if (ours && templatesEqualIgnoringHash(existing.spec?.template, d.spec?.template)) {
        this.newRS = existing; // our informer had not seen it yet
        return;
      }
      // A hash collision: bump collisionCount so the next attempt hashes differently.
      await this.deps.client.patch(APPS.deployments, d.metadata.namespace, d.metadata.name!, 'merge', { status: { collisionCount: collisionCount + 1 } }, 'status');
      throw new Error(`replica set ${fresh.metadata.name} exists with another template; collisionCount now ${collisionCount + 1}`);
    }
    if (specReplicas(this.newRS) > 0) {
      void this.deps.events.event(d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${this.newRS.metadata.name} from 0 to ${specReplicas(this.newRS)}`);
    }
    this.pending = newCondition('Progressing', 'True', REASONS.newRSCreated, `Created new replica set "${this.newRS.metadata.name}"`);
    await this.setDeploymentRevision(newRevision);
  }

  /** Mirrors the new RS's revision on the Deployment's annotations, as Kubernetes does. */
  private async setDeploymentRevision(rev: number): Promise<void> {
    if (revisionOf(this.d) === rev) return;
    await this.deps.client.patch(APPS.deployments, this.d.metadata.namespace, this.d.metadata.name!, 'merge', { metadata: { annotations: { [REVISION]: String(rev) } } });
  }

  /** Sets an RS's size and its desired/max annotations; records ScalingReplicaSet. */
  private async scaleRS(rs: KubeObject, size: number): Promise<KubeObject> {
    const d = this.d;
    const [surge] = fenceposts(d);
    const desired = String(specReplicas(d));
    const max = String(specReplicas(d) + surge);
    const from = specReplicas(rs);
    const ann = rs.metadata.annotations ?? {};
    if (from === size && ann[DESIRED_REPLICAS] === desired && ann[MAX_REPLICAS] === max) return rs;
    const next = structuredClone(rs);
    next.spec.replicas = size;
    next.metadata.annotations = { ...ann, [DESIRED_REPLICAS]: desired, [MAX_REPLICAS]: max };
    const updated = await this.deps.client.update(APPS.replicasets, d.metadata.namespace, next);
    if (from !== size) {
      void this.deps.events.event(d, 'Normal', 'ScalingReplicaSet',
        `Scaled ${size > from ? 'up' : 'down'} replica set ${rs.metadata.name} from ${from} to ${size}`);
    }
    if (rs === this.newRS) this.newRS = updated;
    else this.oldRSs = this.oldRSs.map((o) => (o === rs ? updated : o));
    return updated;
  }

  /** rolloutRolling: grow the new RS within maxSurge, shrink old ones within maxUnavailable. */
  private async rolloutRolling(): Promise<void> {
    await this.syncNewRS(true);
    const d = this.d;
    const newRS = this.newRS!;
    // reconcileNewReplicaSet
    if (specReplicas(newRS) !== specReplicas(d)) {
      const target = specReplicas(newRS) > specReplicas(d) ? specReplicas(d) : newRSNewReplicas(d, this.allRSs, newRS);
      if (target !== specReplicas(newRS)) {
        await this.scaleRS(newRS, target);
        return this.writeStatus();
      }
    }
    if (await this.reconcileOldRSs()) return this.writeStatus();
    if (isComplete(d, rolloutStatus(d, this.allRSs, this.newRS))) await this.cleanup();
    return this.writeStatus();
  }

  /** reconcileOldReplicaSets: scale old RSs down, unhealthy pods first, keeping minimum availability. */
  private async reconcileOldRSs(): Promise<boolean> {
    const d = this.d;
    const old = this.oldRSs.filter((rs) => specReplicas(rs) > 0);
    if (!old.length) return false;
    const minAvailable = specReplicas(d) - maxUnavailable(d);
    const newRS = this.newRS!;
    const newUnavailable = specReplicas(newRS) - (newRS.status?.availableReplicas ?? 0);
    let budget = sumSpec(this.allRSs) - minAvailable - newUnavailable;
    if (budget <= 0) return false;
    let scaled = false;
    // cleanupUnhealthyReplicas: replicas that are not available cost no availability.
    for (const rs of [...old].sort(byCreation)) {
      if (budget <= 0) break;
      const unhealthy = specReplicas(rs) - (rs.status?.availableReplicas ?? 0);
      const cut = Math.min(budget, Math.max(0, unhealthy));
      if (cut > 0) {
        await this.scaleRS(rs, specReplicas(rs) - cut);
        budget -= cut;
        scaled = true;
      }
    }
    // scaleDownOldReplicaSetsForRollingUpdate: then available ones, oldest first, down to minAvailable.
    let excess = sumStatus(this.allRSs, 'availableReplicas') - minAvailable;
    for (const rs of [...this.oldRSs].sort(byCreation)) {
      if (excess <= 0) break;
      if (specReplicas(rs) === 0) continue;
      const cut = Math.min(specReplicas(rs), excess);
      await this.scaleRS(rs, specReplicas(rs) - cut);
      excess -= cut;
      scaled = true;
    }
    return scaled;
  }

  /** rolloutRecreate: old RSs to 0, wait until their pods are gone, then the new RS to full size. */
  private async rolloutRecreate(): Promise<void> {
    let scaled = false;
    for (const rs of this.oldRSs) if (specReplicas(rs) > 0) { await this.scaleRS(rs, 0); scaled = true; }
    if (scaled || this.oldPodsRunning()) {
      await this.syncNewRS(false);
      return this.writeStatus();
    }
    await this.syncNewRS(true);
    await this.scaleRS(this.newRS!, specReplicas(this.d));
    if (isComplete(this.d, rolloutStatus(this.d, this.allRSs, this.newRS))) await this.cleanup();
    return this.writeStatus();
  }

  private oldPodsRunning(): boolean {
    if (this.oldRSs.some((rs) => (rs.status?.replicas ?? 0) > 0)) return true;
    return this.oldRSs.some((rs) => this.deps.podInformer.byIndex(CONTROLLER_UID_INDEX, rs.metadata.uid!)
      .some((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed'));
  }

  /**
   * sync(): paused or a scaling event. One active RS takes the new size; a saturated new RS retires the
   * old; mid-rollout the difference is spread over active RSs in proportion to their current sizes
   * (simplified: Kubernetes weighs by each RS's desired-replicas annotation).
   */
  private async scaleOnly(): Promise<void> {
    const d = this.d;
    await this.syncNewRS(false);
    const active = this.allRSs.filter((rs) => specReplicas(rs) > 0);
    const latest = this.newRS ?? [...this.oldRSs].sort((a, b) => revisionOf(b) - revisionOf(a))[0];
    const only = active.length === 1 ? active[0] : active.length === 0 ? latest : undefined;
    if (only) {
      await this.scaleRS(only, specReplicas(d));
    } else if (isSaturated(d, this.newRS)) {
      for (const rs of this.oldRSs) if (specReplicas(rs) > 0) await this.scaleRS(rs, 0);
    } else if (d.spec?.strategy?.type === 'RollingUpdate' && active.length > 1) {
      const allowed = specReplicas(d) > 0 ? specReplicas(d) + fenceposts(d)[0] : 0;
      const total = sumSpec(active);
      const toAdd = allowed - total;
      if (toAdd !== 0) {
        // Larger first; newer first on ties when growing, older first when shrinking.
        const order = [...active].sort((a, b) => specReplicas(b) - specReplicas(a) || (toAdd > 0 ? -byCreation(a, b) : byCreation(a, b)));
        let left = toAdd;
        const sizes = new Map<KubeObject, number>();
        for (const rs of order) {
          const share = total > 0 ? Math.trunc((toAdd * specReplicas(rs)) / total) : 0;
          const step = toAdd > 0 ? Math.min(share, left) : Math.max(share, left);
          sizes.set(rs, specReplicas(rs) + step);
          left -= step;
        }
        // The rounding remainder goes to the largest.
        if (left !== 0) sizes.set(order[0], Math.max(0, sizes.get(order[0])! + left));
        for (const rs of order) await this.scaleRS(rs, Math.max(0, sizes.get(rs)!));
      }
    }
    if (d.spec?.paused) await this.cleanup();
    return this.writeStatus();
  }

  /** cleanupDeployment: delete old RSs with no replicas beyond revisionHistoryLimit, oldest revision first. */
  private async cleanup(): Promise<void> {
    const limit: number = this.d.spec?.revisionHistoryLimit ?? 10;
    const idle = this.oldRSs.filter((rs) => specReplicas(rs) === 0 && (rs.status?.replicas ?? 0) === 0 && !rs.metadata.deletionTimestamp);
    const surplus = idle.length - limit;
    if (surplus <= 0) return;
    idle.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of idle.slice(0, surplus)) {
      try {
        await this.deps.client.delete(APPS.replicasets, rs.metadata.namespace, rs.metadata.name!, { preconditions: { uid: rs.metadata.uid } });
        this.oldRSs = this.oldRSs.filter((o) => o !== rs);
      } catch (err) {
        this.deps.log?.debug('old replica set not deleted', { rs: rs.metadata.name, error: (err as Error).message });
      }
    }
  }

  /** Writes the status if it changed; asks to be looked at again before the progress deadline. */
  private async writeStatus(): Promise<void> {
    const d = this.d;
    const status = rolloutStatus(d, this.allRSs, this.newRS, this.pending);
    if (canonicalJson(status) !== canonicalJson(d.status ?? {})) {
      await this.deps.client.patch(APPS.deployments, d.metadata.namespace, d.metadata.name!, 'merge', { status }, 'status');
    }
    const deadline = d.spec?.progressDeadlineSeconds;
    const prog = getCondition(status, 'Progressing');
    if (typeof deadline === 'number' && !d.spec?.paused && !isComplete(d, status) && !hasTimedOut(d, status) && prog?.lastUpdateTime) {
      const due = Date.parse(prog.lastUpdateTime) + deadline * 1000 - Date.now();
      this.deps.requeueAfter(Math.max(0, due) + 1000);
    }
  }
}

