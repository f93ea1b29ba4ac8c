/**
 * The Endpoints controller (pkg/controller/endpoint): the core/v1 Endpoints object named after each
 * Service with a selector, for `kubectl get endpoints` and older clients. Subsets group addresses
 * by their resolved port set; ready pods go to `addresses`, others to `notReadyAddresses`;
 * terminating pods are left out unless the Service publishes not-ready addresses. At most 1000
 * addresses, with the `endpoints.kubernetes.io/over-capacity: truncated` annotation beyond.
 */
import type { KubeObject } from '../../apis/object.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import { splitKey, type ObjectKey, type Reconciler } from '../../client/controller-types.ts';
import { isAlreadyExists, isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import type { Logger } from '../../util/log.ts';
import { serviceEndpoints, serviceSelector, type PodEndpoint } from './endpoint-build.ts';
import { indexPodsByLabel, podHandlers, servicePods } from './service-pod-handlers.ts';

export const MAX_ENDPOINT_ADDRESSES = 1000;
const OVER_CAPACITY = 'endpoints.kubernetes.io/over-capacity';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';

/** Subsets from pod endpoints (Kubernetes sorts them for stable output; so does this). */
export function buildSubsets(eps: PodEndpoint[]): { subsets: any[]; truncated: boolean } {
  const bySet = new Map<string, { addresses: any[]; notReadyAddresses: any[]; ports: any[] }>();
  let count = 0;
  let truncated = false;
  for (const e of eps) {
    if (e.ports.length === 0) continue;
    if (count >= MAX_ENDPOINT_ADDRESSES) { truncated = true; break; }
    count++;
    let s = bySet.get(e.portsKey);
    if (!s) bySet.set(e.portsKey, (s = { addresses: [], notReadyAddresses: [], ports: e.ports.map((p) => ({ ...p })) }));
    const ep = e.endpoint;
    const addr: any = { ip: ep.addresses[0], targetRef: ep.targetRef };
    if (ep.hostname) addr.hostname = ep.hostname;
    if (ep.nodeName) addr.nodeName = ep.nodeName;
    (ep.conditions.ready ? s.addresses : s.notReadyAddresses).push(addr);
  }
  const subsets = [...bySet.values()].map((s) => {
    const out: any = {};
    if (s.addresses.length) out.addresses = s.addresses.sort((a, b) => a.ip.localeCompare(b.ip));
    if (s.notReadyAddresses.length) out.notReadyAddresses = s.notReadyAddresses.sort((a, b) => a.ip.localeCompare(b.ip));
    out.ports = s.ports.sort((a: any, b: any) => a.name.localeCompare(b.name));
    return out;
  });
  return { subsets, truncated };
}

export class EndpointsController implements Reconciler {
  readonly name = 'endpoints';
  readonly queue = new RateLimitedQueue();
  private readonly services: SharedInformer;
  private readonly pods: SharedInformer;
  private readonly endpoints: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger) {
    this.services = factory.forResource(R.services);
    this.pods = factory.forResource(R.pods);
    this.endpoints = factory.forResource(R.endpoints);
    indexPodsByLabel(this.pods);
    this.services.addHandlers(enqueueHandlers(this.queue));
    this.pods.addHandlers(podHandlers(this.services, (k) => this.queue.add(k)));
    // Added: leftovers of Services deleted while no controller ran are found and removed.
    this.endpoints.addHandlers({ add: (e) => this.queue.add(`${e.metadata.namespace}/${e.metadata.name}`), delete: (e) => this.queue.add(`${e.metadata.namespace}/${e.metadata.name}`) });
  }

  run(workers = 2): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const { namespace, name } = splitKey(key);
    const svc = this.services.get(key);
    // Without a Service (or a selector) the Endpoints are someone else's, or the GC's to remove:
    // Kubernetes deletes them when the Service goes, and leaves them when there is no selector.
    if (!svc) {
      if (this.endpoints.get(key)) await this.client.delete(R.endpoints, namespace, name).catch((err) => { if (!isNotFound(err)) throw err; });
      return;
    }
    if (!serviceSelector(svc) || svc.metadata.deletionTimestamp) return;
    const includeTerminating = svc.spec?.publishNotReadyAddresses === true;
    const { subsets, truncated } = buildSubsets(serviceEndpoints(svc, servicePods(this.pods, svc), includeTerminating));
    const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
    if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
    const current = this.endpoints.get(key);
    const annotations: Record<string, string> = { ...(current?.metadata.annotations ?? {}) };
    if (truncated) annotations[OVER_CAPACITY] = 'truncated';
    else delete annotations[OVER_CAPACITY];
    const body: KubeObject = {
      apiVersion: 'v1', kind: 'Endpoints',
      metadata: { name, namespace, labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
      ...(subsets.length ? { subsets } : {}),
    };
    if (!current) {
      try {
        await this.client.create(R.endpoints, namespace, body);
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        this.queue.addAfter(key, 50);
      }
      return;
    }
    const same = JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets)
      && JSON.stringify(current.metadata.labels ?? {}) === JSON.stringify(labels)
      && JSON.stringify(current.metadata.annotations ?? {}) === JSON.stringify(annotations);
    if (same) return;
    // Conditional on the cached version: a stale cache gets a 409 and a retry, never a lost write.
    body.metadata.resourceVersion = current.metadata.resourceVersion;
    await this.client.update(R.endpoints, namespace, body);
  }
}
