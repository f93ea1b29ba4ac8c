/**
 * Services + EndpointSlices → ServicePortModel[], per Service. Headless and ExternalName Services,
 * and Services without an IPv4 cluster IP, give nothing. Named targetPorts need no lookup here:
 * each slice port already carries the resolved number, and is matched to the service port by name.
 */
import type { KubeObject } from '../apis/object.ts';
import type { EndpointModel, Protocol, ServicePortModel } from './model.ts';
import { SERVICE_NAME_LABEL } from '../apis/well-known.ts';

/** The label tying an EndpointSlice to its Service. */

const DEFAULT_AFFINITY_SECONDS = 10800;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** The `namespace/name` of the Service a slice belongs to, or undefined for unlabelled slices. */
export function sliceServiceKey(slice: KubeObject): string | undefined {
  const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return name ? `${slice.metadata.namespace ?? ''}/${name}` : undefined;
}

function protocolOf(p: unknown): Protocol | undefined {
  const s = String(p ?? 'TCP').toLowerCase();
  return s === 'tcp' || s === 'udp' || s === 'sctp' ? s : undefined;
}

export function isIPv4(ip: unknown): ip is string {
  return typeof ip === 'string' && IPV4.test(ip) && ip.split('.').every((o) => Number(o) <= 255);
}

interface SlicePort { name?: string; port?: number; protocol?: string }
interface SliceEndpoint {
  addresses?: string[];
  conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  nodeName?: string;
}

/** Endpoints of every slice for the service port `portName`/`protocol`, deduplicated by ip:port. */
function endpointsFor(slices: KubeObject[], portName: string, protocol: Protocol): EndpointModel[] {
  const byAddr = new Map<string, EndpointModel>();
  for (const slice of slices) {
    const s = slice as KubeObject & { addressType?: string; ports?: SlicePort[]; endpoints?: SliceEndpoint[] };
    if (s.addressType !== undefined && s.addressType !== 'IPv4') continue;
    const sp = (s.ports ?? []).find((p) => (p.name ?? '') === portName && protocolOf(p.protocol) === protocol);
    if (!sp || typeof sp.port !== 'number') continue;
    for (const ep of s.endpoints ?? []) {
      const c = ep.conditions ?? {};
      const ready = c.ready !== false;
      const model: EndpointModel = {
        ip: '', port: sp.port, ready,
        serving: c.serving ?? ready, terminating: c.terminating === true,
        ...(ep.nodeName ? { nodeName: ep.nodeName } : {}),
      };
      for (const ip of ep.addresses ?? []) {
        if (!isIPv4(ip)) continue;
        const key = `${ip}:${sp.port}`;
        const prev = byAddr.get(key);
        // The same address in two slices (a slice being replaced): the readier copy wins.
        if (!prev || (!prev.ready && ready)) byAddr.set(key, { ...model, ip });
      }
    }
  }
  return [...byAddr.values()].sort((a, b) => compareIp(a.ip, b.ip) || a.port - b.port);
}

function compareIp(a: string, b: string): number {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (x[i] !== y[i]) return x[i] - y[i];
  return 0;
}

/** The service ports of one Service that need rules, with their endpoints from `slices`. */
export function servicePortsOf(svc: KubeObject, slices: KubeObject[]): ServicePortModel[] {
  const spec = (svc.spec ?? {}) as {
    type?: string; clusterIP?: string; ports?: { name?: string; port?: number; protocol?: string; nodePort?: number }[];
    sessionAffinity?: string; sessionAffinityConfig?: { clientIP?: { timeoutSeconds?: number } };
    internalTrafficPolicy?: string; externalTrafficPolicy?: string;
  };
  if (spec.type === 'ExternalName' || !isIPv4(spec.clusterIP)) return []; // headless ('None') or not allocated
  const withNodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  const affinity = spec.sessionAffinity === 'ClientIP'
    ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) : undefined;
  const out: ServicePortModel[] = [];
  for (const p of spec.ports ?? []) {
    const protocol = protocolOf(p.protocol);
    if (!protocol || typeof p.port !== 'number') continue;
    const portName = p.name ?? '';
    out.push({
      namespace: svc.metadata.namespace ?? 'default', name: svc.metadata.name!, portName, protocol,
      clusterIP: spec.clusterIP, port: p.port,
      ...(withNodePorts && typeof p.nodePort === 'number' && p.nodePort > 0 ? { nodePort: p.nodePort } : {}),
      ...(affinity !== undefined ? { affinitySeconds: affinity } : {}),
      internalLocal: spec.internalTrafficPolicy === 'Local',
      externalLocal: spec.externalTrafficPolicy === 'Local',
      endpoints: endpointsFor(slices, portName, protocol),
    });
  }
  return out;
}
