/**
 * `GET /ui/connections`: every node's observed connections (the agents' GET /traffic,
 * src/agent/traffic) merged and named — pod IPs become pods, Service addresses Services, anything
 * else "outside" — for the web UI's map. Weave Scope's app merges its probes' reports the same way.
 * The caller must be allowed to list pods and services in every namespace: the edges name both.
 */
import https from 'node:https';
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../../apis/object.ts';
import type { Authorizer } from '../../auth/attributes.ts';
import type { LocalClient } from '../../client/local-client.ts';
import { errors } from '../../errors/index.ts';
import { forbidden } from '../../auth/forbidden.ts';
import type { ApiRequest } from '../../api/handler-chain.ts';
import type { Route } from '../../api/route-table.ts';
import { agentUrlOf } from '../../api/handlers/pod-streams.ts';
import { nthAddress } from '../../apis/cidr.ts';
import type { AgentTls } from '../../api/proxy/pod-stream-proxy.ts';

type PodRef = { namespace: string; name: string };

/** What an agent reports (src/agent/traffic/traffic-source.ts); clientPod/serverPod name host-network pods, whose address is the node's. */
export interface AgentTrafficReport {
  node: string;
  edges: { proto: string; client: string; clientPod?: PodRef; service?: string; server: string; serverPod?: PodRef; open: number; connectionsPerSecond: number; bytesPerSecond?: number; lastActive: number }[];
}

export type Endpoint = { kind: 'Pod' | 'Service'; namespace: string; name: string } | { kind: 'Outside'; ip: string } | { kind: 'Node'; name: string };

export interface Connection {
  from: Endpoint;
  /** The Service the client dialled, when it went through one. */
  via?: Endpoint & { port: number };
  to: Endpoint;
  port: number;
  proto: string;
  open: number;
  connectionsPerSecond: number;
  bytesPerSecond?: number;
  /** Reported by which node(s). */
  nodes: string[];
}

const ipOf = (hostPort: string) => hostPort.replace(/^\[?(.*?)\]?:(\d+)$/, '$1');
const portOf = (hostPort: string) => Number(/:(\d+)$/.exec(hostPort)?.[1] ?? 0);

