/**
 * The `default/kubernetes` Service and its endpoints, kept by every API server (kube-apiserver's
 * "kubernetes" service controller and lease endpoint reconciler, pkg/controlplane/controller/
 * kubernetesservice and pkg/controlplane/reconcilers/lease.go): the Service has the first address
 * of the service CIDR and port 443 (`https`); its Endpoints and EndpointSlice name the address and
 * port of every live API server. Each server renews a Lease of its own in kube-system every 10 s
 * (15 s life) and writes the endpoints from the live Leases, so several servers on one etcd each add
 * themselves and one that stops renewing drops out; a clean stop removes itself at once.
 *
 *   pod ─▶ KUBERNETES_SERVICE_HOST:443 = 10.43.0.1:443 ─(service proxy DNAT)─▶ <advertise address>:<port> ─▶ API server
 */
import type { KubeObject } from '../apis/object.ts';
import { rfc3339Micro } from '../apis/time.ts';
import { nthAddress } from '../apis/cidr.ts';
import { MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from '../apis/well-known.ts';
import { R, type Client, type ResourceRef } from '../client/client.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../client/errors.ts';
import type { Logger } from '../util/log.ts';

export const KUBERNETES_SERVICE = { namespace: 'default', name: 'kubernetes' };
const LEASE_NAMESPACE = 'kube-system';
/** Leases of API server endpoints carry this label (Kubernetes keeps them under /masterleases/). */
const ENDPOINT_LEASE_LABEL = 'berth.dev/apiserver-endpoint';
const ADDRESS_ANNOTATION = 'berth.dev/endpoint-address';
const PORT_ANNOTATION = 'berth.dev/endpoint-port';
const MANAGED_BY = 'berth-server';
const RENEW_MS = 10_000;
const LEASE_SECONDS = 15;

export interface KubernetesServiceOptions {
  client: Client;
  serviceCidr: string;
  /** Where pods reach this server (a routable address, never a wildcard). */
  address: string;
  port: number;
  log: Logger;
  /** Renewal period (tests shorten it). */
  renewMs?: number;
  now?: () => Date;
}

/** One live API server endpoint. */
interface Endpoint {
  address: string;
  port: number;
}

/** Kubernetes refuses loopback endpoint addresses (and a pod could not reach them). */
function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address === '::1';
}

function leaseName(e: Endpoint): string {
  return `berth-apiserver-${e.address.replace(/[^0-9a-z]/gi, '-')}-${e.port}`.toLowerCase();
}

/** The Service, as kube-apiserver creates it. */
function serviceObject(clusterIP: string, port: number): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: KUBERNETES_SERVICE.name, namespace: KUBERNETES_SERVICE.namespace, labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP, sessionAffinity: 'None', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: port }] },
  };
}

