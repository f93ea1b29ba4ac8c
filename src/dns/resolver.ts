/**
 * Question → answer sections, for names inside the cluster domain (and PTRs of cluster addresses).
 * Pure: reads a RecordSource, touches no socket, so every rule is unit-tested directly.
 *
 * The name tree follows the Kubernetes DNS specification as CoreDNS's kubernetes plugin serves it
 * (`pods insecure`):
 *   <svc>.<ns>.svc.<zone>                 A (ClusterIP, or ready endpoints if headless), SRV (all ports), CNAME (ExternalName)
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone> SRV
 *   <hostname|a-b-c-d>.<svc>.<ns>.svc.<zone> A (headless endpoints; pod hostname/subdomain as fallback)
 *   a-b-c-d.<ns>.pod.<zone>               A (the address in the name)
 *   dns-version.<zone>                    TXT "1.1.0"; <zone> SOA / NS; ns.dns.<zone> A (kube-dns ClusterIP)
 * A name that exists (also as a parent of one that does) without data of the asked type is NODATA;
 * anything else in the zone is NXDOMAIN. Both carry the zone's SOA whose MINIMUM and TTL are the
 * negative TTL, so resolvers cache the denial that long (RFC 2308 §5).
 */
import type { Answer } from 'dns-packet';
import { dashedIp, ipFromDashed, ipFromReverse, labelsInZone, normalizeName } from './names.ts';
import type { EndpointEntry, RecordSource, ServiceEntry } from './record-index.ts';

export interface ResolverConfig {
  /** Normalised cluster domain, e.g. `cluster.local`. */
  zone: string;
  ttl: number;
  negativeTtl: number;
}

export type Rcode = 'NOERROR' | 'NXDOMAIN';

export interface Answered {
  kind: 'answer';
  rcode: Rcode;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** `forward`: not ours; send it upstream. */
export type Resolution = Answered | { kind: 'forward' };

/** The result for one name: whether it exists, and its records of the asked type. */
interface Found {
  exists: boolean;
  answers: Answer[];
  additionals: Answer[];
}

const NX: Found = { exists: false, answers: [], additionals: [] };
const noData = (): Found => ({ exists: true, answers: [], additionals: [] });
/** ExternalName chains longer than this stop (loops between services). */
const MAX_CNAME_DEPTH = 8;
export const SCHEMA_VERSION = '1.1.0';

/** A question; `type` as dns-packet names it (`A`, `SRV`, … and `ANY`, which its types omit). */
export interface Query {
  name: string;
  type: string;
}

export function resolve(q: Query, src: RecordSource, cfg: ResolverConfig): Resolution {
  const name = normalizeName(q.name);
  const labels = labelsInZone(name, cfg.zone);
  // The answer echoes the name as asked (case included), RFC 4343.
  const owner = q.name.replace(/\.$/, '');
  if (!labels) {
    const ptr = q.type === 'PTR' ? reverse(name, owner, src, cfg) : undefined;
    return ptr ?? { kind: 'forward' };
  }
  const found = new Lookup(src, cfg).name(owner, labels, q.type, 0);
  // NODATA also when a CNAME chain ends without the asked type (RFC 2308 §2.2).
  const last = found.answers[found.answers.length - 1];
  const answered = found.answers.length > 0 && (last.type === q.type || q.type === 'ANY' || last.type === 'CNAME' && !labelsInZone(String(last.data), cfg.zone));
  return {
    kind: 'answer',
    rcode: found.exists ? 'NOERROR' : 'NXDOMAIN',
    answers: found.answers,
    authorities: answered ? [] : [soa(cfg, src, cfg.negativeTtl)],
    additionals: found.additionals,
  };
}

/** The zone's SOA; as a negative answer's authority, TTL and MINIMUM are the negative TTL. */
export function soa(cfg: ResolverConfig, src: RecordSource, ttl: number): Answer {
  return {
    type: 'SOA', name: cfg.zone, ttl,
    data: { mname: `ns.dns.${cfg.zone}`, rname: `hostmaster.${cfg.zone}`, serial: src.serial(), refresh: 7200, retry: 1800, expire: 86400, minimum: cfg.negativeTtl },
  };
}

const wantsA = (t: string) => t === 'A' || t === 'ANY';

/** Endpoints that count for DNS: ready ones, or all when the service publishes not-ready addresses. */
function liveEndpoints(src: RecordSource, svc: ServiceEntry): EndpointEntry[] {
  const out: EndpointEntry[] = [];
  for (const s of src.slices(svc.namespace, svc.name)) for (const e of s.endpoints) if (e.ready || svc.publishNotReady) out.push(e);
  return out;
}

const endpointLabel = (e: EndpointEntry) => e.hostname ?? dashedIp(e.ip);

class Lookup {
  constructor(private readonly src: RecordSource, private readonly cfg: ResolverConfig) {}

