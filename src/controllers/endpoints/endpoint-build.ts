/**
 * From a Service and its pods to endpoints, as Kubernetes' endpointslice and endpoints controllers
 * decide it (pkg/controller/util/endpoint, endpointslice/utils.go): which pods count, whether an
 * endpoint is ready / serving / terminating, its hostname for DNS, and each service port's target
 * port resolved per pod (a named targetPort can be a different number in each pod).
 */
import type { KubeObject } from '../../apis/object.ts';
import { isPodReady } from '../controller-utils.ts';
import { SERVICE_NAME_LABEL, MANAGED_BY_LABEL } from '../../apis/well-known.ts';

export const MANAGED_BY = 'endpointslice-controller.k8s.io';

export interface EndpointPort {
  name: string;
  protocol: string;
  port: number;
  appProtocol?: string;
}

export interface Endpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

/** One pod's endpoint and the ports it resolves to. */
export interface PodEndpoint {
  endpoint: Endpoint;
  ports: EndpointPort[];
  /** Identifies the port set: endpoints with equal keys can share a slice / subset. */
  portsKey: string;
}

/** A service's equality-based selector; undefined when it has none (endpoints are managed by hand). */
export function serviceSelector(svc: KubeObject): Record<string, string> | undefined {
  const sel = svc.spec?.selector;
  return sel && typeof sel === 'object' && Object.keys(sel).length > 0 ? sel : undefined;
}

export function selectorMatchesPod(sel: Record<string, string>, pod: KubeObject): boolean {
  const labels = pod.metadata.labels ?? {};
  for (const k in sel) if (labels[k] !== sel[k]) return false;
  return true;
}

/** The container port a service port targets in `pod`; undefined when a named port is not there. */
export function findTargetPort(svcPort: any, pod: KubeObject): number | undefined {
  const tp = svcPort?.targetPort ?? svcPort?.port;
  if (typeof tp === 'number') return tp;
  if (typeof tp === 'string' && /^\d+$/.test(tp)) return Number(tp);
  const proto = svcPort?.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === tp && (p.protocol ?? 'TCP') === proto) return p.containerPort;
  }
  return undefined;
}

/**
 * Whether `pod` belongs in the endpoints at all: it has an IP, has not finished, and (unless
 * `includeTerminating`) is not being deleted.
 */
export function podCounts(pod: KubeObject, includeTerminating: boolean): boolean {
  if (!pod.status?.podIP) return false;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

export function portsKeyOf(ports: EndpointPort[]): string {
  return ports.map((p) => `${p.name}/${p.protocol}/${p.port}/${p.appProtocol ?? ''}`).sort().join(',');
}

/** The endpoint for `pod` behind `svc` (for EndpointSlices: terminating pods included). */
export function podEndpoint(svc: KubeObject, pod: KubeObject, includeTerminating = true): PodEndpoint | undefined {
  if (!podCounts(pod, includeTerminating)) return undefined;
  const terminating = !!pod.metadata.deletionTimestamp;
  const publish = svc.spec?.publishNotReadyAddresses === true;
  const serving = publish || isPodReady(pod);
  const ports: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findTargetPort(sp, pod);
    if (port === undefined) continue;
    const p: EndpointPort = { name: sp.name ?? '', protocol: sp.protocol ?? 'TCP', port };
    if (sp.appProtocol) p.appProtocol = sp.appProtocol;
    ports.push(p);
  }
  const endpoint: Endpoint = {
    addresses: [pod.status.podIP],
    conditions: { ready: serving && !terminating, serving, terminating },
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
  };
  if (pod.spec?.hostname && pod.spec?.subdomain === svc.metadata.name) endpoint.hostname = pod.spec.hostname;
  if (pod.spec?.nodeName) endpoint.nodeName = pod.spec.nodeName;
  return { endpoint, ports, portsKey: portsKeyOf(ports) };
}

/** Endpoints of every selected pod, sorted by pod name for stable output. */
export function serviceEndpoints(svc: KubeObject, pods: KubeObject[], includeTerminating = true): PodEndpoint[] {
  const sel = serviceSelector(svc);
  if (!sel) return [];
  const out: PodEndpoint[] = [];
  for (const pod of pods) {
    if (pod.metadata.namespace !== svc.metadata.namespace || !selectorMatchesPod(sel, pod)) continue;
    const e = podEndpoint(svc, pod, includeTerminating);
    if (e) out.push(e);
  }
  return out.sort((a, b) => a.endpoint.targetRef.name.localeCompare(b.endpoint.targetRef.name));
}
