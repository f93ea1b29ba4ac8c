/**
 * End to end: the kinds public example manifests use that Berth did not serve — ReplicationController
 * (with its controller) and networking.k8s.io Ingress/IngressClass — through real kubectl against a
 * `berth server` (TLS, the kubeconfig it writes). No agent: the RC's pods are created and stay
 * Pending, which is all the controller's part.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { findKubectl } from '../support/kubectl.ts';
import { assertFails, assertOk, parseJson, parseTable } from '../support/kubectl-assert.ts';
import { waitFor } from '../support/wait.ts';

// The Kubernetes documentation's ReplicationController example (concepts/workloads/controllers/replicationcontroller).
const RC_YAML = `apiVersion: v1
kind: ReplicationController
metadata:
  name: nginx
spec:
  replicas: 3
  selector:
    app: nginx
  template:
    metadata:
      name: nginx
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: nginx
        ports:
        - containerPort: 80
`;

// The documentation's minimal Ingress (concepts/services-networking/ingress), with its class.
const INGRESS_YAML = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx-example
spec:
  controller: k8s.io/ingress-nginx
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: minimal-ingress
  annotations:
    nginx.ingress.kubernetes.io/rewrite-target: /
spec:
  ingressClassName: nginx-example
  tls:
  - hosts: [foo.example.com]
    secretName: foo-tls
  rules:
  - host: foo.example.com
    http:
      paths:
      - path: /testpath
        pathType: Prefix
        backend:
          service:
            name: test
            port:
              number: 80
`;

/** kubectl's table as one record per row, keyed by header. */
function table(stdout: string): { headers: string[]; rows: Record<string, string>[] } {
  const t = parseTable(stdout);
  return { headers: t.header, rows: t.rows.map((r) => Object.fromEntries(t.header.map((h, i) => [h, r[i]]))) };
}

describe('stock kinds: ReplicationController, Ingress, IngressClass', { concurrency: false }, () => {
  let b: BerthServer;
  const k = (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 60_000 });
  const ok = async (args: string[], input?: string) => assertOk(await k(args, input), `kubectl ${args.join(' ')}`);

  before(async () => {
    await findKubectl();
    b = await startBerth();
  });
  after(async () => { await b?.cleanup(); });

  it('kubectl api-resources lists them with their short names', async () => {
    const rows = table(await ok(['api-resources'])).rows;
    const byName = new Map(rows.map((r) => [r.NAME, r]));
    assert.equal(byName.get('replicationcontrollers')?.SHORTNAMES, 'rc');
    assert.equal(byName.get('ingresses')?.SHORTNAMES, 'ing');
    assert.equal(byName.get('ingresses')?.APIVERSION, 'networking.k8s.io/v1');
    assert.equal(byName.get('ingressclasses')?.NAMESPACED, 'false');
  });

  it('the documentation\'s ReplicationController makes 3 pods owned by it; kubectl get rc/all, scale and delete work', async () => {
    await ok(['apply', '-f', '-'], RC_YAML);
    const pods = await waitFor('3 pods of the rc', async () => {
      const items = parseJson<any>(await ok(['get', 'pods', '-l', 'app=nginx', '-o', 'json']), 'pods').items;
      return items.length === 3 ? items : undefined;
    }, 30_000);
    assert.ok(pods.every((p: any) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicationController' && p.metadata.name.startsWith('nginx-')));
    const rcTable = table(await ok(['get', 'rc', 'nginx']));
    assert.deepEqual(rcTable.headers, ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
    assert.deepEqual([rcTable.rows[0].NAME, rcTable.rows[0].DESIRED, rcTable.rows[0].CURRENT], ['nginx', '3', '3']);
    const wide = table(await ok(['get', 'rc', 'nginx', '-o', 'wide']));
    assert.equal(wide.rows[0].SELECTOR, 'app=nginx');
    assert.match(await ok(['get', 'all']), /replicationcontroller\/nginx\s+3\s+3\s+0/);
    const scale = parseJson<any>(await ok(['get', '--raw', '/api/v1/namespaces/default/replicationcontrollers/nginx/scale']), 'scale');
    assert.deepEqual([scale.spec.replicas, scale.status.selector], [3, 'app=nginx']);
    await ok(['scale', 'rc', 'nginx', '--replicas=1']);
    await waitFor('scaled to 1', async () => parseJson<any>(await ok(['get', 'pods', '-l', 'app=nginx', '-o', 'json']), 'pods').items
      .filter((p: any) => !p.metadata.deletionTimestamp).length === 1 || undefined, 30_000);
    assert.match(await ok(['describe', 'rc', 'nginx']), /SuccessfulDelete/);
    await ok(['delete', 'rc', 'nginx', '--wait=true']);
    await waitFor('the garbage collector deletes its pods', async () => parseJson<any>(await ok(['get', 'pods', '-l', 'app=nginx', '-o', 'json']), 'pods').items.length === 0 || undefined, 30_000);
  });

  it('a bad ReplicationController is refused with the field path, nothing stored', async () => {
    const bad = RC_YAML.replace('  selector:\n    app: nginx\n', '  selector:\n    app: other\n').replace('name: nginx\nspec', 'name: bad\nspec');
    assertFails(await k(['apply', '-f', '-'], bad), 'selector/labels mismatch', /spec\.template\.metadata\.labels: Invalid value/);
    assertFails(await k(['get', 'rc', 'bad']), 'nothing stored', /NotFound|not found/);
  });

  it('the documentation\'s Ingress applies, prints its class, hosts and ports; kubectl explain knows it; a bad one is a 422', async () => {
    await ok(['apply', '-f', '-'], INGRESS_YAML);
    const t = table(await ok(['get', 'ingress', 'minimal-ingress']));
    assert.deepEqual(t.headers, ['NAME', 'CLASS', 'HOSTS', 'ADDRESS', 'PORTS', 'AGE']);
    assert.deepEqual([t.rows[0].CLASS, t.rows[0].HOSTS, t.rows[0].PORTS], ['nginx-example', 'foo.example.com', '80, 443']);
    const ic = table(await ok(['get', 'ingressclass']));
    assert.deepEqual([ic.rows[0].NAME, ic.rows[0].CONTROLLER, ic.rows[0].PARAMETERS], ['nginx-example', 'k8s.io/ingress-nginx', '<none>']);
    assert.match(await ok(['explain', 'ingress.spec.rules.http.paths']), /pathType/);
    const bad = INGRESS_YAML.split('---\n')[1].replace('name: minimal-ingress', 'name: bad').replace('pathType: Prefix', 'pathType: Glob');
    assertFails(await k(['apply', '-f', '-'], bad), 'bad pathType', /spec\.rules\[0\]\.http\.paths\[0\]\.pathType: Unsupported value: "Glob"/);
    assertFails(await k(['get', 'ingress', 'bad']), 'nothing stored', /NotFound|not found/);
  });
});
