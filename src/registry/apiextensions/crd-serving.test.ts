/**
 * Serving custom resources on the Registry: a CRD becomes servable once Established, its objects are
 * pruned, defaulted, validated (422 with field paths, CEL rules), stored under
 * /registry/<group>/<plural>/<ns>/<name> in the storage version and read through each served version;
 * status writes change only status; the resource stops being served when the CRD goes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../storage/index.ts';
import { Registry } from '../registry.ts';
import { resourceTypes } from '../kinds/index.ts';
import { CRD_CLEANUP_FINALIZER, CRD_GROUP, CRD_PLURAL, CRD_RESOURCE, type Crd } from '../../apis/custom-resource-definition.ts';
import { customResourceDefinitionStrategy } from './crd-strategy.ts';
import { customResourceSchema, serveCustomResources } from './crd-serving.ts';
import { createLogger } from '../../util/log.ts';
import { ApiError } from '../../errors/index.ts';
import type { KubeObject } from '../../apis/object.ts';

function widgetCrd(): Crd {
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com', scope: 'Namespaced', names: { plural: 'widgets', kind: 'Widget', shortNames: ['wd'] },
      versions: [
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
        {
          name: 'v1', served: true, storage: true,
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' } },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              properties: {
                spec: {
                  type: 'object',
                  'x-kubernetes-validations': [{ rule: 'self.replicas <= 5', message: 'at most 5 replicas' }],
                  properties: { size: { type: 'string', enum: ['S', 'M', 'L'], default: 'M' }, replicas: { type: 'integer', default: 1 } },
                },
                status: { type: 'object', properties: { replicas: { type: 'integer' } } },
              },
            },
          },
        },
      ],
    },
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.ok(cond(), what);
}

test('a CRD is served once Established, with pruning, defaults, validation, versions and status isolation', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-crd-'));
  const backend = await openStore('sqlite', dir);
  const registry = new Registry(backend, [...resourceTypes().filter((x) => x.info.plural !== CRD_PLURAL), { info: CRD_RESOURCE, strategy: customResourceDefinitionStrategy }]);
  await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const serving = serveCustomResources(registry, createLogger({ level: 'error' }));
  t.after(async () => { serving.stop(); await backend.close(); await rm(dir, { recursive: true, force: true }); });
  await serving.ready;
  const crds = registry.store(CRD_GROUP, CRD_PLURAL)!;
  const created = await crds.create(undefined, widgetCrd()) as Crd;
  assert.deepEqual(created.status?.storedVersions, ['v1']);
  assert.deepEqual(created.metadata.finalizers, [CRD_CLEANUP_FINALIZER]);
  // Not Established yet: not served.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(registry.store('example.com', 'widgets'), undefined);
  const generation = registry.generation;
  await crds.update(undefined, 'widgets.example.com', { ...created, status: { ...created.status, conditions: [{ type: 'Established', status: 'True' }] } } as KubeObject, { subresource: 'status' });
  await until(() => !!registry.store('example.com', 'widgets'), 'served after Established');
  assert.ok(registry.generation > generation);
  assert.equal(registry.store('example.com', 'widgets', 'v1beta1')?.apiVersion, 'example.com/v1beta1');
  assert.equal(customResourceSchema(registry, 'example.com/v1', 'Widget')?.properties?.spec.properties?.size.default, 'M');

  const v1 = registry.store('example.com', 'widgets', 'v1')!;
  const warnings: string[] = [];
  const w = await v1.create('default', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'a' }, spec: { extra: true }, bogus: 1 } as KubeObject, { warnings });
  assert.deepEqual(w.spec, { size: 'M', replicas: 1 });
  assert.equal((w as Record<string, unknown>).bogus, undefined);
  assert.deepEqual(warnings.sort(), ['unknown field "bogus"', 'unknown field "spec.extra"']);
  assert.equal(w.metadata.generation, 1);
  const kv = await backend.get('/registry/example.com/widgets/default/a');
  assert.equal(JSON.parse(kv!.value).apiVersion, 'example.com/v1');

  // Invalid objects: 422 with the field path.
  await assert.rejects(v1.create('default', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'b' }, spec: { size: 'XL' } } as KubeObject), (e: ApiError) => {
    assert.equal(e.http, 422);
    assert.match(e.message, /spec\.size: Unsupported value: "XL": supported values: "S", "M", "L"/);
    return true;
  });
  await assert.rejects(v1.create('default', { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'b' }, spec: { replicas: 9 } } as KubeObject), /spec: Invalid value: "object": at most 5 replicas/);

  // Through the other version (conversion None): same object, its own apiVersion; written back in the storage version.
  const beta = registry.store('example.com', 'widgets', 'v1beta1')!;
  const viaBeta = await beta.get('default', 'a');
  assert.equal(viaBeta.apiVersion, 'example.com/v1beta1');
  await beta.create('default', { apiVersion: 'example.com/v1beta1', kind: 'Widget', metadata: { name: 'c' }, spec: { free: 'form' } } as KubeObject);
  assert.equal(JSON.parse((await backend.get('/registry/example.com/widgets/default/c'))!.value).apiVersion, 'example.com/v1');
  assert.equal((await v1.get('default', 'c')).apiVersion, 'example.com/v1');

  // Status writes change only status; main writes leave status alone.
  const s = await v1.update('default', 'a', { ...w, spec: { size: 'L', replicas: 2 }, status: { replicas: 2 } } as KubeObject, { subresource: 'status' });
  assert.deepEqual(s.spec, { size: 'M', replicas: 1 });
  assert.deepEqual(s.status, { replicas: 2 });
  const m = await v1.update('default', 'a', { ...s, spec: { size: 'L', replicas: 3 }, status: { replicas: 7 } } as KubeObject);
  assert.deepEqual(m.status, { replicas: 2 });
  assert.equal(m.metadata.generation, 2);
  assert.deepEqual(v1.type.strategy.scale!.read(m), { replicas: 3, statusReplicas: 2, selector: '' });

  // A version listed in storedVersions cannot be dropped.
  const cur = await crds.get(undefined, 'widgets.example.com') as Crd;
  await assert.rejects(crds.update(undefined, 'widgets.example.com', { ...cur, spec: { ...cur.spec, versions: cur.spec.versions.filter((x) => x.name === 'v1beta1').map((x) => ({ ...x, storage: true })) } }),
    /status\.storedVersions\[0\]: Invalid value: "v1": must appear in spec.versions/);

  // The CRD goes: no longer served (its finalizer released, as the controller does).
  await crds.guaranteedUpdate(undefined, 'widgets.example.com', (o) => ({ ...o, metadata: { ...o.metadata, finalizers: [] } }));
  const kv2 = await backend.get('/registry/apiextensions.k8s.io/customresourcedefinitions/widgets.example.com');
  await crds.remove(undefined, 'widgets.example.com', kv2!.modRevision);
  await until(() => !registry.store('example.com', 'widgets'), 'not served after the CRD is gone');
  assert.equal(registry.store('example.com', 'widgets', 'v1beta1'), undefined);
});
