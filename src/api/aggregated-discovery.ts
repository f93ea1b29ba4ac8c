/**
 * Aggregated discovery (apidiscovery.k8s.io/v2 and v2beta1, KEP 3352): `/api` and `/apis` answer
 * with one APIGroupDiscoveryList holding every group, version and resource, so a client with a cold
 * cache makes two discovery requests instead of two plus one per group-version. Upstream:
 * staging/src/k8s.io/apiserver/pkg/endpoints/discovery/aggregated/ (handler.go, negotiation.go, etag.go).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ResourceInfo } from '../apis/resources.ts';
import { SUBRESOURCES, verbsOf } from './discovery.ts';

const GROUP = 'apidiscovery.k8s.io';
const LIST_KIND = 'APIGroupDiscoveryList';
/** The versions served, in the order Berth prefers them when a client accepts both. */
export const AGGREGATED_VERSIONS = ['v2', 'v2beta1'] as const;
export type AggregatedVersion = (typeof AGGREGATED_VERSIONS)[number];

/** One root's document, serialized once per registry generation, with its ETag. */
export interface AggregatedDocument { json: string; etag: string }
export interface AggregatedDiscovery {
  /** `/api`: the core group alone. */
  api: Record<AggregatedVersion, AggregatedDocument>;
  /** `/apis`: every named group. */
  apis: Record<AggregatedVersion, AggregatedDocument>;
}

type Gvk = { group: string; version: string; kind: string };

function resourceEntry(r: ResourceInfo): object {
  const gvk = (kind: string, group = r.group, version = r.version): Gvk => ({ group, version, kind });
  const e: Record<string, unknown> = {
    resource: r.plural, responseKind: gvk(r.kind), scope: r.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: r.singular, verbs: verbsOf(r),
  };
  if (r.shortNames?.length) e.shortNames = r.shortNames;
  if (r.categories?.length) e.categories = r.categories;
  const subs = (r.subresources ?? []).map((sub) => {
    const d = SUBRESOURCES[sub];
    // A subresource of another group's kind (scale → autoscaling/v1 Scale) names that group-version.
    return { subresource: sub, responseKind: gvk(d.kind ?? r.kind, d.group ?? r.group, d.version ?? r.version), verbs: d.verbs };
  });
  if (subs.length) e.subresources = subs;
  return e;
}

/**
 * The two documents' items: one APIGroupDiscovery per group, versions in the order the legacy
 * `/apis` lists them (its first is the preferred version, as upstream's ordering by priority
 * makes it), resources sorted by name as upstream sorts them.
 */
function groupItems(resources: ResourceInfo[]): { core: object[]; named: object[] } {
  const groups = new Map<string, Map<string, ResourceInfo[]>>();
  for (const r of resources) {
    if (!groups.has(r.group)) groups.set(r.group, new Map());
    const versions = groups.get(r.group)!;
    if (!versions.has(r.version)) versions.set(r.version, []);
    versions.get(r.version)!.push(r);
  }
  const item = (name: string, versions: Map<string, ResourceInfo[]>) => ({
    // Upstream's core group has an empty name, which ObjectMeta omits.
    metadata: name ? { name, creationTimestamp: null } : { creationTimestamp: null },
    versions: [...versions].map(([version, rs]) => ({
      version,
      resources: [...rs].sort((a, b) => (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0)).map(resourceEntry),
      // Berth serves every group itself: nothing is ever Stale (that is for unreachable aggregated APIServices).
      freshness: 'Current',
    })),
  });
  const core = groups.has('') ? [item('', groups.get('')!)] : [];
  const named = [...groups].filter(([g]) => g !== '').map(([g, vs]) => item(g, vs));
  return { core, named };
}

function doc(version: AggregatedVersion, items: object[]): AggregatedDocument {
  const json = JSON.stringify({ kind: LIST_KIND, apiVersion: `${GROUP}/${version}`, metadata: {}, items });
  // Upstream's ETag is a hash of the serialized document, quoted (etag.go); it changes exactly when the content does.
  return { json, etag: `"${createHash('sha256').update(json).digest('hex')}"` };
}

export function buildAggregatedDiscovery(resources: ResourceInfo[]): AggregatedDiscovery {
  const { core, named } = groupItems(resources);
  return {
    api: { v2: doc('v2', core), v2beta1: doc('v2beta1', core) },
    apis: { v2: doc('v2', named), v2beta1: doc('v2beta1', named) },
  };
}

/**
 * Which aggregated version the Accept header asks for, or undefined for the legacy documents.
 * The client's order decides (kubectl 1.32 sends v2, then v2beta1, then plain JSON — and protobuf
 * variants, which Berth does not serve, so they are passed over); a media type with q=0 is refused.
 * A plain `application/json` (or `*\/*`) before any aggregated type means the legacy document.
 */
export function negotiateAggregated(accept: string | undefined): AggregatedVersion | undefined {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    const [type, ...paramParts] = part.split(';').map((s) => s.trim());
    const params = new Map(paramParts.map((p) => {
      const i = p.indexOf('=');
      return [p.slice(0, i).trim().toLowerCase(), p.slice(i + 1).trim().replace(/^"|"$/g, '')] as const;
    }));
    if (params.get('q') !== undefined && Number(params.get('q')) === 0) continue;
    const t = type.toLowerCase();
    const json = t === 'application/json' || t === '*/*' || t === 'application/*';
    if (!json) continue;
    if (!params.has('g') && !params.has('v') && !params.has('as')) return undefined;
    if (params.get('g') !== GROUP || params.get('as') !== LIST_KIND) continue;
    const v = params.get('v');
    if (v === 'v2' || v === 'v2beta1') return v;
  }
  return undefined;
}

/** The Content-Type of an aggregated answer: clients tell the document apart by it, not by the body. */
export function aggregatedContentType(version: AggregatedVersion): string {
  return `application/json;g=${GROUP};v=${version};as=${LIST_KIND}`;
}

/** True when one of If-None-Match's entity tags (or `*`) matches; weak tags compare by their opaque part. */
function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.split(',').some((t) => {
    const s = t.trim().replace(/^W\//, '');
    return s === '*' || s === etag;
  });
}

/**
 * Answers an aggregated request: 304 when the client's cached copy is current, else the document.
 * Vary: Accept, because the same URL serves the legacy document to other clients.
 */
export function sendAggregated(req: IncomingMessage, res: ServerResponse, version: AggregatedVersion, d: AggregatedDocument): void {
  res.setHeader('Vary', 'Accept');
  res.setHeader('ETag', d.etag);
  if (etagMatches(req.headers['if-none-match'], d.etag)) {
    res.writeHead(304);
    res.end();
    return;
  }
  res.writeHead(200, { 'Content-Type': aggregatedContentType(version), 'Content-Length': Buffer.byteLength(d.json) });
  res.end(req.method === 'HEAD' ? undefined : d.json);
}
