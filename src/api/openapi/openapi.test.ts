import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { RESOURCES } from '../../apis/resources.ts';
import { definitionNameFor, loadDefinitions, resourceDefinitionNames, type Schema } from '../../apis/openapi/definitions.ts';
import { buildOpenApiV2, buildOpenApiV3, buildOpenApiV3Index, groupVersionPaths } from './documents.ts';

const gvPathOf = (r: { group: string; version: string }) => (r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`);

test('every RESOURCES kind has a definition with its group-version-kind', () => {
  const defs = loadDefinitions();
  for (const r of RESOURCES) {
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    const name = definitionNameFor(apiVersion, r.kind);
    assert.ok(name, `no definition for ${apiVersion} ${r.kind}`);
    assert.ok(defs[name].properties?.metadata, `${name} has no metadata`);
    // Create-only resources (the reviews) have no List.
    if (!r.verbs || r.verbs.includes('list')) assert.ok(defs[`${name}List`], `no list definition for ${name}`);
  }
  assert.equal(resourceDefinitionNames().length, RESOURCES.length);
});

test('special types and patch metadata are in the definitions', () => {
  const defs = loadDefinitions();
  assert.equal(defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString']['x-kubernetes-int-or-string'], true);
  assert.equal(defs['io.k8s.apimachinery.pkg.api.resource.Quantity'].format, 'quantity');
  assert.equal(defs['io.k8s.apimachinery.pkg.apis.meta.v1.Time'].format, 'date-time');
  const containers = defs['io.k8s.api.core.v1.PodSpec'].properties!.containers as Schema;
  assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
  assert.equal(containers['x-kubernetes-patch-strategy'], 'merge');
  assert.deepEqual(defs['io.k8s.api.core.v1.Container'].properties!.imagePullPolicy.enum, ['Always', 'IfNotPresent', 'Never']);
  assert.equal(defs['io.k8s.api.apps.v1.DeploymentSpec'].properties!.replicas.format, 'int32');
  assert.equal(defs['io.k8s.api.core.v1.PodSpec'].properties!.activeDeadlineSeconds.format, 'int64');
  for (const n of ['io.k8s.api.autoscaling.v1.Scale', 'io.k8s.api.policy.v1.Eviction', 'io.k8s.api.core.v1.Binding', 'io.k8s.apimachinery.pkg.apis.meta.v1.Status', 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions']) {
    assert.ok(defs[n], n);
  }
});

test('definitions.json is up to date with the generator', () => {
  const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/gen-openapi.ts', '--check'], { cwd: new URL('../../../', import.meta.url), encoding: 'utf8' });
  assert.match(out, /up to date/);
});

test('v3 index lists every group-version with a hash that matches the document', () => {
  const idx = buildOpenApiV3Index() as { paths: Record<string, { serverRelativeURL: string }> };
  for (const r of RESOURCES) assert.ok(idx.paths[gvPathOf(r)], gvPathOf(r));
  assert.match(idx.paths['apis/apps/v1'].serverRelativeURL, /^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{64}$/);
  assert.deepEqual(Object.keys(idx.paths), groupVersionPaths());
  assert.equal(buildOpenApiV3('apis/nope/v1'), undefined);
});

/** What kubectl's query-param verifier does: find the gvk's patch op and look for fieldValidation. */
function supportsFieldValidation(doc: any, gvk: { group: string; version: string; kind: string }): boolean {
  for (const item of Object.values<any>(doc.paths)) {
    // A create-only resource (the reviews) has only its POST.
    const op = item.patch ?? item.post;
    const g = op?.['x-kubernetes-group-version-kind'];
    if (!g || g.group !== gvk.group || g.version !== gvk.version || g.kind !== gvk.kind) continue;
    return op.parameters.some((p: any) => p.name === 'fieldValidation' && p.in === 'query');
  }
  return false;
}

test('apps/v1 document has a deployments patch op with gvk, fieldValidation and patch types', () => {
  const doc = buildOpenApiV3('apis/apps/v1') as any;
  assert.equal(doc.openapi, '3.0.0');
  const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
  assert.deepEqual(patch['x-kubernetes-group-version-kind'], { group: 'apps', version: 'v1', kind: 'Deployment' });
  assert.equal(patch['x-kubernetes-action'], 'patch');
  for (const q of ['dryRun', 'fieldManager', 'fieldValidation', 'force']) assert.ok(patch.parameters.some((p: any) => p.name === q), q);
  assert.deepEqual(Object.keys(patch.requestBody.content).sort(), [
    'application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json',
  ]);
  assert.ok(doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch);
  assert.ok(doc.components.schemas['io.k8s.api.apps.v1.Deployment']);
  assert.ok(doc.components.schemas['io.k8s.api.autoscaling.v1.Scale']);
  // Every $ref resolves inside the document.
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
  for (const r of refs) assert.ok(doc.components.schemas[r], `dangling ref ${r}`);
  assert.equal(buildOpenApiV3('apis/apps/v1'), doc, 'cached');
});

test('every resource has paths and kubectl finds fieldValidation for it', () => {
  for (const r of RESOURCES) {
    const doc = buildOpenApiV3(gvPathOf(r)) as any;
    const prefix = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
    const item = r.namespaced ? `${prefix}/namespaces/{namespace}/${r.plural}/{name}` : `${prefix}/${r.plural}/{name}`;
    if (r.verbs && !r.verbs.includes('get')) {
      // Create-only (the reviews): one POST on the collection, nothing else.
      assert.equal(doc.paths[item], undefined, item);
      assert.deepEqual(Object.keys(doc.paths[item.slice(0, -'/{name}'.length)] ?? {}).filter((k) => k !== 'parameters'), ['post'], item);
    } else for (const m of ['get', 'put', 'patch', 'delete']) assert.ok(doc.paths[item]?.[m], `${m} ${item}`);
    assert.ok(supportsFieldValidation(doc, { group: r.group, version: r.version, kind: r.kind }), r.kind);
    if (r.subresources?.includes('status')) assert.ok(doc.paths[`${item}/status`].patch, `${item}/status`);
  }
});

test('v2 document has definitions and swagger refs', () => {
  const doc = buildOpenApiV2() as any;
  assert.equal(doc.swagger, '2.0');
  const op = doc.paths['/api/v1/namespaces/{namespace}/pods/{name}'].patch;
  assert.ok(op.consumes.includes('application/strategic-merge-patch+json'));
  assert.ok(op.parameters.some((p: any) => p.name === 'fieldValidation'));
  assert.equal(op.responses['200'].schema.$ref, '#/definitions/io.k8s.api.core.v1.Pod');
  assert.ok(doc.definitions['io.k8s.api.core.v1.Pod']);
});
