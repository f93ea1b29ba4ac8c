/**
 * The DNS server's in-memory view of the cluster: Services, EndpointSlices and Pods reduced to the
 * few facts DNS needs, filed so every query is a couple of map look-ups. Fed by informer events
 * (informer-feed.ts) or directly (tests, the benchmark); never lists the API itself.
 *
 * Kubernetes names (services, namespaces, pod hostnames) are already lower-case DNS labels, so keys
 * are used as they are; the resolver lower-cases the question.
 */
import { isIPv4 } from 'node:net';
import type { KubeObject } from '../apis/object.ts';
import { SERVICE_NAME_LABEL } from '../apis/well-known.ts';

/** The label an EndpointSlice names its Service with. */

export interface PortEntry {
  /** '' for an unnamed port. */
  name: string;
  port: number;
  /** Lower case: `tcp`, `udp`, `sctp` (as SRV names spell it). */
  protocol: string;
}

export interface ServiceEntry {
  namespace: string;
  name: string;
  kind: 'ClusterIP' | 'Headless' | 'ExternalName';
  /** IPv4 ClusterIP; undefined until allocated, or for headless / ExternalName. */
  clusterIP?: string;
  /** Normalised target of an ExternalName service. */
  externalName?: string;
  ports: PortEntry[];
  publishNotReady: boolean;
}

export interface EndpointEntry {
  ip: string;
  hostname?: string;
  ready: boolean;
}

export interface SliceEntry {
  endpoints: EndpointEntry[];
  ports: PortEntry[];
}

export interface PodEntry {
  namespace: string;
  name: string;
  ip?: string;
  ready: boolean;
  hostname?: string;
  subdomain?: string;
}

/** What the resolver reads; DnsIndex implements it. */
export interface RecordSource {
  service(namespace: string, name: string): ServiceEntry | undefined;
  slices(namespace: string, service: string): Iterable<SliceEntry>;
  /** True when the namespace holds a Service (so `<ns>.svc.<domain>` exists as a name). */
  hasServices(namespace: string): boolean;
  /** Pods with this `spec.hostname` and `spec.subdomain` in the namespace. */
  podsByHostname(namespace: string, subdomain: string, hostname: string): Iterable<PodEntry>;
  serviceByClusterIP(ip: string): ServiceEntry | undefined;
  /** Headless-service endpoints with this address (for PTR). */
  endpointsByIP(ip: string): Array<{ service: ServiceEntry; endpoint: EndpointEntry }>;
  /** SOA serial: the unix second of the last change. */
  serial(): number;
  /** Optional: a counter that changes with every change; answers may be cached while it stays. */
  generation?(): number;
}

const nsKey = (ns: string, name: string) => `${ns}/${name}`;

function portsOf(list: unknown): PortEntry[] {
  if (!Array.isArray(list)) return [];
  return list
    .filter((p) => typeof p?.port === 'number')
    .map((p) => ({ name: String(p.name ?? '').toLowerCase(), port: p.port, protocol: String(p.protocol ?? 'TCP').toLowerCase() }));
}

/** Service object → entry (exported for tests). */
export function serviceEntry(obj: KubeObject): ServiceEntry {
  const spec = obj.spec ?? {};
  const base = { namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '', ports: portsOf(spec.ports), publishNotReady: spec.publishNotReadyAddresses === true };
  if (spec.type === 'ExternalName') {
    const target = String(spec.externalName ?? '').toLowerCase().replace(/\.$/, '');
    return { ...base, kind: 'ExternalName', externalName: target || undefined };
  }
  if (spec.clusterIP === 'None') return { ...base, kind: 'Headless' };
  // Dual-stack services list the IPv4 address in clusterIPs; prefer it.
  const ips: string[] = Array.isArray(spec.clusterIPs) ? spec.clusterIPs : spec.clusterIP ? [spec.clusterIP] : [];
  return { ...base, kind: 'ClusterIP', clusterIP: ips.find((ip) => isIPv4(ip)) };
}