  /** `labels`: the name left of the zone; `owner`: the name to put on records at this name. */
  name(owner: string, labels: string[], type: string, depth: number): Found {
    const n = labels.length;
    if (n === 0) return this.apex(owner, type);
    const top = labels[n - 1];
    if (top === 'svc') return this.svcTree(owner, labels.slice(0, -1), type, depth);
    if (top === 'pod') return this.podTree(owner, labels.slice(0, -1), type);
    if (top === 'dns-version' && n === 1) {
      return type === 'TXT' || type === 'ANY' ? this.found([{ type: 'TXT', name: owner, ttl: this.cfg.ttl, data: SCHEMA_VERSION }]) : noData();
    }
    if (top === 'dns' && n === 1) return noData();
    if (top === 'dns' && n === 2 && labels[0] === 'ns') {
      const ip = this.dnsServiceIP();
      return wantsA(type) && ip ? this.found([this.a(owner, ip)]) : noData();
    }
    return NX;
  }

  private apex(owner: string, type: string): Found {
    if (type === 'SOA') return this.found([{ ...soa(this.cfg, this.src, this.cfg.ttl), name: owner }]);
    if (type === 'NS') {
      const ns = `ns.dns.${this.cfg.zone}`;
      const ip = this.dnsServiceIP();
      return { exists: true, answers: [{ type: 'NS', name: owner, ttl: this.cfg.ttl, data: ns }], additionals: ip ? [this.a(ns, ip)] : [] };
    }
    return noData();
  }

  private dnsServiceIP(): string | undefined {
    return this.src.service('kube-system', 'kube-dns')?.clusterIP;
  }

  /** `rest`: labels left of `svc`, e.g. [`_http`, `_tcp`, `web`, `default`]. */
  private svcTree(owner: string, rest: string[], type: string, depth: number): Found {
    const n = rest.length;
    if (n === 0) return noData();
    const ns = rest[n - 1];
    if (n === 1) return this.src.hasServices(ns) ? noData() : NX;
    const svc = this.src.service(ns, rest[n - 2]);
    if (!svc) return NX;
    if (n === 2) return this.service(owner, svc, type, depth);
    if (n === 3 && rest[0].startsWith('_')) {
      // `_tcp.<svc>…` exists as the parent of `_<port>._tcp.<svc>…`.
      const proto = rest[0].slice(1);
      return this.ports(svc).some((p) => p.name && p.protocol === proto) ? noData() : NX;
    }
    if (n === 3) return this.endpoint(owner, svc, rest[0], type);
    if (n === 4 && rest[0].startsWith('_') && rest[1].startsWith('_')) return this.srv(owner, svc, type, rest[0].slice(1), rest[1].slice(1));
    return NX;
  }

  /** Service and slice ports: a headless service's SRV ports come from its slices. */
  private ports(svc: ServiceEntry) {
    const out = [...svc.ports];
    if (svc.kind === 'Headless') for (const s of this.src.slices(svc.namespace, svc.name)) out.push(...s.ports);
    return out;
  }

  private service(owner: string, svc: ServiceEntry, type: string, depth: number): Found {
    if (svc.kind === 'ExternalName') return this.externalName(owner, svc, type, depth);
    if (type === 'SRV') return this.srv(owner, svc, type);
    if (!wantsA(type)) return noData();
    const ips = svc.kind === 'ClusterIP' ? (svc.clusterIP ? [svc.clusterIP] : []) : [...new Set(liveEndpoints(this.src, svc).map((e) => e.ip))];
    return this.found(ips.map((ip) => this.a(owner, ip)));
  }

  /** A CNAME; chased inside the zone (as CoreDNS does), left to the client outside it. */
  private externalName(owner: string, svc: ServiceEntry, type: string, depth: number): Found {
    if (!svc.externalName) return noData();
    const cname: Answer = { type: 'CNAME', name: owner, ttl: this.cfg.ttl, data: svc.externalName };
    const inZone = labelsInZone(svc.externalName, this.cfg.zone);
    if (type === 'CNAME' || !inZone || depth >= MAX_CNAME_DEPTH) return this.found([cname]);
    const next = this.name(svc.externalName, inZone, type, depth + 1);
    // The rcode follows the last name of the chain (RFC 6604).
    return { exists: next.exists, answers: [cname, ...next.answers], additionals: next.additionals };
  }

