/**
 * Server-side apply end to end: real kubectl 1.32 against a `berth server` (TLS, admin kubeconfig).
 * `kubectl apply --server-side`, a second manager's conflict (409 naming it), `--force-conflicts`,
 * `--show-managed-fields`, migration of a client-side-applied object, pruning of dropped fields,
 * creation by apply, dry-run, and bad apply bodies (clear 4xx, nothing written).
 * Upstream equivalent: test/integration/apiserver/apply in kubernetes/kubernetes.
 * Run: node --import tsx --test test/e2e/server-side-apply.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type BerthServer } from '../support/berth-server.ts';

const T = { timeout: 60_000 };

function deployment(name: string, opts: { replicas?: number; image?: string; labels?: Record<string, string>; env?: { name: string; value: string }[] } = {}): string {
  return JSON.stringify({
    apiVersion: 'apps/v1', kind: 'Deployment',
    metadata: { name, namespace: 'ssa', ...(opts.labels ? { labels: opts.labels } : {}) },
    spec: {
      ...(opts.replicas !== undefined ? { replicas: opts.replicas } : {}),
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: opts.image ?? 'registry.local/web:1', ...(opts.env ? { env: opts.env } : {}), ports: [{ containerPort: 8080 }] }] },
      },
    },
  });
}

describe('server-side apply (kubectl against berth server)', () => {
  let server: BerthServer;
  const k = (args: string[], input?: string) => server.kubectl(args, input === undefined ? {} : { input });
  const ok = async (args: string[], input?: string): Promise<string> => {
    const r = await k(args, input);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed:\n${r.stderr}`);
    return r.stdout;
  };
  const get = async (name: string): Promise<any> => JSON.parse(await ok(['get', 'deployment', name, '-n', 'ssa', '-o', 'json', '--show-managed-fields']));
  /** Managers other than Berth's own controllers (which write status and annotations as they run). */
  const managers = (obj: any): string[] => (obj.metadata.managedFields ?? []).filter((e: any) => e.manager !== 'berth').map((e: any) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`).sort();
  const apply = (name: string, path: string, body: string, query: string) =>
    server.request('PATCH', `/apis/apps/v1/namespaces/ssa/deployments/${name}${path}?${query}`, { body, headers: { 'content-type': 'application/apply-patch+yaml' } });

  before(async () => {
    server = await startBerth();
    await ok(['create', 'namespace', 'ssa']);
  });
  after(async () => {
    await server?.cleanup();
  });

  it('kubectl apply --server-side creates a Deployment owned by "kubectl" (Apply), with managedFields in upstream form', T, async () => {
    const out = await ok(['apply', '--server-side', '-f', '-'], deployment('web', { replicas: 2 }));
    assert.match(out, /deployment.apps\/web serverside-applied/);
    const d = await get('web');
    assert.deepEqual(managers(d), ['kubectl/Apply']);
    const entry = d.metadata.managedFields.find((e: any) => e.manager === 'kubectl');
    assert.equal(entry.apiVersion, 'apps/v1');
    assert.equal(entry.fieldsType, 'FieldsV1');
    assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const f = entry.fieldsV1;
    assert.deepEqual(f['f:spec']['f:replicas'], {});
    assert.deepEqual(f['f:spec']['f:selector'], {}, 'a LabelSelector is atomic: owned as one leaf');
    const container = f['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}'];
    assert.ok(container, `containers keyed by name: ${JSON.stringify(f)}`);
    assert.deepEqual(container['.'], {});
    assert.ok(container['f:ports']['k:{"containerPort":8080,"protocol":"TCP"}'], 'ports keyed by containerPort and the defaulted protocol');
    // Without --show-managed-fields kubectl hides them.
    const plain = JSON.parse(await ok(['get', 'deployment', 'web', '-n', 'ssa', '-o', 'json']));
    assert.equal(plain.metadata.managedFields, undefined);
  });

  it('a second manager changing replicas gets 409 naming the manager; --force-conflicts takes ownership; both managers show', T, async () => {
    const r = await k(['apply', '--server-side', '--field-manager', 'scaler', '-f', '-'], deployment('web', { replicas: 5 }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl": \.spec\.replicas/);
    // The raw answer: 409 Conflict with one FieldManagerConflict cause per field.
    const raw = await apply('web', '', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 7 } }), 'fieldManager=scaler');
    assert.equal(raw.status, 409);
    assert.equal(raw.json.reason, 'Conflict');
    assert.deepEqual(raw.json.details.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' }]);
    assert.equal((await get('web')).spec.replicas, 2, 'nothing written');

    await ok(['apply', '--server-side', '--field-manager', 'scaler', '--force-conflicts', '-f', '-'],
      JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'ssa' }, spec: { replicas: 5 } }));
    const d = await get('web');
    assert.equal(d.spec.replicas, 5);
    assert.deepEqual(managers(d), ['kubectl/Apply', 'scaler/Apply']);
    const kubectlFields = d.metadata.managedFields.find((e: any) => e.manager === 'kubectl').fieldsV1;
    const scalerFields = d.metadata.managedFields.find((e: any) => e.manager === 'scaler').fieldsV1;
    assert.equal(kubectlFields['f:spec']['f:replicas'], undefined, 'kubectl lost replicas');
    assert.deepEqual(scalerFields, { 'f:spec': { 'f:replicas': {} } });
    const yaml = await ok(['get', 'deployment', 'web', '-n', 'ssa', '-o', 'yaml', '--show-managed-fields']);
    assert.match(yaml, /manager: kubectl\n/);
    assert.match(yaml, /manager: scaler\n/);

    // kubectl's own apply without replicas now: replicas stays (scaler owns it), no conflict.
    await ok(['apply', '--server-side', '-f', '-'], deployment('web'));
    assert.equal((await get('web')).spec.replicas, 5);
  });

  it('an Update through /scale (kubectl scale) conflicts with the applier, named with its subresource and apiVersion', T, async () => {
    await ok(['apply', '--server-side', '-f', '-'], deployment('scaled', { replicas: 1 }));
    await ok(['scale', 'deployment', 'scaled', '-n', 'ssa', '--replicas', '3']);
    const d = await get('scaled');
    // kubectl scale names no field manager: its user agent's "kubectl", through the scale subresource.
    assert.deepEqual(managers(d), ['kubectl/Apply', 'kubectl/Update/scale']);
    const r = await k(['apply', '--server-side', '-f', '-'], deployment('scaled', { replicas: 1 }));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps\/v1: \.spec\.replicas/);
  });

  it('an apply to /scale owns spec.replicas under subresource "scale"; the manifest\'s applier then conflicts with it', T, async () => {
    await ok(['apply', '--server-side', '-f', '-'], deployment('autoscaled', { replicas: 1 }));
    const scale = JSON.stringify({ apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'autoscaled' }, spec: { replicas: 4 } });
    const conflict = await apply('autoscaled', '/scale', scale, 'fieldManager=autoscaler');
    assert.equal(conflict.status, 409, conflict.body.toString());
    assert.match(conflict.json.message, /conflict with "kubectl": \.spec\.replicas/);
    const r = await apply('autoscaled', '/scale', scale, 'fieldManager=autoscaler&force=true');
    assert.equal(r.status, 200, r.body.toString());
    assert.equal(r.json.kind, 'Scale');
    assert.equal(r.json.spec.replicas, 4);
    const d = await get('autoscaled');
    assert.ok(managers(d).includes('autoscaler/Apply/scale'), managers(d).join(','));
    const back = await k(['apply', '--server-side', '-f', '-'], deployment('autoscaled', { replicas: 1 }));
    assert.match(back.stderr, /conflict with "autoscaler" with subresource "scale": \.spec\.replicas/);
  });

  it('fields dropped from the configuration are removed unless another manager owns them', T, async () => {
    await ok(['apply', '--server-side', '-f', '-'], deployment('prune', { labels: { a: '1', b: '2' }, env: [{ name: 'X', value: '1' }, { name: 'Y', value: '2' }] }));
    await ok(['label', 'deployment', 'prune', '-n', 'ssa', 'c=3']);
    await ok(['apply', '--server-side', '-f', '-'], deployment('prune', { labels: { a: '1' }, env: [{ name: 'X', value: '1' }] }));
    const d = await get('prune');
    assert.deepEqual(d.metadata.labels, { a: '1', c: '3' }, 'b pruned, c kept (kubectl-label owns it)');
    assert.deepEqual(d.spec.template.spec.containers[0].env, [{ name: 'X', value: '1' }]);
  });

  it('a client-side-applied object migrates on the first server-side apply', T, async () => {
    await ok(['apply', '-f', '-'], deployment('csa', { replicas: 2, labels: { keep: 'yes', drop: 'yes' } }));
    let d = await get('csa');
    assert.ok(managers(d).includes('kubectl-client-side-apply/Update'), managers(d).join(','));
    assert.ok(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    // The same configuration minus a label, now server-side: no conflict, the CSA owner becomes the applier,
    // and the dropped label goes.
    await ok(['apply', '--server-side', '-f', '-'], deployment('csa', { replicas: 2, labels: { keep: 'yes' } }));
    d = await get('csa');
    assert.ok(!managers(d).includes('kubectl-client-side-apply/Update'), `client-side-apply owner migrated: ${managers(d).join(',')}`);
    assert.ok(managers(d).includes('kubectl/Apply'));
    assert.deepEqual(d.metadata.labels, { keep: 'yes' });
    const last = JSON.parse(d.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
    assert.deepEqual(last.metadata.labels, { keep: 'yes' }, 'the last-applied annotation follows the server-side apply');
  });

  it('apply creates a missing object (201), honours dry-run, and every write records its manager', T, async () => {
    const body = deployment('dry');
    const dry = await apply('dry', '', body, 'fieldManager=tool&dryRun=All');
    assert.equal(dry.status, 201, dry.body.toString());
    assert.deepEqual(dry.json.metadata.managedFields.map((e: any) => e.manager), ['tool']);
    assert.equal((await k(['get', 'deployment', 'dry', '-n', 'ssa'])).code, 1, 'dry run stored nothing');
    const made = await apply('dry', '', body, 'fieldManager=tool');
    assert.equal(made.status, 201);
    // A no-op apply writes nothing (a ConfigMap: no controller writes it in between).
    const cmApply = () => server.request('PATCH', '/api/v1/namespaces/ssa/configmaps/applied?fieldManager=tool', {
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  k: v\n', headers: { 'content-type': 'application/apply-patch+yaml' },
    });
    const first = await cmApply();
    assert.equal(first.status, 201, first.body.toString());
    const again = await cmApply();
    assert.equal(again.status, 200);
    assert.equal(again.json.metadata.resourceVersion, first.json.metadata.resourceVersion, 'a no-op apply writes nothing');
    // kubectl create owns what it sent and the defaults the server filled, as upstream.
    await ok(['create', 'deployment', 'created', '-n', 'ssa', '--image', 'registry.local/web:1']);
    const created = (await get('created')).metadata.managedFields.find((e: any) => e.manager === 'kubectl-create');
    assert.equal(created.operation, 'Update');
    assert.deepEqual(created.fieldsV1['f:spec']['f:progressDeadlineSeconds'], {});
    assert.deepEqual(created.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"web"}']['f:imagePullPolicy'], {});
    await ok(['create', 'configmap', 'cm', '-n', 'ssa', '--from-literal', 'a=b']);
    const cm = JSON.parse(await ok(['get', 'configmap', 'cm', '-n', 'ssa', '-o', 'json', '--show-managed-fields']));
    assert.deepEqual(cm.metadata.managedFields.map((e: any) => [e.manager, e.operation]), [['kubectl-create', 'Update']]);
    assert.deepEqual(cm.metadata.managedFields[0].fieldsV1, { 'f:data': { '.': {}, 'f:a': {} } });
  });

  it('applies to the status subresource record subresource "status" and change only status', T, async () => {
    // The deployment controller owns status.observedGeneration (once it has written status): without force, a conflict naming it.
    for (let i = 0; !(await get('web')).metadata.managedFields.some((e: any) => e.manager === 'berth' && e.subresource === 'status'); i++) {
      assert.ok(i < 60, 'the deployment controller never wrote status');
      await new Promise((res) => setTimeout(res, 500));
    }
    const conflict = await apply('web', '/status', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, status: { observedGeneration: 42 } }), 'fieldManager=status-writer');
    assert.equal(conflict.status, 409, conflict.body.toString());
    assert.match(conflict.json.message, /conflict with "berth" with subresource "status" using apps\/v1: \.status\.observedGeneration/);
    const r = await apply('web', '/status', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 9 }, status: { observedGeneration: 42 } }), 'fieldManager=status-writer&force=true');
    assert.equal(r.status, 200, r.body.toString());
    // The answer is the object as written (the controller may rewrite its status right after).
    const d = r.json;
    assert.equal(d.status.observedGeneration, 42);
    assert.equal(d.spec.replicas, 5, 'spec untouched through /status');
    const e = d.metadata.managedFields.find((x: any) => x.manager === 'status-writer');
    assert.equal(e.subresource, 'status');
    assert.deepEqual(e.fieldsV1, { 'f:status': { 'f:observedGeneration': {} } });
  });

  it('a custom resource merges by its CRD schema: list-map items keyed by their keys, each manager owning its own', T, async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
      metadata: { name: 'gateways.ssa.example.com' },
      spec: {
        group: 'ssa.example.com', scope: 'Namespaced',
        names: { plural: 'gateways', singular: 'gateway', kind: 'Gateway', listKind: 'GatewayList' },
        versions: [{
          name: 'v1', served: true, storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: {
            listeners: {
              type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'],
              items: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, port: { type: 'integer' }, hostname: { type: 'string' } } },
            },
            addresses: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          } } } } },
        }],
      },
    };
    await ok(['apply', '--server-side', '-f', '-'], JSON.stringify(crd));
    await ok(['wait', '--for', 'condition=Established', 'crd/gateways.ssa.example.com', '--timeout', '30s']);
    const gw = (manager: string, listeners: object[], addresses: string[]) => k(['apply', '--server-side', '--field-manager', manager, '-f', '-'],
      JSON.stringify({ apiVersion: 'ssa.example.com/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'ssa' }, spec: { listeners, addresses } }));
    // The CRD's discovery may take a moment to reach kubectl's cache: retry the first apply.
    for (let i = 0; ; i++) {
      const r = await gw('team-a', [{ name: 'http', port: 80 }], ['10.0.0.1']);
      if (r.code === 0) break;
      if (i > 20) assert.fail(r.stderr);
      await new Promise((res) => setTimeout(res, 500));
    }
    assert.equal((await gw('team-b', [{ name: 'https', port: 443 }], ['10.0.0.2'])).code, 0);
    const obj = JSON.parse(await ok(['get', 'gateways.ssa.example.com', 'gw', '-n', 'ssa', '-o', 'json', '--show-managed-fields']));
    assert.deepEqual(obj.spec.listeners, [{ name: 'http', port: 80 }, { name: 'https', port: 443 }]);
    assert.deepEqual(obj.spec.addresses, ['10.0.0.1', '10.0.0.2']);
    const b = obj.metadata.managedFields.find((e: any) => e.manager === 'team-b');
    assert.deepEqual(b.fieldsV1['f:spec']['f:listeners'], { 'k:{"name":"https"}': { '.': {}, 'f:name': {}, 'f:port': {} } });
    assert.deepEqual(b.fieldsV1['f:spec']['f:addresses'], { 'v:"10.0.0.2"': {} });
    // team-b changing team-a's listener port conflicts, naming the item by its key.
    const r = await gw('team-b', [{ name: 'http', port: 8080 }, { name: 'https', port: 443 }], ['10.0.0.2']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /conflict with "team-a": \.spec\.listeners\[name="http"\]\.port/);
    // team-a dropping its listener removes it; team-b's stays.
    assert.equal((await gw('team-a', [], ['10.0.0.1'])).code, 0);
    const after = JSON.parse(await ok(['get', 'gateways.ssa.example.com', 'gw', '-n', 'ssa', '-o', 'json']));
    assert.deepEqual(after.spec.listeners, [{ name: 'https', port: 443 }]);
  });

  it('bad apply bodies get a clear 4xx and write nothing', T, async () => {
    const before = (await get('web')).metadata.resourceVersion;
    const cases: [string, string, number, RegExp][] = [
      ['not YAML', 'spec: [unclosed', 400, /couldn't decode/],
      ['kind changed', JSON.stringify({ apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web' } }), 400, /may not change apiVersion or kind/],
      ['apiVersion changed', JSON.stringify({ apiVersion: 'apps/v1beta1', kind: 'Deployment', metadata: { name: 'web' } }), 400, /may not change apiVersion or kind/],
      ['no apiVersion/kind', JSON.stringify({ metadata: { name: 'web' } }), 400, /must set apiVersion and kind/],
      ['managedFields set', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', managedFields: [{ manager: 'x', operation: 'Apply' }] } }), 400, /managedFields must be nil/],
      ['bad resourceVersion', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', resourceVersion: 'abc' } }), 400, /invalid resource version/],
      ['stale resourceVersion', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', resourceVersion: '1' } }), 409, /has been modified/],
      ['duplicate list keys', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers: [{ name: 'a', image: 'x' }, { name: 'a', image: 'y' }] } } } }), 422, /duplicate entries for key/],
      ['name differs from URL', JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'other' } }), 400, /does not match the name on the URL/],
      ['a list, not an object', '- a\n- b\n', 400, /must be a YAML or JSON object/],
    ];
    for (const [what, body, code, message] of cases) {
      const r = await apply('web', '', body, 'fieldManager=bad');
      assert.equal(r.status, code, `${what}: ${r.body.toString()}`);
      assert.match(r.json?.message ?? '', message, what);
    }
    const noManager = await apply('web', '', deployment('web'), '');
    assert.equal(noManager.status, 400);
    assert.match(noManager.json.message, /fieldManager is required for apply requests/);
    const forceOnMerge = await server.request('PATCH', '/apis/apps/v1/namespaces/ssa/deployments/web?force=true', { body: '{}', headers: { 'content-type': 'application/merge-patch+json' } });
    assert.equal(forceOnMerge.status, 400);
    assert.equal((await get('web')).metadata.resourceVersion, before, 'nothing written');
  });
});
