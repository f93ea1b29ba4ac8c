/**
 * Aggregated discovery end to end with real kubectl 1.32 against a `berth server` (TLS, the admin
 * kubeconfig): a cold `kubectl get pods` fetches only /api and /apis (counted in its -v=6 log),
 * `kubectl api-resources` lists what the legacy per-group documents list, a CRD appears in the
 * aggregated document without a restart, and raw requests see the content negotiation and 304.
 * Upstream: test/e2e/apimachinery/discovery.go, test/integration/apiserver/discovery/.
 * Run: node --import tsx --test test/e2e/aggregated-discovery.test.ts
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertOk } from '../support/kubectl-assert.ts';
import { kubectl, type KubectlResult } from '../support/kubectl.ts';

const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const KUBECTL_ACCEPT = `${AGGREGATED_V2},application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json`;

/** The paths (without query) of every request kubectl logged at -v=6, in order. */
function requestedPaths(stderr: string): { method: string; path: string; status: number }[] {
  const out: { method: string; path: string; status: number }[] = [];
  for (const m of stderr.matchAll(/\] (GET|POST|PUT|PATCH|DELETE|HEAD) (https?:\/\/\S+) (\d{3})/g)) {
    out.push({ method: m[1], path: new URL(m[2]).pathname, status: Number(m[3]) });
  }
  return out;
}

describe('aggregated discovery (kubectl 1.32)', { timeout: 180_000 }, () => {
  let server: BerthServer;
  const dirs: string[] = [];
  /** kubectl with a cache dir of its own: each call a cold start unless a dir is passed. */
  const cold = async (args: string[], cacheDir?: string): Promise<KubectlResult> => {
    const dir = cacheDir ?? await mkdtemp(path.join(os.tmpdir(), 'berth-e2e-aggdisc-'));
    if (!cacheDir) dirs.push(dir);
    return kubectl(args, { kubeconfig: server.kubeconfig, cacheDir: dir, timeoutMs: 60_000 });
  };

  before(async () => { server = await startBerth(); });
  after(async () => {
    await server?.cleanup();
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('a cold `kubectl get pods` makes two discovery requests: /api and /apis', async () => {
    const r = await cold(['get', 'pods', '-A', '-v=6']);
    assertOk(r, 'kubectl get pods');
    const reqs = requestedPaths(r.stderr);
    const discovery = reqs.filter((q) => !/\/(namespaces|pods)(\/|$)/.test(q.path));
    assert.deepEqual(discovery.map((q) => q.path), ['/api', '/apis'], r.stderr);
    assert.ok(reqs.some((q) => q.path === '/api/v1/pods'), r.stderr);
  });

  it('`kubectl api-resources` lists the same resources as the legacy per-group-version documents', async () => {
    const r = await cold(['api-resources', '-o', 'name', '-v=6']);
    const fromKubectl = assertOk(r, 'kubectl api-resources').trim().split('\n').sort();
    assert.deepEqual(requestedPaths(r.stderr).map((q) => q.path), ['/api', '/apis'], 'no per-group requests');
    // The legacy path, as a client without aggregated discovery sees it.
    const legacy: string[] = [];
    const lists = async (gv: string, prefix: string) => {
      const res = await server.request('GET', `${prefix}/${gv}`, { headers: { accept: 'application/json' } });
      assert.equal(res.status, 200);
      for (const x of res.json.resources as { name: string }[]) {
        if (!x.name.includes('/')) legacy.push(gv.includes('/') ? `${x.name}.${gv.split('/')[0]}` : x.name);
      }
    };
    await lists('v1', '/api');
    const groups = (await server.request('GET', '/apis', { headers: { accept: 'application/json' } })).json;
    assert.equal(groups.kind, 'APIGroupList');
    // api-resources shows each resource once, in the group's preferred version.
    for (const g of groups.groups as { preferredVersion: { groupVersion: string } }[]) await lists(g.preferredVersion.groupVersion, '/apis');
    assert.deepEqual(fromKubectl, [...new Set(legacy)].sort());
  });

  it('negotiates: v2 with its Content-Type and Vary, the legacy types as fallback, 304 for a current ETag', async () => {
    const agg = await server.request('GET', '/apis', { headers: { accept: KUBECTL_ACCEPT } });
    assert.equal(agg.status, 200);
    assert.equal(agg.headers['content-type'], AGGREGATED_V2);
    assert.equal(agg.headers.vary, 'Accept');
    assert.equal(agg.json.kind, 'APIGroupDiscoveryList');
    const etag = agg.headers.etag as string;
    assert.match(etag, /^"[0-9a-f]{64}"$/);
    const again = await server.request('GET', '/apis', { headers: { accept: KUBECTL_ACCEPT, 'if-none-match': etag } });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const beta = await server.request('GET', '/api', { headers: { accept: 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json' } });
    assert.equal(beta.json.apiVersion, 'apidiscovery.k8s.io/v2beta1');
    assert.ok(beta.json.items[0].versions[0].resources.some((r: { resource: string }) => r.resource === 'pods'));
    const legacy = await server.request('GET', '/api', { headers: { accept: 'application/json' } });
    assert.equal(legacy.json.kind, 'APIVersions');
  });

  it('a CRD shows up in the aggregated document and in kubectl without a restart', async () => {
    const before = await server.request('GET', '/apis', { headers: { accept: KUBECTL_ACCEPT } });
    const warm = await mkdtemp(path.join(os.tmpdir(), 'berth-e2e-aggdisc-'));
    dirs.push(warm);
    assertOk(await cold(['get', 'pods'], warm), 'warm the cache before the CRD');
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.agg.example.com' },
      spec: {
        group: 'agg.example.com', scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', shortNames: ['wdg'], categories: ['all'] },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } }, subresources: { status: {} } }],
      },
    };
    assertOk(await server.kubectl(['apply', '-f', '-'], { input: JSON.stringify(crd) }), 'apply CRD');
    assertOk(await server.kubectl(['wait', '--for=condition=Established', 'crd/widgets.agg.example.com', '--timeout=60s']), 'wait Established');
    const now = await server.request('GET', '/apis', { headers: { accept: KUBECTL_ACCEPT, 'if-none-match': before.headers.etag as string } });
    assert.equal(now.status, 200, 'the old ETag is no longer current');
    const item = now.json.items.find((i: { metadata: { name: string } }) => i.metadata.name === 'agg.example.com');
    assert.ok(item, 'the CRD group is listed');
    assert.deepEqual(item.versions[0].resources[0].shortNames, ['wdg']);
    assert.deepEqual(item.versions[0].resources[0].subresources.map((s: { subresource: string }) => s.subresource), ['status']);
    // A cold kubectl finds it by short name; the cache warmed before the CRD refreshes on the miss.
    assertOk(await cold(['get', 'wdg', '-A']), 'cold kubectl get wdg');
    assertOk(await cold(['get', 'widgets.agg.example.com', '-A'], warm), 'warm kubectl get widgets');
    // Deleting the CRD takes it out of discovery again.
    assertOk(await server.kubectl(['delete', 'crd', 'widgets.agg.example.com', '--wait=true']), 'delete CRD');
    let gone = false;
    for (let i = 0; i < 60 && !gone; i++) {
      const r = await server.request('GET', '/apis', { headers: { accept: KUBECTL_ACCEPT } });
      gone = !r.json.items.some((x: { metadata: { name: string } }) => x.metadata.name === 'agg.example.com');
      if (!gone) await new Promise((res) => setTimeout(res, 500));
    }
    assert.ok(gone, 'the CRD group left the aggregated document');
  });
});
