/**
 * Stale UDP conntrack entries, after kube-proxy's conntrack cleanup (pkg/proxy/conntrack). NAT is
 * decided on a flow's first packet only, and a UDP client that keeps its source port keeps its
 * conntrack entry alive for as long as it sends. So after a rule change:
 *   - an endpoint that left a UDP service port still receives the flows DNATed to it before;
 *   - a service port that had no endpoint (packets were rejected, entry without NAT) never gets one.
 * Both are fixed by deleting the entries once the new rules are in the kernel:
 *   endpoint gone      → `conntrack -D -p udp --orig-dst CLUSTER_IP --orig-port-dst PORT --reply-src EP`
 *                        (and `--orig-port-dst NODE_PORT --reply-src EP` for the node port)
 *   first endpoint(s)  → `conntrack -D -p udp --orig-dst CLUSTER_IP --orig-port-dst PORT` (and node port)
 * TCP needs none of this: a stale TCP flow is reset by the endpoint or times out.
 */
import { chooseEndpoints } from './endpoint-select.ts';
import { servicePortKey, type ServicePortModel } from './model.ts';

/** What a UDP service port's flows may be addressed to, and where they are DNATed. */
export interface UdpTarget {
  clusterIP: string;
  port: number;
  nodePort?: number;
  /** Endpoint IPs the rules DNAT to (cluster IP or node port), sorted. */
  endpoints: string[];
}

/** One `conntrack -D` filter. */
export interface StaleFlow {
  /** The original destination address (the cluster IP); unset for node ports (any local address). */
  origDst?: string;
  origPortDst: number;
  /** The endpoint the flow was DNATed to; unset = every flow to the address and port. */
  replySrc?: string;
}

/** The UDP service ports of one Service, keyed by service port. */
export function udpTargetsOf(ports: ServicePortModel[], nodeName: string): Map<string, UdpTarget> {
  const out = new Map<string, UdpTarget>();
  for (const sp of ports) {
    if (sp.protocol !== 'udp') continue;
    const c = chooseEndpoints(sp, nodeName);
    const endpoints = [...new Set([...c.internal, ...c.external].map((e) => e.ip))].sort();
    out.set(servicePortKey(sp), { clusterIP: sp.clusterIP, port: sp.port, nodePort: sp.nodePort, endpoints });
  }
  return out;
}

function flowsTo(t: UdpTarget, replySrc?: string): StaleFlow[] {
  const out: StaleFlow[] = [{ origDst: t.clusterIP, origPortDst: t.port, ...(replySrc ? { replySrc } : {}) }];
  if (t.nodePort) out.push({ origPortDst: t.nodePort, ...(replySrc ? { replySrc } : {}) });
  return out;
}

/** The entries to delete when one Service's UDP ports go from `before` to `after`. */
export function staleFlows(before: Map<string, UdpTarget> | undefined, after: Map<string, UdpTarget>): StaleFlow[] {
  const out: StaleFlow[] = [];
  for (const [key, old] of before ?? []) {
    const now = after.get(key);
    const moved = now && (now.clusterIP !== old.clusterIP || now.port !== old.port || now.nodePort !== old.nodePort);
    const kept = new Set(now && !moved ? now.endpoints : []);
    for (const ep of old.endpoints) if (!kept.has(ep)) out.push(...flowsTo(old, ep));
  }
  for (const [key, now] of after) {
    const old = before?.get(key);
    if (now.endpoints.length > 0 && (!old || old.endpoints.length === 0)) out.push(...flowsTo(now));
  }
  return out;
}

/** `conntrack` arguments deleting the flows `f` matches. */
export function conntrackDeleteArgs(f: StaleFlow): string[] {
  return [
    '-D', '-p', 'udp',
    ...(f.origDst ? ['--orig-dst', f.origDst] : []),
    '--orig-port-dst', String(f.origPortDst),
    ...(f.replySrc ? ['--reply-src', f.replySrc] : []),
  ];
}