async function getOrUndefined(client: Client, ref: ResourceRef, ns: string, name: string): Promise<KubeObject | undefined> {
  try {
    return await client.get(ref, ns, name);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Creates `body` or replaces what differs (`same`), keeping the existing object's identity. */
async function upsert(client: Client, ref: ResourceRef, body: KubeObject, same: (cur: KubeObject) => boolean): Promise<void> {
  const { namespace, name } = body.metadata as { namespace: string; name: string };
  const cur = await getOrUndefined(client, ref, namespace, name);
  if (!cur) {
    try { await client.create(ref, namespace, body); } catch (err) { if (!isAlreadyExists(err)) throw err; }
    return;
  }
  if (same(cur)) return;
  const { kind: _k, apiVersion: _a, metadata, ...rest } = body;
  // Another server may have written it meanwhile: the next round writes again.
  await client.update(ref, namespace, { ...cur, ...rest, metadata: { ...cur.metadata, labels: metadata.labels } }).catch((err) => { if (!isConflict(err)) throw err; });
}

/** Keeps the Service and endpoints; `stop` removes this server from them. */
export class KubernetesServiceReconciler {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Said once: the address is held by another Service (made before this server kept its own). */
  private warnedTaken = false;
  private readonly self: Endpoint;
  private readonly now: () => Date;

  constructor(private readonly opts: KubernetesServiceOptions) {
    this.self = { address: opts.address, port: opts.port };
    this.now = opts.now ?? (() => new Date());
    if (isLoopback(opts.address)) opts.log.info('the kubernetes Service gets no endpoint from this server: it listens on a loopback address only, which pods cannot reach', { address: opts.address });
  }

  /** The first round (awaited), then one every renewal period. */
  async start(): Promise<void> {
    // A failing first round (the address taken, the store busy) is retried, never fatal.
    await this.round().catch((err) => this.opts.log.warn('kubernetes service reconcile failed', { error: String(err) }));
    const tick = () => {
      if (this.stopped) return;
      this.running = this.round().catch((err) => this.opts.log.warn('kubernetes service reconcile failed', { error: String(err) }));
      void this.running.finally(() => { if (!this.stopped) this.timer = setTimeout(tick, this.opts.renewMs ?? RENEW_MS); this.timer?.unref(); });
    };
    this.timer = setTimeout(tick, this.opts.renewMs ?? RENEW_MS);
    this.timer.unref();
  }

  /** Removes this server's Lease and endpoint (kube-apiserver's RemoveEndpoints on shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    try {
      await this.opts.client.delete(R.leases, LEASE_NAMESPACE, leaseName(this.self));
      await this.writeEndpoints();
    } catch (err) {
      this.opts.log.warn('could not remove this server from the kubernetes endpoints', { error: String(err) });
    }
  }

  /** One reconcile: the Service, this server's Lease, the endpoints from the live Leases. */
  async round(): Promise<void> {
    await this.ensureService();
    await this.renewLease();
    await this.writeEndpoints();
  }

  private async ensureService(): Promise<void> {
    const { client, serviceCidr, port, log } = this.opts;
    const ip = nthAddress(serviceCidr, 1);
    const want = serviceObject(ip, port);
    const cur = await getOrUndefined(client, R.services, KUBERNETES_SERVICE.namespace, KUBERNETES_SERVICE.name);
    if (!cur) {
      try {
        await client.create(R.services, KUBERNETES_SERVICE.namespace, want);
        log.info('created the kubernetes Service', { clusterIP: ip });
      } catch (err) {
        if (isAlreadyExists(err)) return;
        // The address is someone else's (a Service made before this server kept its own): say so once, retry every round.
        if (!this.warnedTaken) log.warn('cannot create the kubernetes Service', { clusterIP: ip, error: String(err) });
        this.warnedTaken = true;
      }
      return;
    }
    const ports = JSON.stringify(cur.spec?.ports?.map((p: Record<string, unknown>) => [p.name, p.port, p.protocol, p.targetPort]));
    if (ports === JSON.stringify([['https', 443, 'TCP', port]])) return;
    await client.update(R.services, KUBERNETES_SERVICE.namespace, { ...cur, spec: { ...cur.spec, ports: want.spec.ports } }).catch((err) => { if (!isConflict(err)) throw err; });
  }

  private async renewLease(): Promise<void> {
    const { client } = this.opts;
    const name = leaseName(this.self);
    const lease: KubeObject = {
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
      metadata: {
        name, namespace: LEASE_NAMESPACE, labels: { [ENDPOINT_LEASE_LABEL]: 'true' },
        annotations: { [ADDRESS_ANNOTATION]: this.self.address, [PORT_ANNOTATION]: String(this.self.port) },
      },
      spec: { holderIdentity: `${this.self.address}:${this.self.port}`, leaseDurationSeconds: LEASE_SECONDS, renewTime: rfc3339Micro(this.now()) },
    };
    const cur = await getOrUndefined(client, R.leases, LEASE_NAMESPACE, name);
    if (!cur) {
      await client.create(R.leases, LEASE_NAMESPACE, lease).catch((err) => { if (!isAlreadyExists(err)) throw err; });
      return;
    }
    await client.update(R.leases, LEASE_NAMESPACE, { ...cur, metadata: { ...cur.metadata, ...lease.metadata, resourceVersion: cur.metadata.resourceVersion, uid: cur.metadata.uid }, spec: lease.spec });
  }

  /** The endpoints of the live Leases (of this server's port: the Service has one target port). */
  private async liveEndpoints(): Promise<Endpoint[]> {
    const leases = await this.opts.client.list(R.leases, LEASE_NAMESPACE, { labelSelector: `${ENDPOINT_LEASE_LABEL}=true` });
    const now = this.now().getTime();
    const live = new Map<string, Endpoint>();
    for (const l of leases.items) {
      const address = l.metadata.annotations?.[ADDRESS_ANNOTATION];
      const port = Number(l.metadata.annotations?.[PORT_ANNOTATION]);
      const renewed = Date.parse(l.spec?.renewTime ?? '');
      if (!address || isLoopback(address) || port !== this.self.port || !(renewed + (l.spec?.leaseDurationSeconds ?? LEASE_SECONDS) * 1000 > now)) continue;
      live.set(address, { address, port });
    }
    return [...live.values()].sort((a, b) => a.address.localeCompare(b.address));
  }

  private async writeEndpoints(): Promise<void> {
    const { client } = this.opts;
    const endpoints = await this.liveEndpoints();
    const { namespace, name } = KUBERNETES_SERVICE;
    const ports = [{ name: 'https', port: this.self.port, protocol: 'TCP' }];
    const sliceEndpoints = endpoints.map((e) => ({ addresses: [e.address], conditions: { ready: true, serving: true, terminating: false } }));
    const v6 = this.self.address.includes(':');
    await upsert(client, R.endpointslices, {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name, namespace, labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY } },
      addressType: v6 ? 'IPv6' : 'IPv4', endpoints: sliceEndpoints, ports,
    }, (cur) => JSON.stringify(cur.endpoints ?? []) === JSON.stringify(sliceEndpoints) && JSON.stringify(cur.ports) === JSON.stringify(ports));
    const subsets = endpoints.length ? [{ addresses: endpoints.map((e) => ({ ip: e.address })), ports }] : [];
    await upsert(client, R.endpoints, {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets,
    }, (cur) => JSON.stringify(cur.subsets ?? []) === JSON.stringify(subsets));
  }
}
