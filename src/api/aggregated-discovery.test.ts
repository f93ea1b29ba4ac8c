/** Aggregated discovery documents, Accept negotiation and ETag revalidation (upstream: aggregated/handler_test.go). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RESOURCES, type ResourceInfo } from '../apis/resources.ts';
import { buildDiscovery } from './discovery.ts';
import { aggregatedContentType, buildAggregatedDiscovery, negotiateAggregated, sendAggregated } from './aggregated-discovery.ts';

const CRD: ResourceInfo = {
  group: 'stable.example.com', version: 'v1', kind: 'CronTab', plural: 'crontabs', singular: 'crontab',
  namespaced: true, shortNames: ['ct'], categories: ['all'], subresources: ['status', 'scale'],
};
const KUBECTL_ACCEPT = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json';

type Item = { metadata: { name?: string }; versions: { version: string; freshness: string; resources: Res[] }[] };
type Res = { resource: string; responseKind: object; scope: string; singularResource: string; verbs: string[]; shortNames?: string[]; categories?: string[]; subresources?: { subresource: string; responseKind: object; verbs: string[] }[] };
const parse = (json: string) => JSON.parse(json) as { kind: string; apiVersion: string; items: Item[] };

test('the core group: /api holds one nameless group with v1 and its resources sorted, pods with subresources', () => {
  const d = parse(buildAggregatedDiscovery(RESOURCES).api.v2.json);
  assert.equal(d.kind, 'APIGroupDiscoveryList');
  assert.equal(d.apiVersion, 'apidiscovery.k8s.io/v2');
  assert.equal(d.items.length, 1);
  assert.equal(d.items[0].metadata.name, undefined);
  const [v1] = d.items[0].versions;
  assert.equal(v1.version, 'v1');
  assert.equal(v1.freshness, 'Current');
  const names = v1.resources.map((r) => r.resource);
  assert.deepEqual(names, [...names].sort());
  const pods = v1.resources.find((r) => r.resource === 'pods')!;
  assert.deepEqual(pods.responseKind, { group: '', version: 'v1', kind: 'Pod' });
  assert.equal(pods.scope, 'Namespaced');
  assert.equal(pods.singularResource, 'pod');
  assert.deepEqual(pods.shortNames, ['po']);
  assert.deepEqual(pods.categories, ['all']);
  assert.ok(pods.verbs.includes('watch') && pods.verbs.includes('deletecollection'));
  const eviction = pods.subresources!.find((s) => s.subresource === 'eviction')!;
  assert.deepEqual(eviction, { subresource: 'eviction', responseKind: { group: 'policy', version: 'v1', kind: 'Eviction' }, verbs: ['create'] });
  const ns = v1.resources.find((r) => r.resource === 'namespaces')!;
  assert.equal(ns.scope, 'Cluster');
  assert.ok(!ns.verbs.includes('deletecollection'));
});

test('apps/v1 in /apis: deployments with the scale subresource answering autoscaling/v1 Scale', () => {
  const d = parse(buildAggregatedDiscovery(RESOURCES).apis.v2.json);
  assert.ok(!d.items.some((i) => !i.metadata.name), 'no core group under /apis');
  const apps = d.items.find((i) => i.metadata.name === 'apps')!;
  const deploy = apps.versions.find((v) => v.version === 'v1')!.resources.find((r) => r.resource === 'deployments')!;
  assert.deepEqual(deploy.responseKind, { group: 'apps', version: 'v1', kind: 'Deployment' });
  assert.deepEqual(deploy.shortNames, ['deploy']);
  assert.deepEqual(deploy.subresources, [
    { subresource: 'status', responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' }, verbs: ['get', 'patch', 'update'] },
    { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
  ]);
});

test('the aggregated documents list the same groups, versions and resources as the legacy ones', () => {
  const all = [...RESOURCES, CRD];
  const legacy = buildDiscovery(all);
  const agg = buildAggregatedDiscovery(all);
  const fromAgg = new Set<string>();
  for (const i of [...parse(agg.api.v2.json).items, ...parse(agg.apis.v2.json).items]) {
    for (const v of i.versions) {
      for (const r of v.resources) {
        fromAgg.add(`${i.metadata.name ? `${i.metadata.name}/` : ''}${v.version} ${r.resource}`);
        for (const s of r.subresources ?? []) fromAgg.add(`${i.metadata.name ? `${i.metadata.name}/` : ''}${v.version} ${r.resource}/${s.subresource}`);
      }
    }
  }
  const fromLegacy = new Set<string>();
  for (const [gv, list] of legacy.resourceLists) for (const r of (list as { resources: { name: string }[] }).resources) fromLegacy.add(`${gv} ${r.name}`);
  assert.deepEqual([...fromAgg].sort(), [...fromLegacy].sort());
  // Group order and preferred (first) version agree with the legacy /apis.
  const legacyGroups = (legacy.apis as { groups: { name: string; preferredVersion: { version: string } }[] }).groups;
  const aggItems = parse(agg.apis.v2.json).items;
  assert.deepEqual(aggItems.map((i) => i.metadata.name), legacyGroups.map((g) => g.name));
  assert.deepEqual(aggItems.map((i) => i.versions[0].version), legacyGroups.map((g) => g.preferredVersion.version));
});

test('a CRD appears as its own group with scope, short names, categories and subresources; the ETag changes', () => {
  const before = buildAggregatedDiscovery(RESOURCES);
  const after = buildAggregatedDiscovery([...RESOURCES, CRD]);
  const item = parse(after.apis.v2.json).items.find((i) => i.metadata.name === 'stable.example.com')!;
  assert.deepEqual(item.versions[0].resources[0], {
    resource: 'crontabs', responseKind: { group: 'stable.example.com', version: 'v1', kind: 'CronTab' }, scope: 'Namespaced',
    singularResource: 'crontab', verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
    shortNames: ['ct'], categories: ['all'],
    subresources: [
      { subresource: 'status', responseKind: { group: 'stable.example.com', version: 'v1', kind: 'CronTab' }, verbs: ['get', 'patch', 'update'] },
      { subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] },
    ],
  });
  assert.notEqual(before.apis.v2.etag, after.apis.v2.etag);
  assert.equal(before.api.v2.etag, after.api.v2.etag, 'the core document did not change');
  assert.equal(parse(after.apis.v2beta1.json).apiVersion, 'apidiscovery.k8s.io/v2beta1');
});

test('Accept negotiation: the client order decides, protobuf and q=0 are passed over, legacy types fall back', () => {
  assert.equal(negotiateAggregated(KUBECTL_ACCEPT), 'v2');
  assert.equal(negotiateAggregated('application/vnd.kubernetes.protobuf;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'), 'v2');
  assert.equal(negotiateAggregated('application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,application/json'), 'v2beta1');
  assert.equal(negotiateAggregated('application/json; g=apidiscovery.k8s.io; v="v2"; as=APIGroupDiscoveryList'), 'v2');
  assert.equal(negotiateAggregated('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList;q=0,application/json'), undefined);
  // Plain JSON first, unknown versions or another `as` kind: the legacy APIGroupList / APIVersions.
  assert.equal(negotiateAggregated('application/json,application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList'), undefined);
  assert.equal(negotiateAggregated('application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList,application/json'), undefined);
  assert.equal(negotiateAggregated('application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupList'), undefined);
  assert.equal(negotiateAggregated('application/json;as=Table;v=v1;g=meta.k8s.io,application/json'), undefined);
  assert.equal(negotiateAggregated(undefined), undefined);
  assert.equal(negotiateAggregated('*/*'), undefined);
  assert.equal(aggregatedContentType('v2'), 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
});