/** EndpointSlice object → entry; undefined for non-IPv4 slices (only A records are served). */
export function sliceEntry(obj: KubeObject): SliceEntry | undefined {
  if (obj.addressType !== 'IPv4') return undefined;
  const endpoints: EndpointEntry[] = [];
  for (const ep of Array.isArray(obj.endpoints) ? obj.endpoints : []) {
    // Unknown readiness counts as ready, as the EndpointSlice API says consumers should.
    const ready = ep?.conditions?.ready !== false;
    const hostname = typeof ep?.hostname === 'string' && ep.hostname ? ep.hostname.toLowerCase() : undefined;
    for (const ip of Array.isArray(ep?.addresses) ? ep.addresses : []) if (isIPv4(ip)) endpoints.push({ ip, hostname, ready });
  }
  return { endpoints, ports: portsOf(obj.ports) };
}

export function podEntry(obj: KubeObject): PodEntry {
  const spec = obj.spec ?? {};
  const status = obj.status ?? {};
  const ready = Array.isArray(status.conditions) && status.conditions.some((c: { type?: string; status?: string }) => c?.type === 'Ready' && c.status === 'True');
  const ip = typeof status.podIP === 'string' && isIPv4(status.podIP) ? status.podIP : undefined;
  return {
    namespace: obj.metadata.namespace ?? '', name: obj.metadata.name ?? '',
    // A deleting pod keeps no name, as the endpoint controllers drop it.
    ip: obj.metadata.deletionTimestamp ? undefined : ip,
    ready, hostname: spec.hostname?.toLowerCase(), subdomain: spec.subdomain?.toLowerCase(),
  };
}

/** The index; see the file comment. */
export class DnsIndex implements RecordSource {
  private readonly services = new Map<string, ServiceEntry>();
  private readonly servicesPerNs = new Map<string, number>();
  private readonly byClusterIP = new Map<string, string>();
  /** `ns/service` → slice name → entry. */
  private readonly slicesBySvc = new Map<string, Map<string, SliceEntry>>();
  /** `ns/slice` → `ns/service` it was filed under (labels can change). */
  private readonly sliceOwner = new Map<string, string>();
  private readonly pods = new Map<string, PodEntry>();
  /** `ns/subdomain/hostname` → pod keys. */
  private readonly podsByHost = new Map<string, Set<string>>();
  private lastChange = Math.floor(Date.now() / 1000);
  private changes = 0;

  // ---- writes (informer events) ----

  upsertService(obj: KubeObject): void {
    const e = serviceEntry(obj);
    const key = nsKey(e.namespace, e.name);
    this.removeServiceKey(key);
    this.services.set(key, e);
    this.servicesPerNs.set(e.namespace, (this.servicesPerNs.get(e.namespace) ?? 0) + 1);
    if (e.clusterIP) this.byClusterIP.set(e.clusterIP, key);
    this.touch();
  }

  deleteService(obj: KubeObject): void {
    this.removeServiceKey(nsKey(obj.metadata.namespace ?? '', obj.metadata.name ?? ''));
    this.touch();
  }

  upsertSlice(obj: KubeObject): void {
    const ns = obj.metadata.namespace ?? '';
    const key = nsKey(ns, obj.metadata.name ?? '');
    this.removeSliceKey(key);
    const svc = obj.metadata.labels?.[SERVICE_NAME_LABEL];
    const entry = sliceEntry(obj);
    if (svc && entry) {
      const svcKey = nsKey(ns, svc);
      let m = this.slicesBySvc.get(svcKey);
      if (!m) this.slicesBySvc.set(svcKey, (m = new Map()));
      m.set(key, entry);
      this.sliceOwner.set(key, svcKey);
    }
    this.touch();
  }

  deleteSlice(obj: KubeObject): void {
    this.removeSliceKey(nsKey(obj.metadata.namespace ?? '', obj.metadata.name ?? ''));
    this.touch();
  }

