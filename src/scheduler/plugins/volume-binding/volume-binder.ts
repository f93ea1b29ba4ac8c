/**
 * The scheduler's volume binder (pkg/scheduler/framework/plugins/volumebinding binder.go:
 * AssumePodVolumes + BindPodVolumes, as PreBind runs them): for the node a pod was given, it writes
 * what the VolumeBinding filter decided — each chosen PV gets the claim's claimRef (the PV controller
 * finishes the binding), each claim to provision gets `volume.kubernetes.io/selected-node` (its
 * provisioner creates the volume there) — then waits until every claim of the pod is bound, so the
 * pod reaches its node with volumes to mount. A claim whose provisioner gave the node back (the
 * annotation removed), a deleted claim, or the timeout fails the binding: the pod is scheduled again.
 *
 *   scheduler loop ─resolve(pod)─▶ ClaimResolver (caches) ─▶ PodInfo.claims ─▶ VolumeBinding filter
 *   bind(pod, node) ─preBind─▶ PV claimRef / PVC selected-node ─▶ wait for Bound ─▶ pods/binding
 */
import type { KubeObject } from '../../../apis/object.ts';
import { ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE } from '../../../apis/volumes/annotations.ts';
import { isVolumeBoundToClaim } from '../../../apis/volumes/volume-match.ts';
import { R, type Client, type ResourceRef } from '../../../client/client.ts';
import { isConflict } from '../../../client/errors.ts';
import type { InformerFactory } from '../../../client/informer-factory.ts';
import type { SharedInformer } from '../../../client/informer.ts';
import type { PodInfo, ResolvedClaim } from '../../pod-info.ts';
import { termsMatch } from '../../node-selector.ts';
import { ClaimResolver } from './claim-resolver.ts';
import { NAME, decideForNode, type NodeDecision } from './volume-binding.ts';