test('sendAggregated: Content-Type names the document, Vary: Accept, ETag; If-None-Match gives 304 with no body', async (t) => {
  const d = buildAggregatedDiscovery(RESOURCES).apis.v2;
  const server = createServer((req, res) => sendAggregated(req, res, 'v2', d)).listen(0, '127.0.0.1');
  t.after(() => server.close());
  await new Promise((r) => server.once('listening', r));
  const port = (server.address() as AddressInfo).port;
  const get = (headers: Record<string, string>) => new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/apis', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on('error', reject).end();
  });
  const first = await get({ accept: KUBECTL_ACCEPT });
  assert.equal(first.status, 200);
  assert.equal(first.headers['content-type'], 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
  assert.equal(first.headers.vary, 'Accept');
  assert.equal(first.headers.etag, d.etag);
  assert.equal(first.body, d.json);
  const again = await get({ accept: KUBECTL_ACCEPT, 'if-none-match': first.headers.etag! });
  assert.equal(again.status, 304);
  assert.equal(again.body, '');
  assert.equal(again.headers.etag, d.etag);
  assert.equal((await get({ accept: KUBECTL_ACCEPT, 'if-none-match': `W/${d.etag}` })).status, 304);
  assert.equal((await get({ accept: KUBECTL_ACCEPT, 'if-none-match': '"stale"' })).status, 200);
});