  upsertPod(obj: KubeObject): void {
    const e = podEntry(obj);
    const key = nsKey(e.namespace, e.name);
    const removed = this.removePodKey(key);
    // Only pods that can have a `<hostname>.<subdomain>` name are worth keeping.
    if (!e.hostname || !e.subdomain) {
      if (removed) this.touch();
      return;
    }
    this.pods.set(key, e);
    const hk = `${e.namespace}/${e.subdomain}/${e.hostname}`;
    let set = this.podsByHost.get(hk);
    if (!set) this.podsByHost.set(hk, (set = new Set()));
    set.add(key);
    this.touch();
  }

  deletePod(obj: KubeObject): void {
    if (this.removePodKey(nsKey(obj.metadata.namespace ?? '', obj.metadata.name ?? ''))) this.touch();
  }

  // ---- reads (RecordSource) ----

  service(namespace: string, name: string): ServiceEntry | undefined {
    return this.services.get(nsKey(namespace, name));
  }

  slices(namespace: string, service: string): Iterable<SliceEntry> {
    return this.slicesBySvc.get(nsKey(namespace, service))?.values() ?? [];
  }

  hasServices(namespace: string): boolean {
    return (this.servicesPerNs.get(namespace) ?? 0) > 0;
  }

  podsByHostname(namespace: string, subdomain: string, hostname: string): PodEntry[] {
    const keys = this.podsByHost.get(`${namespace}/${subdomain}/${hostname}`);
    return keys ? [...keys].map((k) => this.pods.get(k)!).filter(Boolean) : [];
  }

  serviceByClusterIP(ip: string): ServiceEntry | undefined {
    const key = this.byClusterIP.get(ip);
    return key ? this.services.get(key) : undefined;
  }

  endpointsByIP(ip: string): Array<{ service: ServiceEntry; endpoint: EndpointEntry }> {
    // PTR for pod addresses is rare; a scan keeps the index small.
    const out: Array<{ service: ServiceEntry; endpoint: EndpointEntry }> = [];
    for (const [svcKey, slices] of this.slicesBySvc) {
      const service = this.services.get(svcKey);
      if (service?.kind !== 'Headless') continue;
      for (const s of slices.values()) for (const endpoint of s.endpoints) if (endpoint.ip === ip) out.push({ service, endpoint });
    }
    return out;
  }

  serial(): number {
    return this.lastChange;
  }

  generation(): number {
    return this.changes;
  }

  /** Counts, for logs and tests. */
  stats(): { services: number; slices: number; pods: number } {
    return { services: this.services.size, slices: this.sliceOwner.size, pods: this.pods.size };
  }

  private touch(): void {
    this.changes++;
    this.lastChange = Math.max(this.lastChange, Math.floor(Date.now() / 1000));
  }

  private removeServiceKey(key: string): void {
    const old = this.services.get(key);
    if (!old) return;
    this.services.delete(key);
    const n = (this.servicesPerNs.get(old.namespace) ?? 1) - 1;
    if (n > 0) this.servicesPerNs.set(old.namespace, n);
    else this.servicesPerNs.delete(old.namespace);
    if (old.clusterIP && this.byClusterIP.get(old.clusterIP) === key) this.byClusterIP.delete(old.clusterIP);
  }

  private removeSliceKey(key: string): void {
    const svcKey = this.sliceOwner.get(key);
    if (!svcKey) return;
    this.sliceOwner.delete(key);
    const m = this.slicesBySvc.get(svcKey);
    m?.delete(key);
    if (m?.size === 0) this.slicesBySvc.delete(svcKey);
  }

  private removePodKey(key: string): boolean {
    const old = this.pods.get(key);
    if (!old) return false;
    this.pods.delete(key);
    const hk = `${old.namespace}/${old.subdomain}/${old.hostname}`;
    const set = this.podsByHost.get(hk);
    set?.delete(key);
    if (set?.size === 0) this.podsByHost.delete(hk);
    return true;
  }
}