export const STORAGE_CLASSES: ResourceRef = { group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses' };

/** A failed PreBind, worded as kube-scheduler reports it (`running PreBind plugin "VolumeBinding": …`). */
export class VolumeBindingError extends Error {
  constructor(message: string) {
    super(`running PreBind plugin "${NAME}": binding volumes: ${message}`);
  }
}

export interface VolumeBinderOptions {
  /** How long PreBind waits for the claims to be bound (upstream's bindTimeoutSeconds: 600). */
  bindTimeoutMs?: number;
  /** Polling interval of the wait. */
  pollMs?: number;
}

export class VolumeBinder {
  private readonly pvcs: SharedInformer;
  private readonly pvs: SharedInformer;
  private readonly classes: SharedInformer;
  private readonly nodes: SharedInformer;
  private readonly resolver: ClaimResolver;
  private readonly timeoutMs: number;
  private readonly pollMs: number;

  /** `onChange` is called for every claim, volume and class event: the queue's cue to retry pods. */
  constructor(private readonly client: Client, factory: InformerFactory, onChange: () => void, opts: VolumeBinderOptions = {}) {
    this.pvcs = factory.forResource(R.persistentvolumeclaims);
    this.pvs = factory.forResource(R.persistentvolumes);
    this.classes = factory.forResource(STORAGE_CLASSES);
    this.nodes = factory.forResource(R.nodes);
    this.resolver = new ClaimResolver(this.pvcs, this.pvs, this.classes);
    this.timeoutMs = opts.bindTimeoutMs ?? 600_000;
    this.pollMs = opts.pollMs ?? 50;
    const handlers = { add: onChange, update: onChange, delete: onChange };
    for (const inf of [this.pvcs, this.pvs, this.classes]) inf.addHandlers(handlers);
  }

  start(): void {
    for (const inf of [this.pvcs, this.pvs, this.classes, this.nodes]) inf.start();
  }

  synced(): Promise<unknown> {
    return Promise.all([this.pvcs.synced(), this.pvs.synced(), this.classes.synced(), this.nodes.synced()]);
  }

  /** The pod's claims as the filter needs them. */
  resolve(info: PodInfo): ResolvedClaim[] {
    return this.resolver.resolve(info);
  }

  /** PreBind: writes the decision for `nodeName` and waits for every claim to be bound; throws VolumeBindingError. */
  async preBind(info: PodInfo, nodeName: string): Promise<void> {
    const claims = this.resolve(info);
    if (!claims.some((c) => c.delayed)) return this.waitBound(info, new Set(), nodeName);
    const node = this.nodes.get(nodeName);
    if (!node) throw new VolumeBindingError(`node "${nodeName}" not found`);
    const decision = decideForNode(claims, { name: nodeName, labels: node.metadata.labels ?? {}, node });
    if (Array.isArray(decision)) throw new VolumeBindingError(decision.join(', '));
    const keys = decision.bindings.map(({ pv, pvc }) => [pv.metadata.name!, keyOf(pvc)] as const);
    for (const [pv, claim] of keys) this.resolver.assumed.set(pv, claim);
    try {
      await this.write(decision, nodeName);
      await this.waitBound(info, new Set(decision.provisions.map(keyOf)), nodeName);
    } finally {
      for (const [pv, claim] of keys) if (this.resolver.assumed.get(pv) === claim) this.resolver.assumed.delete(pv);
    }
  }

  private async write(decision: NodeDecision, nodeName: string): Promise<void> {
    for (const { pv, pvc } of decision.bindings) {
      await this.retryOnConflict(R.persistentvolumes, undefined, pv.metadata.name!, (cur) => {
        if (cur.spec?.claimRef && !isVolumeBoundToClaim(cur, pvc)) throw new VolumeBindingError(`volume "${cur.metadata.name}" was bound to another claim meanwhile`);
        if (isVolumeBoundToClaim(cur, pvc) && cur.spec.claimRef.uid) return undefined;
        const next = structuredClone(cur);
        const boundByUser = isVolumeBoundToClaim(cur, pvc);
        next.spec.claimRef = { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: pvc.metadata.namespace, name: pvc.metadata.name, uid: pvc.metadata.uid, resourceVersion: pvc.metadata.resourceVersion };
        if (!boundByUser) next.metadata.annotations = { ...(next.metadata.annotations ?? {}), [ANN_BOUND_BY_CONTROLLER]: 'yes' };
        return next;
      });
    }
    for (const pvc of decision.provisions) {
      await this.retryOnConflict(R.persistentvolumeclaims, pvc.metadata.namespace, pvc.metadata.name!, (cur) => {
        if (cur.metadata.uid !== pvc.metadata.uid) throw new VolumeBindingError(`persistentvolumeclaim "${pvc.metadata.name}" was replaced`);
        if (cur.spec?.volumeName || cur.metadata.annotations?.[ANN_SELECTED_NODE] === nodeName) return undefined;
        return { ...cur, metadata: { ...cur.metadata, annotations: { ...(cur.metadata.annotations ?? {}), [ANN_SELECTED_NODE]: nodeName } } };
      });
    }
  }

  /** Reads the object (cache first, then the API on a conflict), lets `change` edit it, writes it. */
  private async retryOnConflict(ref: ResourceRef, ns: string | undefined, name: string, change: (cur: KubeObject) => KubeObject | undefined): Promise<void> {
    const informer = ref === R.persistentvolumes ? this.pvs : this.pvcs;
    let cur = informer.get(ns ? `${ns}/${name}` : name);
    for (let attempt = 0; ; attempt++) {
      if (!cur) throw new VolumeBindingError(`${ref.resource.slice(0, -1)} "${name}" not found`);
      const next = change(cur);
      if (!next) return;
      try {
        await this.client.update(ref, ns, next);
        return;
      } catch (err) {
        if (!isConflict(err) || attempt >= 4) throw new VolumeBindingError((err as Error).message);
        cur = await this.client.get(ref, ns, name).catch(() => undefined);
      }
    }
  }

  /**
   * checkBindings until every claim is bound to a volume that names it back and suits the node; a
   * provisioned claim that lost its selected node means its provisioner gave up on the node.
   */
  private async waitBound(info: PodInfo, provisioning: Set<string>, nodeName: string): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    const node = this.nodes.get(nodeName);
    for (;;) {
      let all = true;
      for (const claimName of info.claimNames) {
        const key = `${info.namespace}/${claimName}`;
        const pvc = this.pvcs.get(key);
        if (!pvc) throw new VolumeBindingError(`persistentvolumeclaim "${claimName}" was deleted`);
        const pv = pvc.spec?.volumeName ? this.pvs.get(pvc.spec.volumeName) : undefined;
        if (!pv || pvc.metadata.annotations?.[ANN_BIND_COMPLETED] === undefined || pv.spec?.claimRef?.uid !== pvc.metadata.uid) {
          if (provisioning.has(key) && !pvc.spec?.volumeName && pvc.metadata.annotations?.[ANN_SELECTED_NODE] !== nodeName) {
            throw new VolumeBindingError(`provisioning failed for PVC "${claimName}"`);
          }
          all = false;
          continue;
        }
        const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
        if (node && Array.isArray(terms) && !termsMatch(terms, { name: nodeName, labels: node.metadata.labels ?? {} })) {
          throw new VolumeBindingError(`pv "${pv.metadata.name}" node affinity doesn't match node "${nodeName}"`);
        }
      }
      if (all) return;
      if (Date.now() > deadline) throw new VolumeBindingError('timed out waiting for the condition');
      await new Promise((r) => setTimeout(r, this.pollMs));
    }
  }
}

function keyOf(o: KubeObject): string {
  return `${o.metadata.namespace}/${o.metadata.name}`;
}
