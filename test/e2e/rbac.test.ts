/**
 * End to end: RBAC on a real `bin/berth server` through real kubectl — a ServiceAccount (its token
 * from `kubectl create token`) and a user `jane` (a client certificate from the cluster CA) bound to
 * `view` in one namespace: reads there, 403s in Kubernetes' words elsewhere and for writes, and
 * `kubectl auth can-i` (--list, --as) that match the role; escalation (edit cannot bind at all, admin
 * cannot bind cluster-admin); invalid RBAC objects are 422s; ClusterRole aggregation; the tables
 * kubectl prints; SubjectAccessReview over HTTP.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { kubectl } from '../support/kubectl.ts';
import { assertFails, assertOk, lines, parseJson } from '../support/kubectl-assert.ts';
import { userKubeconfig } from '../support/user-kubeconfig.ts';
import { waitFor as waitUntil } from '../support/wait.ts';

const NS = 'team';
const OTHER = 'elsewhere';

describe('RBAC', { concurrency: false }, () => {
  let b: BerthServer;
  let work: string;
  let janeConfig: string;
  const k = (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 30_000 });
  const as = (kubeconfig: string, args: string[], input?: string) => kubectl(args, { kubeconfig, cacheDir: join(work, 'cache'), input, timeoutMs: 30_000 });
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false | null>) => waitUntil(what, fn, 30_000, () => b.logs().slice(-3000));

  /** A kubeconfig with the server's CA and this token only. */
  async function tokenKubeconfig(token: string): Promise<string> {
    const file = join(work, 'viewer.kubeconfig');
    await writeFile(file, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'b', cluster: { server: b.url, 'certificate-authority': join(b.dataDir, 'pki', 'ca.crt') } }],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'b', user: 'u', namespace: NS } }],
    }));
    return file;
  }

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-e2e-rbac-'));
    b = await startBerth();
    for (const ns of [NS, OTHER]) assertOk(await k(['create', 'namespace', ns]), ns);
    assertOk(await k(['create', 'serviceaccount', 'viewer', '-n', NS]), 'viewer');
    assertOk(await k(['create', 'rolebinding', 'viewer-view', '--clusterrole=view', `--serviceaccount=${NS}:viewer`, '-n', NS]), 'bind viewer');
    assertOk(await k(['create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane', '-n', NS]), 'bind jane');
    assertOk(await k(['create', 'configmap', 'cfg', '--from-literal=a=b', '-n', NS]), 'configmap');
    janeConfig = await userKubeconfig(b.dataDir, b.url, 'jane', ['dev']);
  });

  after(async () => {
    await b?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  /** The acceptance: bound to view in NS — reads there, no writes, nothing elsewhere; can-i --list as the role says. */
  async function viewerAcceptance(config: string, user: string): Promise<void> {
    assertOk(await as(config, ['get', 'pods', '-n', NS]), 'get pods in its namespace');
    assertOk(await as(config, ['get', 'configmap', 'cfg', '-n', NS]), 'get a configmap');
    assertFails(await as(config, ['create', 'deployment', 'web', '--image=nginx', '-n', NS]), 'create deployment',
      new RegExp(`deployments.apps is forbidden: User "${user}" cannot create resource "deployments" in API group "apps" in the namespace "${NS}"`));
    assertFails(await as(config, ['get', 'pods', '-n', OTHER]), 'get pods elsewhere',
      new RegExp(`Error from server \\(Forbidden\\): pods is forbidden: User "${user}" cannot list resource "pods" in API group "" in the namespace "${OTHER}"`));
    assertFails(await as(config, ['get', 'secrets', '-n', NS]), 'view reads no secrets', /cannot list resource "secrets"/);
    assert.equal((await as(config, ['auth', 'can-i', 'list', 'pods', '-n', NS])).stdout.trim(), 'yes');
    const no = await as(config, ['auth', 'can-i', 'create', 'deployments', '-n', NS]);
    assert.equal(no.stdout.trim(), 'no');
    assert.equal(no.code, 1);
    assert.equal((await as(config, ['auth', 'can-i', 'get', 'pods', '-n', OTHER])).stdout.trim(), 'no');
    const list = lines(assertOk(await as(config, ['auth', 'can-i', '--list', '-n', NS]), 'can-i --list'));
    assert.match(list[0], /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/);
    const row = (resource: string) => list.find((l) => l.split(/\s+/)[0] === resource);
    assert.match(row('pods') ?? '', /\[get list watch\]$/, 'pods: read');
    assert.match(row('deployments.apps') ?? '', /\[get list watch\]$/, 'deployments: read');
    assert.match(row('selfsubjectaccessreviews.authorization.k8s.io') ?? '', /\[create\]$/);
    assert.equal(row('secrets'), undefined, 'no secrets');
    assert.ok(!list.some((l) => /\[.*(create|delete|update|patch).*\]$/.test(l) && !/reviews/.test(l)), `only reads and reviews:\n${list.join('\n')}`);
    const elsewhere = lines(assertOk(await as(config, ['auth', 'can-i', '--list', '-n', OTHER]), 'can-i --list elsewhere'));
    assert.equal(elsewhere.find((l) => l.split(/\s+/)[0] === 'pods'), undefined, 'nothing in the other namespace');
  }

  test('a ServiceAccount bound to view in one namespace, with its token from kubectl create token', async () => {
    const token = assertOk(await k(['create', 'token', 'viewer', '-n', NS]), 'create token').trim();
    await viewerAcceptance(await tokenKubeconfig(token), `system:serviceaccount:${NS}:viewer`);
  });

  test('a user (client certificate) bound to view in one namespace', async () => {
    await viewerAcceptance(janeConfig, 'jane');
    const whoami = assertOk(await as(janeConfig, ['auth', 'whoami']), 'whoami');
    assert.match(whoami, /Username\s+jane/);
  });

  test('kubectl auth can-i --as: the admin may impersonate; jane may not', async () => {
    assert.equal((await k(['auth', 'can-i', 'list', 'pods', '-n', NS, '--as=jane'])).stdout.trim(), 'yes');
    assert.equal((await k(['auth', 'can-i', 'list', 'pods', '-n', OTHER, '--as=jane'])).stdout.trim(), 'no');
    assert.equal((await k(['auth', 'can-i', 'list', 'pods', '-n', NS, `--as=system:serviceaccount:${NS}:viewer`])).stdout.trim(), 'yes');
    assert.equal((await k(['auth', 'can-i', 'delete', 'nodes', '--as=jane', '--as-group=system:masters'])).stdout.trim(), 'yes');
    assertOk(await k(['get', 'pods', '-n', NS, '--as=jane']), 'get as jane');
    assertFails(await k(['get', 'pods', '-n', OTHER, '--as=jane']), 'get elsewhere as jane', /User "jane" cannot list resource "pods"/);
    assertFails(await as(janeConfig, ['get', 'pods', '-n', NS, '--as=bob']), 'jane impersonating',
      /users "bob" is forbidden: User "jane" cannot impersonate resource "users" in API group "" at the cluster scope/);
  });

  test('escalation: edit cannot bind cluster-admin (nor bind at all); admin may bind view, not cluster-admin', async () => {
    const editor = await userKubeconfig(b.dataDir, b.url, 'ed');
    assertOk(await k(['create', 'rolebinding', 'ed-edit', '--clusterrole=edit', '--user=ed', '-n', NS]), 'bind ed');
    await waitFor('edit in effect', async () => (await as(editor, ['auth', 'can-i', 'create', 'deployments', '-n', NS])).stdout.trim() === 'yes');
    assertFails(await as(editor, ['create', 'rolebinding', 'root', '--clusterrole=cluster-admin', '--user=ed', '-n', NS]), 'edit binds cluster-admin',
      /rolebindings.rbac.authorization.k8s.io is forbidden: User "ed" cannot create resource "rolebindings" in API group "rbac.authorization.k8s.io" in the namespace "team"/);
    const boss = await userKubeconfig(b.dataDir, b.url, 'boss');
    assertOk(await k(['create', 'rolebinding', 'boss-admin', '--clusterrole=admin', '--user=boss', '-n', NS]), 'bind boss');
    await waitFor('admin in effect', async () => (await as(boss, ['auth', 'can-i', 'create', 'rolebindings', '-n', NS])).stdout.trim() === 'yes');
    assertOk(await as(boss, ['create', 'rolebinding', 'bob-view', '--clusterrole=view', '--user=bob', '-n', NS]), 'admin binds view');
    const stderr = assertFails(await as(boss, ['create', 'rolebinding', 'root', '--clusterrole=cluster-admin', '--user=boss', '-n', NS]), 'admin binds cluster-admin',
      /rolebindings.rbac.authorization.k8s.io "root" is forbidden: user "boss" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:/);
    assert.match(stderr, /\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/);
    assertFails(await as(boss, ['create', 'role', 'nodes', '--verb=get', '--resource=nodes', '-n', NS]), 'a role with rules admin lacks',
      /roles.rbac.authorization.k8s.io "nodes" is forbidden: user "boss" .*not currently held:\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}/s);
    assertOk(await as(boss, ['create', 'role', 'cm-reader', '--verb=get', '--resource=configmaps', '-n', NS]), 'a role within admin');
  });

  test('invalid RBAC objects are 422s', async () => {
    assertFails(await k(['create', 'clusterrole', 'typo', '--verb=lsit', '--resource=pods']), 'unknown verb',
      /The ClusterRole "typo" is invalid: rules\[0\]\.verbs\[0\]: Unsupported value: "lsit"/);
    const invalid = (obj: object) => k(['create', '-f', '-'], JSON.stringify(obj));
    assertFails(await invalid({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r', namespace: NS }, rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }] }),
      'URLs in a Role', /rules\[0\]\.nonResourceURLs: Invalid value: \[\]string\{"\/healthz"\}: namespaced rules cannot apply to non-resource URLs/);
    assertFails(await invalid({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'] }] }),
      'no verbs', /rules\[0\]\.verbs: Required value: verbs must contain at least one value/);
    assertFails(await invalid({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'rb', namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Secret', name: 'x' }, subjects: [{ kind: 'Robot', name: 'r' }] }),
      'bad roleRef and subject', /roleRef\.kind: Unsupported value: "Secret".*subjects\[0\]\.kind: Unsupported value: "Robot"/s);
    const rb = JSON.parse(assertOk(await k(['get', 'rolebinding', 'jane-view', '-n', NS, '-o', 'json']), 'get rb'));
    rb.roleRef.name = 'edit';
    assertFails(await k(['replace', '-f', '-'], JSON.stringify(rb)), 'roleRef change', /roleRef: Invalid value: .*cannot change roleRef/);
  });

  test('aggregation: a ClusterRole labelled aggregate-to-view extends view; the viewer gets it', async () => {
    assert.equal((await k(['auth', 'can-i', 'list', 'leases.coordination.k8s.io', '-n', NS, '--as=jane'])).stdout.trim(), 'no');
    assertOk(await k(['create', '-f', '-'], JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole',
      metadata: { name: 'lease-reader', labels: { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' } },
      rules: [{ verbs: ['get', 'list', 'watch'], apiGroups: ['coordination.k8s.io'], resources: ['leases'] }],
    })), 'aggregated role');
    await waitFor('view aggregated', async () => (await k(['auth', 'can-i', 'list', 'leases.coordination.k8s.io', '-n', NS, '--as=jane'])).stdout.trim() === 'yes');
    // edit and admin aggregate view: they grow too.
    await waitFor('admin aggregated', async () => JSON.stringify(parseJson<any>(assertOk(await k(['get', 'clusterrole', 'admin', '-o', 'json']), 'admin'), 'admin').rules).includes('leases'));
  });

  test('tables: ROLE and AGE for bindings, USERS/GROUPS/SERVICEACCOUNTS with -o wide, CREATED AT for roles', async () => {
    const crb = lines(assertOk(await k(['get', 'clusterrolebindings']), 'crb'));
    assert.match(crb[0], /^NAME\s+ROLE\s+AGE$/);
    assert.ok(crb.some((l) => /^cluster-admin\s+ClusterRole\/cluster-admin\s+\d+[smh]$/.test(l)), crb.join('\n'));
    const wide = lines(assertOk(await k(['get', 'rolebindings', '-n', NS, '-o', 'wide']), 'rb wide'));
    assert.match(wide[0], /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS$/);
    assert.ok(wide.some((l) => /^viewer-view\s+ClusterRole\/view\s+\S+\s+team\/viewer$/.test(l)), wide.join('\n'));
    const roles = lines(assertOk(await k(['get', 'clusterroles', 'view', 'admin']), 'roles'));
    assert.match(roles[0], /^NAME\s+CREATED AT$/);
    assert.match(roles[1], /^view\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('SubjectAccessReview over HTTP: answered with its status, never stored; list is not served', async () => {
    const r = await b.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'jane', resourceAttributes: { verb: 'get', resource: 'configmaps', namespace: NS } } },
    });
    assert.equal(r.status, 201, r.body.toString());
    assert.equal(r.json.status.allowed, true, 'jane reads configmaps through her binding');
    const nobody = await b.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'nobody', groups: ['system:authenticated'], resourceAttributes: { verb: 'get', resource: 'configmaps', namespace: NS } } },
    });
    assert.deepEqual(nobody.json.status, { allowed: false });
    assert.equal((await b.request('GET', '/apis/authorization.k8s.io/v1/subjectaccessreviews')).status, 405);
    const local = await b.request('POST', `/apis/authorization.k8s.io/v1/namespaces/${NS}/localsubjectaccessreviews`, {
      body: { apiVersion: 'authorization.k8s.io/v1', kind: 'LocalSubjectAccessReview', metadata: { namespace: NS }, spec: { user: 'jane', groups: ['system:authenticated'], resourceAttributes: { verb: 'get', resource: 'configmaps', namespace: NS } } },
    });
    assert.equal(local.json.status.allowed, true, local.body.toString());
    const bad = await b.request('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', { body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: {} } });
    assert.equal(bad.status, 422);
    assert.equal(bad.json.kind, 'Status');
  });
});