/** Names the ends of every agent's edges; merges the same edge reported by two nodes; drops edges touching no pod or Service. */
export function aggregateConnections(reports: readonly AgentTrafficReport[], pods: readonly KubeObject[], services: readonly KubeObject[], nodes: readonly KubeObject[] = []): Connection[] {
  const byIp = new Map<string, Endpoint>();
  for (const n of nodes) {
    for (const a of (n.status?.addresses ?? []) as { type: string; address: string }[]) if (a.type === 'InternalIP') byIp.set(a.address, { kind: 'Node', name: n.metadata.name! });
    // The pod range's gateway is the node itself (its bridge): probes and host processes talk from it.
    try { if (n.spec?.podCIDR) byIp.set(nthAddress(n.spec.podCIDR, 1), { kind: 'Node', name: n.metadata.name! }); } catch { /* an IPv6 or odd range: not named */ }
  }
  for (const p of pods) {
    if (p.spec?.hostNetwork || p.metadata.deletionTimestamp && !p.status?.podIP) continue;
    for (const ip of [p.status?.podIP, ...((p.status?.podIPs ?? []) as { ip: string }[]).map((x) => x.ip)]) {
      if (ip && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed') byIp.set(ip, { kind: 'Pod', namespace: p.metadata.namespace!, name: p.metadata.name! });
    }
  }
  const svcByIp = new Map<string, Endpoint>();
  for (const s of services) for (const ip of [s.spec?.clusterIP, ...((s.spec?.clusterIPs ?? []) as string[])]) if (ip && ip !== 'None') svcByIp.set(ip, { kind: 'Service', namespace: s.metadata.namespace!, name: s.metadata.name! });
  const name = (ip: string): Endpoint => byIp.get(ip) ?? svcByIp.get(ip) ?? { kind: 'Outside', ip };
  const out = new Map<string, Connection>();
  for (const r of reports) {
    for (const e of r.edges) {
      const from: Endpoint = e.clientPod ? { kind: 'Pod', ...e.clientPod } : name(e.client);
      const to: Endpoint = e.serverPod ? { kind: 'Pod', ...e.serverPod } : name(ipOf(e.server));
      const via = e.service ? { ...(svcByIp.get(ipOf(e.service)) ?? { kind: 'Outside' as const, ip: ipOf(e.service) }), port: portOf(e.service) } : undefined;
      const touches = [from, to, via].some((x) => x && (x.kind === 'Pod' || x.kind === 'Service'));
      if (!touches) continue;
      const key = JSON.stringify([e.proto, from, via, to, portOf(e.server)]);
      const c = out.get(key);
      if (!c) {
        out.set(key, { from, ...(via ? { via } : {}), to, port: portOf(e.server), proto: e.proto, open: e.open, connectionsPerSecond: e.connectionsPerSecond, ...(e.bytesPerSecond !== undefined ? { bytesPerSecond: e.bytesPerSecond } : {}), nodes: [r.node] });
      } else if (!c.nodes.includes(r.node)) {
        // The same connection seen on the client's node and the server's: counted once (the larger view).
        c.nodes.push(r.node);
        c.open = Math.max(c.open, e.open);
        c.connectionsPerSecond = Math.max(c.connectionsPerSecond, e.connectionsPerSecond);
        if (e.bytesPerSecond !== undefined) c.bytesPerSecond = Math.max(c.bytesPerSecond ?? 0, e.bytesPerSecond);
      } else {
        c.open += e.open;
        c.connectionsPerSecond += e.connectionsPerSecond;
      }
    }
  }
  return [...out.values()];
}

function fetchTraffic(agentUrl: string, tls: AgentTls | undefined, timeoutMs = 3000): Promise<AgentTrafficReport> {
  return new Promise((resolve, reject) => {
    const req = https.get(`${agentUrl.replace(/^http:/, 'https:')}/traffic`, { ca: tls?.ca, cert: tls?.cert, key: tls?.key, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`agent ${agentUrl}: HTTP ${res.statusCode}`));
        try { resolve(JSON.parse(Buffer.concat(chunks).toString())); } catch (err) { reject(err); }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`agent ${agentUrl}: timed out`)));
    req.on('error', reject);
  });
}

const ALL_NAMESPACES = ['pods', 'services'] as const;

const CACHE_MS = 1500;

export function connectionsRoute(client: LocalClient, authorizer: Authorizer, agentTls: () => AgentTls | undefined): Route {
  let answer: { at: number; body: Promise<string> } | undefined;
  const build = async (): Promise<string> => {
    const ref = (resource: string) => ({ group: '', version: 'v1', resource });
    const [pods, services, nodes] = await Promise.all([client.list(ref('pods'), undefined), client.list(ref('services'), undefined), client.list(ref('nodes'), undefined)]);
    const tls = agentTls();
    const errs: string[] = [];
    const reports = (await Promise.all(nodes.items.map(async (n) => {
      const url = agentUrlOf(n);
      if (!url) return undefined;
      return fetchTraffic(url, tls).catch((err) => { errs.push(`${n.metadata.name}: ${(err as Error).message}`); return undefined; });
    }))).filter((x): x is AgentTrafficReport => !!x);
    return JSON.stringify({ connections: aggregateConnections(reports, pods.items, services.items, nodes.items), nodes: reports.map((x) => x.node), errors: errs });
  };
  return {
    path: '/ui/connections',
    async handle(r: ApiRequest, res: ServerResponse) {
      if (!r.user.groups.includes('system:authenticated')) throw errors.unauthorized();
      for (const resource of ALL_NAMESPACES) {
        const a = { user: r.user, verb: 'list', isResourceRequest: true, path: `/api/v1/${resource}`, apiGroup: '', apiVersion: 'v1', resource, subresource: '', namespace: '', name: '' };
        if (await authorizer.authorize(a) !== 'allow') throw forbidden(a);
      }
      // Every open map asks every 2 s (the agents sample as often): the answer — lists of 30k pods
      // take ~0.5 s — is shared by every caller for CACHE_MS.
      if (!answer || Date.now() - answer.at > CACHE_MS) {
        answer = { at: Date.now(), body: build() };
        answer.body.catch(() => { answer = undefined; });
      }
      const body = await answer.body;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    },
  };
}
