/**
 * The OpenAPI documents served at /openapi/v2 (swagger 2.0, JSON) and /openapi/v3 (an index plus one
 * OpenAPI 3.0 document per group-version). kubectl reads the v3 index, fetches a group-version, and
 * looks for the kind's `patch` operation with `x-kubernetes-group-version-kind` and a
 * `fieldValidation` query parameter to decide on server-side field validation.
 * Documents are built once and cached; the v3 hash is a sha256 of the serialized document.
 */
import { createHash } from 'node:crypto';
import { RESOURCES, groupVersion } from '../../apis/resources.ts';
import { loadDefinitions, refName, type Definitions, type Schema } from '../../apis/openapi/definitions.ts';
import { PATCH_CONTENT_TYPES, QUERY_PARAMS, resourcePaths, type OperationSpec, type PathSpec } from './operations.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
/** Definitions every document carries (errors, deletes, watch events, patch bodies). */
const ALWAYS = [`${META}.Status`, `${META}.DeleteOptions`, `${META}.WatchEvent`, `${META}.Patch`];

interface V3Cached {
  doc: object;
  json: string;
  hash: string;
}

let v2Cache: object | undefined;
const v3Cache = new Map<string, V3Cached>();
let indexCache: object | undefined;

/** `api/v1` / `apis/apps/v1` for each group-version in RESOURCES, in first-seen order. */
export function groupVersionPaths(): string[] {
  return [...new Set(RESOURCES.map((r) => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`)))];
}

/** Transitive closure of definitions referenced from `roots`. */
export function closure(roots: string[], defs: Definitions): string[] {
  const seen = new Set<string>();
  const stack = [...roots];
  while (stack.length) {
    const name = stack.pop()!;
    if (seen.has(name) || !defs[name]) continue;
    seen.add(name);
    for (const m of JSON.stringify(defs[name]).matchAll(/"\$ref":"([^"]+)"/g)) stack.push(refName(m[1]));
  }
  return [...seen].sort();
}

/** Definitions named by the paths' bodies and responses. */
export function referencedBy(paths: PathSpec[]): string[] {
  const out = new Set<string>(ALWAYS);
  for (const p of paths) {
    for (const op of p.operations) {
      if (op.body) out.add(op.body);
      for (const d of Object.values(op.responses)) out.add(d);
    }
  }
  return [...out];
}

function pathParam(name: 'name' | 'namespace', v3: boolean): object {
  const description = name === 'name' ? 'name of the object' : 'object name and auth scope, such as for teams and projects';
  return v3
    ? { name, in: 'path', description, required: true, schema: { type: 'string', uniqueItems: true } }
    : { name, in: 'path', description, required: true, type: 'string', uniqueItems: true };
}

function queryParam(name: string, v3: boolean): object {
  const { type, description } = QUERY_PARAMS[name];
  return v3
    ? { name, in: 'query', description, schema: { type, uniqueItems: true } }
    : { name, in: 'query', description, type, uniqueItems: true };
}

function renderOperation(op: OperationSpec, v3: boolean, tag: string): object {
  const ref = (d: string) => ({ $ref: v3 ? `#/components/schemas/${d}` : `#/definitions/${d}` });
  const out: Record<string, unknown> = { tags: [tag], description: op.description, operationId: op.operationId };
  const params = op.query.map((q) => queryParam(q, v3));
  if (v3) {
    out.parameters = params;
    if (op.body) {
      const types = op.patch ? PATCH_CONTENT_TYPES : ['*/*'];
      out.requestBody = { content: Object.fromEntries(types.map((t) => [t, { schema: ref(op.body!) }])), required: !!op.patch || op.method !== 'delete' };
    }
    out.responses = Object.fromEntries(
      Object.entries(op.responses).map(([code, d]) => [code, { description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK', content: { 'application/json': { schema: ref(d) }, 'application/yaml': { schema: ref(d) } } }]),
    );
  } else {
    out.consumes = op.patch ? PATCH_CONTENT_TYPES : ['*/*'];
    out.produces = ['application/json', 'application/yaml'];
    out.schemes = ['https'];
    if (op.body) params.unshift({ name: 'body', in: 'body', required: op.method !== 'delete', schema: ref(op.body) });
    out.parameters = params;
    out.responses = Object.fromEntries(
      Object.entries(op.responses).map(([code, d]) => [code, { description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK', schema: ref(d) }]),
    );
  }
  out['x-kubernetes-action'] = op.action;
  out['x-kubernetes-group-version-kind'] = op.gvk;
  return out;
}

export function renderPaths(paths: PathSpec[], v3: boolean): Record<string, object> {
  const out: Record<string, object> = {};
  for (const p of paths) {
    const item: Record<string, unknown> = {};
    for (const op of p.operations) {
      const tag = `${op.gvk.group ? op.gvk.group.replace(/\.k8s\.io$/, '').replaceAll('.', '_') : 'core'}_${op.gvk.version}`;
      item[op.method] = renderOperation(op, v3, tag);
    }
    item.parameters = [...p.pathParams.map((n) => pathParam(n, v3)), queryParam('pretty', v3)];
    out[p.path] = item;
  }
  return out;
}

function pathsFor(gvPath: string): PathSpec[] {
  return RESOURCES.filter((r) => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`) === gvPath).flatMap(resourcePaths);
}

/** Definitions `names` with refs rewritten for OpenAPI 3 (`#/components/schemas/…`). */
export function v3Schemas(names: string[], defs: Definitions): Record<string, Schema> {
  const subset: Record<string, Schema> = {};
  for (const n of names) subset[n] = defs[n];
  return JSON.parse(JSON.stringify(subset).replaceAll('"#/definitions/', '"#/components/schemas/')) as Record<string, Schema>;
}

function buildV3(gvPath: string): V3Cached | undefined {
  const cached = v3Cache.get(gvPath);
  if (cached) return cached;
  const paths = pathsFor(gvPath);
  if (!paths.length) return undefined;
  const defs = loadDefinitions();
  const doc = {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths: renderPaths(paths, true),
    components: {
      schemas: v3Schemas(closure(referencedBy(paths), defs), defs),
      securitySchemes: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    },
  };
  const json = JSON.stringify(doc);
  const entry = { doc, json, hash: createHash('sha256').update(json).digest('hex').toUpperCase() };
  v3Cache.set(gvPath, entry);
  return entry;
}

/**
 * OpenAPI 3.0 document for one group-version path (`api/v1`, `apis/apps/v1`); undefined when Berth
 * serves nothing there. Cached: later calls return the same object.
 */
export function buildOpenApiV3(groupVersionPath: string): object | undefined {
  return buildV3(groupVersionPath.replace(/^\/+|\/+$/g, ''))?.doc;
}

/** The v3 document already serialized, with its hash (for ETag / `?hash=` handling). */
export function openApiV3Serialized(groupVersionPath: string): { json: string; hash: string } | undefined {
  const e = buildV3(groupVersionPath.replace(/^\/+|\/+$/g, ''));
  return e && { json: e.json, hash: e.hash };
}

/** `GET /openapi/v3`: `{"paths": {"api/v1": {"serverRelativeURL": "/openapi/v3/api/v1?hash=…"}, …}}`. */
export function buildOpenApiV3Index(): object {
  indexCache ??= {
    paths: Object.fromEntries(groupVersionPaths().map((p) => [p, { serverRelativeURL: `/openapi/v3/${p}?hash=${buildV3(p)!.hash}` }])),
  };
  return indexCache;
}

/** `GET /openapi/v2`: swagger 2.0 with every definition and every resource path. Cached. */
export function buildOpenApiV2(): object {
  if (v2Cache) return v2Cache;
  const defs = loadDefinitions();
  const paths = groupVersionPaths().flatMap(pathsFor);
  v2Cache = {
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths: renderPaths(paths, false),
    definitions: defs,
    securityDefinitions: { BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' } },
    security: [{ BearerToken: [] }],
  };
  return v2Cache;
}

/** Group-version string (`apps/v1`) for a v3 path (`apis/apps/v1`); exported for routing/tests. */
export function groupVersionOfPath(gvPath: string): string | undefined {
  const r = RESOURCES.find((x) => (x.group ? `apis/${x.group}/${x.version}` : `api/${x.version}`) === gvPath);
  return r && groupVersion(r);
}
