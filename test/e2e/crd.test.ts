/**
 * CustomResourceDefinitions end to end, with real kubectl 1.32 and @kubernetes/client-node's
 * CustomObjectsApi against a `berth server` (TLS, the admin kubeconfig): a CRD with a structural
 * schema (defaults, enum, pattern, a CEL rule, status and scale subresources, printer columns, a
 * short name and a category) — objects created, invalid ones refused with 422 and the field path,
 * `kubectl get` columns, `kubectl explain`, status and scale subresources, label and field selectors,
 * a watch, dry run, a second served version, garbage collection of an owned object, deleting the CRD
 * deleting its objects; bad CRDs refused with clear 4xx messages.
 * Run: node --import tsx --test test/e2e/crd.test.ts
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertFails, assertOk, lines, parseJson, parseTable } from '../support/kubectl-assert.ts';
import { spawnKubectl } from '../support/kubectl-watch.ts';
import type { KubectlResult } from '../support/kubectl.ts';

const NS = 'crd-e2e';
const CRD_NAME = 'crontabs.stable.example.com';

const schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      description: 'CronTabSpec is what the user wants to run, and when.',
      'x-kubernetes-validations': [{ rule: 'self.replicas <= 10', message: 'replicas may not exceed 10' }],
      properties: {
        cronSpec: { type: 'string', description: 'The cron schedule.', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        image: { type: 'string', description: 'The image to run.' },
        replicas: { type: 'integer', minimum: 0, default: 1 },
        size: { type: 'string', enum: ['S', 'M', 'L'], default: 'M', description: 'How big each run is.' },
      },
      required: ['cronSpec'],
    },
    status: { type: 'object', properties: { replicas: { type: 'integer' }, labelSelector: { type: 'string' } } },
  },
};

function crd(extra: { versions?: object[] } = {}): object {
  const version = (name: string, storage: boolean) => ({
    name, served: true, storage,
    schema: { openAPIV3Schema: schema },
    subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.labelSelector' } },
    additionalPrinterColumns: [
      { name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' },
      { name: 'Replicas', type: 'integer', jsonPath: '.spec.replicas' },
      { name: 'Size', type: 'string', jsonPath: '.spec.size' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
  return {
    apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: 'stable.example.com', scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'], categories: ['all'] },
      versions: extra.versions ?? [version('v1', true), version('v1beta1', false)],
    },
  };
}

function cronTab(name: string, spec: object, labels: Record<string, string> = {}): object {
  return { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name, namespace: NS, labels }, spec };
}

describe('CustomResourceDefinitions (kubectl, client-node)', { timeout: 240_000 }, () => {
  let server: BerthServer;
  const k = (args: string[], input?: string): Promise<KubectlResult> => server.kubectl(args, input === undefined ? {} : { input });
  const ok = async (args: string[], input?: string): Promise<string> => assertOk(await k(args, input), `kubectl ${args.join(' ')}`);
  const json = async (args: string[]): Promise<any> => parseJson(await ok([...args, '-o', 'json']), args.join(' '));

  before(async () => {
    server = await startBerth();
    await ok(['create', 'namespace', NS]);
  });
  after(async () => { await server?.cleanup(); });

  it('applies a CRD that becomes Established and appears in discovery', async () => {
    assert.match(await ok(['apply', '-f', '-'], JSON.stringify(crd())), /customresourcedefinition.apiextensions.k8s.io\/crontabs.stable.example.com created/);
    await ok(['wait', '--for=condition=established', `crd/${CRD_NAME}`, '--timeout=30s']);
    const c = await json(['get', 'crd', CRD_NAME]);
    assert.deepEqual(c.status.storedVersions, ['v1']);
    assert.equal(c.status.acceptedNames.kind, 'CronTab');
    assert.ok(c.status.conditions.some((x: any) => x.type === 'NamesAccepted' && x.status === 'True'));
    assert.deepEqual(c.metadata.finalizers, ['customresourcecleanup.apiextensions.k8s.io']);
    const res = parseTable(await ok(['api-resources', '--api-group=stable.example.com']));
    assert.deepEqual(res.rows.map((r) => [r[0], r[1], r[2], r[3], r[4]]), [['crontabs', 'ct', 'stable.example.com/v1', 'true', 'CronTab']]);
    assert.match(await ok(['get', 'crds']), /crontabs\.stable\.example\.com/);
  });

  it('creates objects with defaults; invalid ones get 422 with the field path', async () => {
    await ok(['apply', '-f', '-'], JSON.stringify(cronTab('nightly', { cronSpec: '0 3 * * *', image: 'backup:1' }, { app: 'backup' })));
    await ok(['create', '-f', '-'], JSON.stringify(cronTab('hourly', { cronSpec: '0 * * * *', image: 'hourly:1', size: 'L', replicas: 2 }, { app: 'report' })));
    const o = await json(['get', 'crontab', 'nightly', '-n', NS]);
    assert.equal(o.spec.size, 'M');
    assert.equal(o.spec.replicas, 1);
    assert.equal(o.metadata.generation, 1);

    const bad = await k(['create', '-f', '-'], JSON.stringify(cronTab('bad', { cronSpec: 'every minute', size: 'XL' })));
    assertFails(bad, 'invalid CronTab', /The CronTab "bad" is invalid/, /spec\.size: Unsupported value: "XL": supported values: "S", "M", "L"/, /spec\.cronSpec: Invalid value: "every minute": spec\.cronSpec in body should match/);
    assertFails(await k(['create', '-f', '-'], JSON.stringify(cronTab('bad', { image: 'x' }))), 'missing cronSpec', /spec\.cronSpec: Required value/);
    assertFails(await k(['create', '-f', '-'], JSON.stringify(cronTab('bad', { cronSpec: '* * * * *', replicas: 11 }))), 'CEL rule', /spec: Invalid value: "object": replicas may not exceed 10/);
    // The raw status code is 422 Invalid with causes naming the field.
    const raw = await server.request('POST', `/apis/stable.example.com/v1/namespaces/${NS}/crontabs`, { body: cronTab('bad', { cronSpec: '* * * * *', size: 'XXL' }) });
    assert.equal(raw.status, 422);
    assert.equal(raw.json.reason, 'Invalid');
    assert.deepEqual(raw.json.details.causes.map((c: any) => c.field), ['spec.size']);
    assertFails(await k(['get', 'crontab', 'bad', '-n', NS]), 'nothing stored', /NotFound|not found/);
  });

  it('kubectl get shows the printer columns; short name, category, selectors', async () => {
    const t = parseTable(await ok(['get', 'crontabs', '-n', NS]));
    assert.deepEqual(t.header, ['NAME', 'SPEC', 'REPLICAS', 'SIZE', 'AGE']);
    assert.deepEqual(t.rows.map((r) => r.slice(0, 4)), [['hourly', '0 * * * *', '2', 'L'], ['nightly', '0 3 * * *', '1', 'M']]);
    assert.deepEqual(lines(await ok(['get', 'ct', '-n', NS, '-o', 'name'])), ['crontab.stable.example.com/hourly', 'crontab.stable.example.com/nightly']);
    assert.match(await ok(['get', 'all', '-n', NS]), /crontab\.stable\.example\.com\/nightly/);
    assert.deepEqual(lines(await ok(['get', 'ct', '-n', NS, '-l', 'app=report', '-o', 'name'])), ['crontab.stable.example.com/hourly']);
    assert.deepEqual(lines(await ok(['get', 'ct', '-n', NS, '--field-selector', 'metadata.name=nightly', '-o', 'name'])), ['crontab.stable.example.com/nightly']);
    // The other served version: the same objects, conversion None.
    const beta = await json(['get', 'crontabs.v1beta1.stable.example.com', 'nightly', '-n', NS]);
    assert.equal(beta.apiVersion, 'stable.example.com/v1beta1');
    assert.equal(beta.spec.cronSpec, '0 3 * * *');
  });

  it('kubectl explain reads the published schema', async () => {
    const out = await ok(['explain', 'crontab.spec']);
    assert.match(out, /KIND:\s+CronTab/);
    assert.match(out, /CronTabSpec is what the user wants to run, and when\./);
    assert.match(out, /cronSpec\s+<string>/);
    assert.match(out, /size\s+<string>/);
    assert.match(await ok(['explain', 'crontabs.spec.size']), /How big each run is\./);
    // kubectl's client-side field validation from the same schema: an unknown field is refused (strict).
    assertFails(await k(['apply', '-f', '-'], JSON.stringify(cronTab('typo', { cronSpec: '* * * * *', imagee: 'x' }))), 'unknown field', /unknown field "spec\.imagee"/);
  });

  it('status writes change only status; kubectl scale goes through the scale subresource', async () => {
    await ok(['patch', 'crontab', 'nightly', '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { replicas: 3, labelSelector: 'app=backup' }, spec: { replicas: 7 } })]);
    let o = await json(['get', 'crontab', 'nightly', '-n', NS]);
    assert.equal(o.status.replicas, 3);
    assert.equal(o.spec.replicas, 1);
    await ok(['patch', 'crontab', 'nightly', '-n', NS, '--type=merge', '-p', JSON.stringify({ spec: { image: 'backup:2' }, status: { replicas: 99 } })]);
    o = await json(['get', 'crontab', 'nightly', '-n', NS]);
    assert.equal(o.spec.image, 'backup:2');
    assert.equal(o.status.replicas, 3);
    assert.equal(o.metadata.generation, 2);
    assert.match(await ok(['scale', 'crontab', 'nightly', '-n', NS, '--replicas=4']), /scaled/);
    o = await json(['get', 'crontab', 'nightly', '-n', NS]);
    assert.equal(o.spec.replicas, 4);
    const scale = await json(['get', 'crontab', 'nightly', '-n', NS, '--subresource=scale']);
    assert.deepEqual([scale.kind, scale.spec.replicas, scale.status.replicas, scale.status.selector], ['Scale', 4, 3, 'app=backup']);
  });

  it('a watch sees the events; dry run stores nothing', async () => {
    const w = await spawnKubectl(['get', 'crontabs', '-n', NS, '-w', '--output-watch-events', '-o', 'custom-columns=EVENT:.type,NAME:.object.metadata.name', '--no-headers'], { kubeconfig: server.kubeconfig, cacheDir: server.cacheDir });
    try {
      await w.waitForLine(/ADDED\s+nightly/, 30_000);
      await ok(['create', '-f', '-'], JSON.stringify(cronTab('watched', { cronSpec: '*/5 * * * *' })));
      await w.waitForLine(/ADDED\s+watched/, 30_000);
      await ok(['label', 'crontab', 'watched', '-n', NS, 'seen=yes']);
      await w.waitForLine(/MODIFIED\s+watched/, 30_000);
      await ok(['delete', 'crontab', 'watched', '-n', NS]);
      await w.waitForLine(/DELETED\s+watched/, 30_000);
    } finally { await w.stop(); }
    await ok(['create', '--dry-run=server', '-f', '-'], JSON.stringify(cronTab('dry', { cronSpec: '* * * * *' })));
    assertFails(await k(['get', 'crontab', 'dry', '-n', NS]), 'dry run', /NotFound|not found/);
  });

  it('finalizers hold a custom object; an owned ConfigMap is garbage-collected with its owner', async () => {
    const owner = await json(['get', 'crontab', 'hourly', '-n', NS]);
    await ok(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'hourly-config', namespace: NS, ownerReferences: [{ apiVersion: 'stable.example.com/v1', kind: 'CronTab', name: 'hourly', uid: owner.metadata.uid }] }, data: { a: '1' },
    }));
    await ok(['patch', 'crontab', 'hourly', '-n', NS, '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/hold"]}}']);
    await ok(['delete', 'crontab', 'hourly', '-n', NS, '--wait=false']);
    const held = await json(['get', 'crontab', 'hourly', '-n', NS]);
    assert.ok(held.metadata.deletionTimestamp, 'deleting, held by its finalizer');
    await ok(['patch', 'crontab', 'hourly', '-n', NS, '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    assertFails(await k(['get', 'crontab', 'hourly', '-n', NS]), 'gone after the finalizer', /NotFound|not found/);
    let gone = false;
    for (let i = 0; i < 60 && !gone; i++) {
      gone = (await k(['get', 'configmap', 'hourly-config', '-n', NS])).code !== 0;
      if (!gone) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(gone, 'the owned ConfigMap is collected');
  });

  it('deleting a namespace deletes its custom objects', async () => {
    await ok(['create', 'namespace', 'crd-e2e-gone']);
    await ok(['create', '-f', '-'], JSON.stringify({ ...(cronTab('doomed', { cronSpec: '* * * * *' }) as any), metadata: { name: 'doomed', namespace: 'crd-e2e-gone' } }));
    await ok(['delete', 'namespace', 'crd-e2e-gone', '--timeout=60s']);
    const left = await server.request('GET', '/apis/stable.example.com/v1/namespaces/crd-e2e-gone/crontabs');
    assert.equal(left.status, 200);
    assert.deepEqual(left.json.items, []);
  });

  it('@kubernetes/client-node CustomObjectsApi: create, get, list, patch status, delete', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(server.kubeconfig);
    const api = kc.makeApiClient(CustomObjectsApi);
    const base = { group: 'stable.example.com', version: 'v1', namespace: NS, plural: 'crontabs' };
    const created = await api.createNamespacedCustomObject({ ...base, body: cronTab('from-node', { cronSpec: '1 * * * *' }) }) as any;
    assert.equal(created.spec.size, 'M');
    const got = await api.getNamespacedCustomObject({ ...base, name: 'from-node' }) as any;
    assert.equal(got.metadata.uid, created.metadata.uid);
    const list = await api.listNamespacedCustomObject(base) as any;
    assert.ok(list.items.some((x: any) => x.metadata.name === 'from-node'));
    const all = await api.listClusterCustomObject({ group: base.group, version: base.version, plural: base.plural }) as any;
    assert.ok(all.items.length >= 2);
    await assert.rejects(api.createNamespacedCustomObject({ ...base, body: cronTab('bad-node', { cronSpec: '1 * * * *', size: 'Q' }) }), (e: any) => e.code === 422);
    await api.deleteNamespacedCustomObject({ ...base, name: 'from-node' });
    await assert.rejects(api.getNamespacedCustomObject({ ...base, name: 'from-node' }), (e: any) => e.code === 404);
  });

  it('bad CRDs are refused with clear 4xx messages', async () => {
    const nonStructural = crd({ versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', properties: { spec: { properties: { a: { type: 'string' } } } } } } }] });
    assertFails(await k(['create', '-f', '-'], JSON.stringify({ ...nonStructural, metadata: { name: 'others.stable.example.com' }, spec: { ...(nonStructural as any).spec, names: { plural: 'others', kind: 'Other' } } })), 'non-structural',
      /spec\.versions\[0\]\.schema\.openAPIV3Schema\.properties\[spec\]\.type: Required value: must not be empty for specified object fields/);
    const mismatch = crd() as any;
    assertFails(await k(['create', '-f', '-'], JSON.stringify({ ...mismatch, metadata: { name: 'wrong.stable.example.com' } })), 'name mismatch',
      /metadata\.name: Invalid value: "wrong\.stable\.example\.com": must be spec\.names\.plural\+"\."\+spec\.group/);
    const twoStorage = crd() as any;
    twoStorage.metadata.name = 'twos.stable.example.com';
    twoStorage.spec.names = { plural: 'twos', kind: 'Two' };
    twoStorage.spec.versions[1].storage = true;
    assertFails(await k(['create', '-f', '-'], JSON.stringify(twoStorage)), 'two storage versions', /must have exactly one version marked as storage version/);
    const badRule = crd() as any;
    badRule.metadata.name = 'rules.stable.example.com';
    badRule.spec.names = { plural: 'rules', kind: 'Rule' };
    badRule.spec.versions = [{ ...badRule.spec.versions[0], schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.a <' }] } } } } }];
    assertFails(await k(['create', '-f', '-'], JSON.stringify(badRule)), 'a rule that does not compile', /x-kubernetes-validations\[0\]\.rule: Invalid value: "self\.a <": compilation failed/);
    // Removing v1, still listed in status.storedVersions (objects may be stored in it).
    const current = await json(['get', 'crd', CRD_NAME]);
    current.spec.versions = current.spec.versions.filter((v: any) => v.name === 'v1beta1').map((v: any) => ({ ...v, storage: true }));
    assertFails(await k(['replace', '-f', '-'], JSON.stringify(current)), 'removing a stored version', /status\.storedVersions\[0\]: Invalid value: "v1": must appear in spec\.versions/);
    const raw = await server.request('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: twoStorage });
    assert.equal(raw.status, 422);
  });

  it('deleting the CRD deletes its objects, then the kind is no longer served', async () => {
    assert.ok(lines(await ok(['get', 'ct', '-n', NS, '-o', 'name'])).length >= 1);
    await ok(['delete', 'crd', CRD_NAME, '--timeout=60s']);
    assertFails(await k(['get', 'crd', CRD_NAME]), 'CRD gone', /NotFound|not found/);
    let stored: any;
    for (let i = 0; i < 40; i++) {
      stored = await server.request('GET', `/apis/stable.example.com/v1/namespaces/${NS}/crontabs`);
      if (stored.status === 404) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(stored.status, 404, 'the kind stops being served');
    // Re-created, it starts empty: the objects were deleted, not just hidden.
    await ok(['apply', '-f', '-'], JSON.stringify(crd()));
    await ok(['wait', '--for=condition=established', `crd/${CRD_NAME}`, '--timeout=30s']);
    let list: any;
    for (let i = 0; i < 40; i++) {
      list = await server.request('GET', `/apis/stable.example.com/v1/namespaces/${NS}/crontabs`);
      if (list.status === 200) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.items, []);
  });
});
