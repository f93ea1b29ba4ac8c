/**
 * The browser's way to the Kubernetes API: every request carries the user's bearer token (kept in
 * sessionStorage — gone with the tab, as kubectl's token lives in a file the user owns), so each
 * action runs with the user's own rights. kubectl's rest client, in small.
 */
const TOKEN_KEY = 'berth.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (t: string) => sessionStorage.setItem(TOKEN_KEY, t.trim()),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** A Kubernetes Status answer as an Error. */
export class ApiFailure extends Error {
  constructor(readonly code: number, readonly reason: string, message: string, readonly status?: any) {
    super(message);
  }
}

/** Listeners for a 401: the token was refused (expired, revoked). */
export const onUnauthorized = new Set<() => void>();

export async function api(path: string, init: RequestInit & { json?: unknown; contentType?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  // Without a token of its own the page relies on what the browser sends (a header a test driver
  // adds to every request, as the interface promises): no empty one to override it.
  if (token.get()) headers.set('Authorization', `Bearer ${token.get()}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('Content-Type', init.contentType ?? 'application/json');
    body = JSON.stringify(init.json);
  }
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers, body });
  } catch (err) {
    // A read cut by a network change (Chromium aborts requests when interfaces change) is tried once more.
    if ((init.method ?? 'GET') !== 'GET' || init.signal?.aborted) throw err;
    await new Promise((r) => setTimeout(r, 300));
    res = await fetch(path, { ...init, headers, body });
  }
  if (res.status === 401) for (const f of onUnauthorized) f();
  if (!res.ok) {
    const text = await res.text();
    let st: any;
    try { st = JSON.parse(text); } catch { st = undefined; }
    throw new ApiFailure(res.status, st?.reason ?? res.statusText, st?.message ?? text.slice(0, 300), st);
  }
  return res;
}

export async function apiJson<T = any>(path: string, init?: Parameters<typeof api>[1]): Promise<T> {
  return (await api(path, init)).json() as Promise<T>;
}

/** A resource type as discovery lists it. */
export interface ResourceType {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

/** The URL path of a collection or object. */
export function resourceUrl(t: Pick<ResourceType, 'group' | 'version' | 'resource'>, namespace?: string, name?: string, sub?: string): string {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return `${base}${namespace ? `/namespaces/${encodeURIComponent(namespace)}` : ''}/${t.resource}${name ? `/${encodeURIComponent(name)}` : ''}${sub ? `/${sub}` : ''}`;
}

let discovered: Promise<ResourceType[]> | undefined;

/** Every listable, watchable top-level resource of every group's preferred version. */
export function discover(): Promise<ResourceType[]> {
  discovered ??= (async () => {
    const groups: { name: string; version: string }[] = [{ name: '', version: 'v1' }];
    const apis = await apiJson('/apis');
    for (const g of apis.groups ?? []) groups.push({ name: g.name, version: g.preferredVersion?.version ?? g.versions[0].version });
    const lists = await Promise.all(groups.map(async (g) => {
      const r = await apiJson(g.name ? `/apis/${g.name}/${g.version}` : '/api/v1').catch(() => ({ resources: [] }));
      return (r.resources as any[]).filter((x) => !x.name.includes('/') && x.verbs?.includes('list') && x.verbs?.includes('watch'))
        .map((x): ResourceType => ({ group: g.name, version: g.version, resource: x.name, kind: x.kind, namespaced: x.namespaced, verbs: x.verbs }));
    }));
    return lists.flat();
  })();
  discovered.catch(() => { discovered = undefined; });
  return discovered;
}

const ssarCache = new Map<string, Promise<boolean>>();

/**
 * Whether the user may do `verb` (SelfSubjectAccessReview, as `kubectl auth can-i`): controls the
 * user may not use are not shown. The server checks again on every request.
 */
export function can(verb: string, t: Pick<ResourceType, 'group' | 'resource'>, namespace?: string, subresource?: string): Promise<boolean> {
  const k = `${verb} ${t.group}/${t.resource}/${subresource ?? ''} ${namespace ?? ''}`;
  let p = ssarCache.get(k);
  if (!p) {
    p = apiJson('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
      method: 'POST',
      json: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { verb, group: t.group, resource: t.resource, subresource, namespace } } },
    }).then((r) => !!r.status?.allowed, () => false);
    ssarCache.set(k, p);
  }
  return p;
}

/** Who the token is (SelfSubjectReview, as `kubectl auth whoami`). */
export async function whoami(): Promise<string> {
  const r = await apiJson('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    method: 'POST', json: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return r.status?.userInfo?.username ?? '?';
}

export function resetCaches(): void {
  ssarCache.clear();
  discovered = undefined;
}
