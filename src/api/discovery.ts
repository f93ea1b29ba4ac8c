/**
 * Legacy (unaggregated) discovery documents: /api, /apis, /api/v1 and /apis/<group>/<version>, built
 * once from the resource list. kubectl reads these to map kinds and short names to URLs.
 */
import type { ResourceInfo, Subresource } from '../apis/resources.ts';
import { groupVersion } from '../apis/resources.ts';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/**
 * The verbs a resource serves: its own list when it has one (create only, for the reviews), else all,
 * except deletecollection on namespaces, which Kubernetes' namespace storage does not offer (a DELETE
 * on the collection is a 405). The handlers refuse what is not here.
 */
export function verbsOf(r: Pick<ResourceInfo, 'group' | 'plural' | 'verbs'>): readonly string[] {
  if (r.verbs) return r.verbs;
  return r.group === '' && r.plural === 'namespaces' ? ALL_VERBS.filter((v) => v !== 'deletecollection') : ALL_VERBS;
}

/** What each subresource is, as Kubernetes' discovery lists it. */
export const SUBRESOURCES: Record<Subresource, { kind?: string; group?: string; version?: string; verbs: string[] }> = {
  status: { verbs: ['get', 'patch', 'update'] },
  scale: { kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] },
  binding: { kind: 'Binding', verbs: ['create'] },
  eviction: { kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
  log: { kind: 'Pod', verbs: ['get'] },
  exec: { kind: 'PodExecOptions', verbs: ['create', 'get'] },
  attach: { kind: 'PodAttachOptions', verbs: ['create', 'get'] },
  portforward: { kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
  proxy: { kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  finalize: { verbs: ['update'] },
  approval: { verbs: ['get', 'patch', 'update'] },
  token: { kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] },
};

export interface Discovery {
  api: object;
  apis: object;
  /** Keyed by group-version path: `v1` or `apps/v1`. */
  resourceLists: Map<string, object>;
}

export function buildDiscovery(resources: ResourceInfo[]): Discovery {
  const groups = new Map<string, Set<string>>();
  const lists = new Map<string, object[]>();
  for (const r of resources) {
    if (r.group) {
      if (!groups.has(r.group)) groups.set(r.group, new Set());
      groups.get(r.group)!.add(r.version);
    }
    const gv = groupVersion(r);
    if (!lists.has(gv)) lists.set(gv, []);
    const entries = lists.get(gv)!;
    const main: Record<string, unknown> = {
      name: r.plural, singularName: r.singular, namespaced: r.namespaced, kind: r.kind, verbs: verbsOf(r),
    };
    if (r.shortNames?.length) main.shortNames = r.shortNames;
    if (r.categories?.length) main.categories = r.categories;
    entries.push(main);
    for (const sub of r.subresources ?? []) {
      const d = SUBRESOURCES[sub];
      const e: Record<string, unknown> = { name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced, kind: d.kind ?? r.kind, verbs: d.verbs };
      if (d.group) { e.group = d.group; e.version = d.version; }
      entries.push(e);
    }
  }
  const resourceLists = new Map<string, object>();
  for (const [gv, resourcesOf] of lists) {
    resourceLists.set(gv, { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources: resourcesOf });
  }
  const apis = {
    kind: 'APIGroupList', apiVersion: 'v1',
    groups: [...groups].map(([name, versions]) => {
      const vs = [...versions].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
      return { name, versions: vs, preferredVersion: vs[0] };
    }),
  };
  const api = { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '' }] };
  return { api, apis, resourceLists };
}

/** `/version`: gitVersion must be valid semver for kubectl; Berth reports the API level it serves. */
export function versionInfo(berthVersion: string): object {
  return {
    major: '1', minor: '32', gitVersion: `v1.32.0+berth-${berthVersion}`, gitCommit: '', gitTreeState: 'clean',
    buildDate: '2026-11-24T00:00:00Z', goVersion: `node${process.versions.node}`, compiler: 'berth',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