  /**
   * SRV records of a service: for one named port (`port`/`proto` given) or for all its ports. A
   * ClusterIP service points at its own name; a headless one at each endpoint's name, with the
   * endpoints' A records as additional data.
   */
  private srv(owner: string, svc: ServiceEntry, type: string, port?: string, proto?: string): Found {
    const match = (p: { name: string; protocol: string }) => port === undefined || (p.name === port && p.protocol === proto);
    if (port !== undefined && !this.ports(svc).some((p) => p.name && match(p))) return NX;
    if (type !== 'SRV' && type !== 'ANY') return noData();
    const fqdn = `${svc.name}.${svc.namespace}.svc.${this.cfg.zone}`;
    const targets: Array<{ port: number; target: string; ip?: string }> = [];
    if (svc.kind === 'ExternalName') {
      for (const p of svc.ports) if (match(p) && svc.externalName) targets.push({ port: p.port, target: svc.externalName });
    } else if (svc.kind === 'ClusterIP') {
      for (const p of svc.ports) if (match(p)) targets.push({ port: p.port, target: fqdn, ip: svc.clusterIP });
    } else {
      for (const s of this.src.slices(svc.namespace, svc.name)) {
        for (const p of s.ports) {
          if (!match(p)) continue;
          for (const e of s.endpoints) if (e.ready || svc.publishNotReady) targets.push({ port: p.port, target: `${endpointLabel(e)}.${fqdn}`, ip: e.ip });
        }
      }
    }
    const seen = new Set<string>();
    const uniq = targets.filter((t) => !seen.has(`${t.target} ${t.port}`) && !!seen.add(`${t.target} ${t.port}`));
    // CoreDNS spreads weight 100 over the records of one priority.
    const weight = Math.max(1, Math.floor(100 / Math.max(1, uniq.length)));
    const answers: Answer[] = uniq.map((t) => ({ type: 'SRV', name: owner, ttl: this.cfg.ttl, data: { priority: 0, weight, port: t.port, target: t.target } }));
    const glue = new Map<string, Answer>();
    for (const t of uniq) if (t.ip) glue.set(`${t.target} ${t.ip}`, this.a(t.target, t.ip));
    return { exists: true, answers, additionals: [...glue.values()] };
  }

  /**
   * `<label>.<svc>…` of a headless service: endpoints whose hostname or dashed address is `label`.
   * Pods with that hostname and `subdomain: <svc>` answer only while no slice knows the name yet.
   */
  private endpoint(owner: string, svc: ServiceEntry, label: string, type: string): Found {
    if (svc.kind !== 'Headless') return NX;
    let known = false;
    const ips = new Set<string>();
    for (const s of this.src.slices(svc.namespace, svc.name)) {
      for (const e of s.endpoints) {
        if (e.hostname !== label && dashedIp(e.ip) !== label) continue;
        known = true;
        if (e.ready || svc.publishNotReady) ips.add(e.ip);
      }
    }
    if (!known) {
      for (const p of this.src.podsByHostname(svc.namespace, svc.name, label)) if (p.ip && (p.ready || svc.publishNotReady)) ips.add(p.ip);
    }
    if (ips.size === 0) return NX;
    return wantsA(type) ? this.found([...ips].map((ip) => this.a(owner, ip))) : noData();
  }

  /** `pods insecure`: any `a-b-c-d.<ns>.pod.<zone>` answers with the address in its name. */
  private podTree(owner: string, rest: string[], type: string): Found {
    if (rest.length < 2) return noData();
    const ip = rest.length === 2 ? ipFromDashed(rest[0]) : undefined;
    if (!ip) return NX;
    return wantsA(type) ? this.found([this.a(owner, ip)]) : noData();
  }

  private a(name: string, ip: string): Answer {
    return { type: 'A', name, ttl: this.cfg.ttl, data: ip };
  }

  private found(answers: Answer[]): Found {
    return { exists: true, answers, additionals: [] };
  }
}

/** PTR for a ClusterIP or a headless endpoint address; undefined (forward it) for any other. */
function reverse(name: string, owner: string, src: RecordSource, cfg: ResolverConfig): Answered | undefined {
  const ip = ipFromReverse(name);
  if (!ip) return undefined;
  const svc = src.serviceByClusterIP(ip);
  const targets = svc
    ? [`${svc.name}.${svc.namespace}.svc.${cfg.zone}`]
    : src.endpointsByIP(ip).filter(({ service, endpoint }) => endpoint.ready || service.publishNotReady)
      .map(({ service, endpoint }) => `${endpointLabel(endpoint)}.${service.name}.${service.namespace}.svc.${cfg.zone}`);
  if (targets.length === 0) return undefined;
  const answers: Answer[] = [...new Set(targets)].map((t) => ({ type: 'PTR', name: owner, ttl: cfg.ttl, data: t }));
  return { kind: 'answer', rcode: 'NOERROR', answers, authorities: [], additionals: [] };
}
