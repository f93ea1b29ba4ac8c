/**
 * The REST operations Berth serves for each resource, described neutrally (paths, verbs, query
 * parameters, body and response types) so documents.ts can render them as swagger 2.0 or OpenAPI 3.0.
 * Mirrors the shape of Kubernetes' own documents: list/create/deletecollection on the collection,
 * read/replace/patch/delete on the item, and the status, approval, scale, eviction and binding subresources.
 */
import { verbsOf } from '../discovery.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import { packageFor } from '../../apis/openapi/definitions.ts';

export interface Gvk {
  group: string;
  version: string;
  kind: string;
}

/** One operation; `body`/`responses` name definitions (or `string` for plain text). */
export interface OperationSpec {
  method: 'get' | 'put' | 'post' | 'patch' | 'delete';
  operationId: string;
  description: string;
  action: string;
  gvk: Gvk;
  query: string[];
  body?: string;
  /** Patch operations accept every patch content type. */
  patch?: boolean;
  responses: Record<string, string>;
}

export interface PathSpec {
  path: string;
  /** Path parameters, in order of appearance. */
  pathParams: ('namespace' | 'name')[];
  operations: OperationSpec[];
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
export const PATCH_CONTENT_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

/** Descriptions of the query parameters Berth documents. */
export const QUERY_PARAMS: Record<string, { type: 'string' | 'boolean' | 'integer'; description: string }> = {
  pretty: { type: 'string', description: "If 'true', then the output is pretty printed." },
  dryRun: { type: 'string', description: 'When present, indicates that modifications should not be persisted. Valid values are: - All: all dry run stages will be processed' },
  fieldManager: { type: 'string', description: 'fieldManager is a name associated with the actor or entity that is making these changes.' },
  fieldValidation: { type: 'string', description: 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict (the default).' },
  force: { type: 'boolean', description: 'Force is going to "force" Apply requests. It must be unset for non-apply patch requests.' },
  labelSelector: { type: 'string', description: 'A selector to restrict the list of returned objects by their labels. Defaults to everything.' },
  fieldSelector: { type: 'string', description: 'A selector to restrict the list of returned objects by their fields. Defaults to everything.' },
  limit: { type: 'integer', description: 'limit is a maximum number of responses to return for a list call.' },
  continue: { type: 'string', description: 'The continue option should be set when retrieving more results from the server.' },
  resourceVersion: { type: 'string', description: 'resourceVersion sets a constraint on what resource versions a request may be served from.' },
  resourceVersionMatch: { type: 'string', description: 'resourceVersionMatch determines how resourceVersion is applied to list calls.' },
  watch: { type: 'boolean', description: 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.' },
  allowWatchBookmarks: { type: 'boolean', description: 'allowWatchBookmarks requests watch events with type "BOOKMARK".' },
  timeoutSeconds: { type: 'integer', description: 'Timeout for the list/watch call.' },
  sendInitialEvents: { type: 'boolean', description: 'sendInitialEvents=true may be set together with watch=true.' },
  gracePeriodSeconds: { type: 'integer', description: 'The duration in seconds before the object should be deleted.' },
  propagationPolicy: { type: 'string', description: "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'." },
};

const LIST_QUERY = ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion', 'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'];
const WRITE_QUERY = ['dryRun', 'fieldManager', 'fieldValidation'];
const PATCH_QUERY = ['dryRun', 'fieldManager', 'fieldValidation', 'force'];
const DELETE_QUERY = ['dryRun', 'gracePeriodSeconds', 'propagationPolicy'];

/** `apps` → `Apps`, `coordination.k8s.io` → `Coordination`, '' → `Core` (Kubernetes operationId style). */
function groupWord(group: string): string {
  if (!group) return 'Core';
  return group.replace(/\.k8s\.io$/, '').split('.').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}

/** URL prefix of a group-version: `/api/v1` or `/apis/apps/v1`. */
export function groupVersionPrefix(group: string, version: string): string {
  return group ? `/apis/${group}/${version}` : `/api/${version}`;
}

/** Every path Berth documents for one resource. */
export function resourcePaths(r: ResourceInfo): PathSpec[] {
  const gvk: Gvk = { group: r.group, version: r.version, kind: r.kind };
  const def = `${packageFor(r.group, r.version)}.${r.kind}`;
  const gv = groupWord(r.group) + r.version[0].toUpperCase() + r.version.slice(1);
  const scoped = r.namespaced ? `Namespaced${r.kind}` : r.kind;
  const prefix = groupVersionPrefix(r.group, r.version);
  const collection = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}` : `${prefix}/${r.plural}`;
  const collParams: PathSpec['pathParams'] = r.namespaced ? ['namespace'] : [];
  const itemParams: PathSpec['pathParams'] = r.namespaced ? ['name', 'namespace'] : ['name'];
  const id = (verb: string, suffix = '') => `${verb}${gv}${scoped}${suffix}`;
  const op = (o: Omit<OperationSpec, 'gvk'> & { gvk?: Gvk }): OperationSpec => ({ gvk, ...o });

  // A create-only resource (the reviews) has one operation: POST to its collection.
  if (r.verbs && !r.verbs.includes('list')) {
    return [{ path: collection, pathParams: collParams, operations: [op({ method: 'post', operationId: id('create'), description: `create a ${r.kind}`, action: 'post', query: WRITE_QUERY, body: def, responses: { 200: def, 201: def, 202: def } })] }];
  }
  const paths: PathSpec[] = [
    {
      path: collection,
      pathParams: collParams,
      operations: [
        op({ method: 'get', operationId: id('list'), description: `list or watch objects of kind ${r.kind}`, action: 'list', query: LIST_QUERY, responses: { 200: `${def}List` } }),
        op({ method: 'post', operationId: id('create'), description: `create a ${r.kind}`, action: 'post', query: WRITE_QUERY, body: def, responses: { 200: def, 201: def, 202: def } }),
        ...(verbsOf(r).includes('deletecollection') ? [op({ method: 'delete', operationId: id('deleteCollection'), description: `delete collection of ${r.kind}`, action: 'deletecollection', query: [...DELETE_QUERY, ...LIST_QUERY.filter((q) => q !== 'watch' && q !== 'allowWatchBookmarks')], body: `${META}.DeleteOptions`, responses: { 200: `${META}.Status` } })] : []),
      ],
    },
    {
      path: `${collection}/{name}`,
      pathParams: itemParams,
      operations: [
        op({ method: 'get', operationId: id('read'), description: `read the specified ${r.kind}`, action: 'get', query: [], responses: { 200: def } }),
        op({ method: 'put', operationId: id('replace'), description: `replace the specified ${r.kind}`, action: 'put', query: WRITE_QUERY, body: def, responses: { 200: def, 201: def } }),
        op({ method: 'patch', operationId: id('patch'), description: `partially update the specified ${r.kind}`, action: 'patch', query: PATCH_QUERY, body: `${META}.Patch`, patch: true, responses: { 200: def, 201: def } }),
        op({ method: 'delete', operationId: id('delete'), description: `delete a ${r.kind}`, action: 'delete', query: DELETE_QUERY, body: `${META}.DeleteOptions`, responses: { 200: def, 202: def } }),
      ],
    },
  ];
  if (r.namespaced) {
    paths.push({
      path: `${prefix}/${r.plural}`,
      pathParams: [],
      operations: [op({ method: 'get', operationId: `list${gv}${r.kind}ForAllNamespaces`, description: `list or watch objects of kind ${r.kind}`, action: 'list', query: LIST_QUERY, responses: { 200: `${def}List` } })],
    });
  }
  const sub = (name: string, word: string, subGvk: Gvk, subDef: string) => ({
    path: `${collection}/{name}/${name}`,
    pathParams: itemParams,
    operations: [
      op({ method: 'get', operationId: id('read', word), description: `read ${name} of the specified ${r.kind}`, action: 'get', gvk: subGvk, query: [], responses: { 200: subDef } }),
      op({ method: 'put', operationId: id('replace', word), description: `replace ${name} of the specified ${r.kind}`, action: 'put', gvk: subGvk, query: WRITE_QUERY, body: subDef, responses: { 200: subDef, 201: subDef } }),
      op({ method: 'patch', operationId: id('patch', word), description: `partially update ${name} of the specified ${r.kind}`, action: 'patch', gvk: subGvk, query: PATCH_QUERY, body: `${META}.Patch`, patch: true, responses: { 200: subDef, 201: subDef } }),
    ],
  });
  const subs = r.subresources ?? [];
  if (subs.includes('status')) paths.push(sub('status', 'Status', gvk, def));
  if (subs.includes('approval')) paths.push(sub('approval', 'Approval', gvk, def));
  if (subs.includes('scale')) paths.push(sub('scale', 'Scale', { group: 'autoscaling', version: 'v1', kind: 'Scale' }, 'io.k8s.api.autoscaling.v1.Scale'));
  const create = (name: string, subGvk: Gvk, subDef: string) => ({
    path: `${collection}/{name}/${name}`,
    pathParams: itemParams,
    operations: [op({ method: 'post', operationId: id('create', name[0].toUpperCase() + name.slice(1)), description: `create ${name} of a ${r.kind}`, action: 'post', gvk: subGvk, query: WRITE_QUERY, body: subDef, responses: { 200: subDef, 201: subDef, 202: subDef } })],
  });
  if (subs.includes('eviction')) paths.push(create('eviction', { group: 'policy', version: 'v1', kind: 'Eviction' }, 'io.k8s.api.policy.v1.Eviction'));
  if (subs.includes('binding')) paths.push(create('binding', { group: '', version: 'v1', kind: 'Binding' }, 'io.k8s.api.core.v1.Binding'));
  if (subs.includes('token')) paths.push(create('token', { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }, 'io.k8s.api.authentication.v1.TokenRequest'));
  return paths;
}
