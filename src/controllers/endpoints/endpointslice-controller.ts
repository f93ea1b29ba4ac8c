/**
 * The EndpointSlice controller (pkg/controller/endpointslice): for each Service with a selector,
 * discovery.k8s.io/v1 EndpointSlices listing the selected pods — ready / serving / terminating,
 * the pod's node, its hostname when `subdomain` names the Service, and target ports resolved per
 * pod — at most 100 endpoints per slice. Slices are owned by their Service (the garbage collector
 * removes them with it) and labelled `kubernetes.io/service-name`; Services without a selector
 * are left to their users.
 *
 *   Service / Pod events ─▶ queue(ns/name) ─▶ reconcile: serviceEndpoints ─▶ planSlices ─▶ writes
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import { splitKey, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { newControllerRef } from '../controller-utils.ts';
import { MANAGED_BY, serviceEndpoints, serviceSelector } from './endpoint-build.ts';
import { planSlices, type SliceContent } from './slice-plan.ts';
import { indexPodsByLabel, podHandlers, servicePods } from './service-pod-handlers.ts';
import { MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from '../../apis/well-known.ts';

/** The label selector of the slices this controller manages (its informer's scope). */
export const SLICE_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

export class EndpointSliceController implements Reconciler {
  readonly name = 'endpointslice';
  readonly queue = new RateLimitedQueue();
  private readonly services: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly slices: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, readonly maxPerSlice = 100) {
    this.services = factory.forResource(R.services);
    this.pods = factory.forResource(R.pods);
    this.slices = factory.forResource(R.endpointslices, { labelSelector: SLICE_SELECTOR });
    indexPodsByLabel(this.pods);
    this.slices.addIndex('service', (s) => [`${s.metadata.namespace}/${s.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`]);
    this.services.addHandlers(enqueueHandlers(this.queue));
    this.pods.addHandlers(podHandlers(this.services, (k) => this.queue.add(k)));
    // A slice changed or removed by someone else is put back.
    this.slices.addHandlers(enqueueHandlers(this.queue, (s) => `${s.metadata.namespace}/${s.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`));
  }

  run(workers = 2): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  /**
   * Writes the cache has not seen yet, per Service: the slice cache lags behind our own writes, and
   * planning from a stale cache would duplicate slices (the real controller's EndpointSliceTracker).
   */
  private readonly written = new Map<ObjectKey, Map<string, number>>();

  private cacheIsStale(key: ObjectKey, existing: KubeObject[]): boolean {
    const w = this.written.get(key);
    if (!w) return false;
    const seen = new Map(existing.map((s) => [s.metadata.name!, Number(s.metadata.resourceVersion)]));
    for (const [name, rv] of w) {
      // rv 0: deleted by us, must be gone; otherwise the cache must hold at least that version.
      if (rv === 0 ? seen.has(name) : (seen.get(name) ?? 0) < rv) return true;
    }
    this.written.delete(key);
    return false;
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const { namespace } = splitKey(key);
    const svc = this.services.get(key);
    const existing = this.slices.byIndex('service', key);
    if (this.cacheIsStale(key, existing)) { this.queue.addAfter(key, 20); return; }
    const w = new Map<string, number>();
    this.written.set(key, w);
    // Gone or selector-less: our slices go (the GC would too, but a dropped selector keeps the Service).
    if (!svc || svc.metadata.deletionTimestamp || !serviceSelector(svc)) {
      for (const s of existing) { await this.remove(s); w.set(s.metadata.name!, 0); }
      return;
    }
    const desired = serviceEndpoints(svc, servicePods(this.pods, svc));
    const plan = planSlices(desired, existing, this.maxPerSlice);
    const track = (o: KubeObject) => w.set(o.metadata.name!, Number(o.metadata.resourceVersion));
    for (const c of plan.create) track(await this.client.create(R.endpointslices, namespace, this.sliceFor(svc, c)));
    for (const u of plan.update) {
      const next = { ...u.slice, ...this.sliceBody(u.content), metadata: { ...u.slice.metadata } };
      track(await this.client.update(R.endpointslices, namespace, next));
    }
    for (const s of plan.delete) { await this.remove(s); w.set(s.metadata.name!, 0); }
    if (plan.create.length || plan.update.length || plan.delete.length) {
      this.log?.debug('endpoint slices synced', { service: key, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length });
    }
  }

  private sliceBody(c: SliceContent): Partial<KubeObject> {
    return { addressType: 'IPv4', endpoints: c.endpoints, ports: c.ports };
  }

  private sliceFor(svc: KubeObject, c: SliceContent): KubeObject {
    return {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: {
        generateName: `${svc.metadata.name}-`,
        namespace: svc.metadata.namespace,
        labels: { ...(svc.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: svc.metadata.name!, [MANAGED_BY_LABEL]: MANAGED_BY },
        ownerReferences: [newControllerRef(svc, 'v1', 'Service')],
      },
      ...this.sliceBody(c),
    };
  }

  private async remove(slice: KubeObject): Promise<void> {
    try {
      await this.client.delete(R.endpointslices, slice.metadata.namespace, slice.metadata.name!);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
