import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../../../apis/object.ts';
import type { UserInfo } from '../../../auth/attributes.ts';
import { controllerUser } from '../../../auth/rbac/controller-policy.ts';
import { R, type ResourceRef } from '../../../client/client.ts';
import { LocalClient } from '../../../client/local-client.ts';
import { ApiError } from '../../../errors/index.ts';
import { createLogger } from '../../../util/log.ts';
import { startServer, type RunningServer } from '../../berth-server.ts';

const RBAC = 'rbac.authorization.k8s.io';
const ref = (resource: string, group = RBAC): ResourceRef => ({ group, version: 'v1', resource });
const jane: UserInfo = { name: 'jane', groups: ['dev', 'system:authenticated'] };

let dataDir: string;
let server: RunningServer;
let system: LocalClient;
const start = () => startServer({ dataDir, host: '127.0.0.1', port: 0, store: 'sqlite', log: createLogger({ level: 'error' }) });
const as = (user: UserInfo) => system.as({ user, authorizer: server.authorizer });
const forbidden = (pattern: RegExp) => (err: ApiError) => err.http === 403 && pattern.test(err.message);

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'berth-rbac-'));
  server = await start();
  system = new LocalClient(server.registry);
  await system.create(R.namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
});
after(async () => {
  await server.stop();
  await rm(dataDir, { recursive: true, force: true });
});

test('the defaults are there and whole before the server is ready: admin, edit and view aggregated', async () => {
  const view = await system.get(ref('clusterroles'), undefined, 'view');
  assert.ok(view.rules.some((r: { resources?: string[] }) => r.resources?.includes('pods')));
  const admin = await system.get(ref('clusterroles'), undefined, 'admin');
  assert.ok(admin.rules.some((r: { resources?: string[] }) => r.resources?.includes('rolebindings')));
  assert.equal((await system.get(ref('clusterrolebindings'), undefined, 'cluster-admin')).subjects[0].name, 'system:masters');
  assert.ok(await system.get(ref('roles'), 'kube-system', 'system::leader-locking-kube-scheduler'));
});

test('bindings take effect at once for in-process clients; a binding in one namespace grants nothing elsewhere', async () => {
  await assert.rejects(as(jane).list(R.pods, 'a'), forbidden(/User "jane" cannot list resource "pods" in API group "" in the namespace "a"/));
  await system.create(ref('rolebindings'), 'a', {
    apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: 'jane-admin', namespace: 'a' },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'admin' }, subjects: [{ kind: 'User', apiGroup: RBAC, name: 'jane' }],
  });
  for (let i = 0; i < 100; i++) {
    try { await as(jane).list(R.pods, 'a'); break; } catch { await new Promise((r) => setTimeout(r, 20)); }
  }
  await as(jane).list(R.pods, 'a');
  await assert.rejects(as(jane).list(R.pods, 'default'), forbidden(/in the namespace "default"/));
});

test('escalation: admin in a namespace may bind view there, not cluster-admin; may not write rules it lacks', async () => {
  const binding = (name: string, role: string): KubeObject => ({
    apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name, namespace: 'a' },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', apiGroup: RBAC, name: 'bob' }],
  });
  await as(jane).create(ref('rolebindings'), 'a', binding('bob-view', 'view'));
  await assert.rejects(as(jane).create(ref('rolebindings'), 'a', binding('bob-root', 'cluster-admin')),
    forbidden(/^rolebindings.rbac.authorization.k8s.io "bob-root" is forbidden: user "jane" \(groups=\["dev" "system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/));
  await assert.rejects(as(jane).create(ref('rolebindings'), 'a', binding('bob-missing', 'no-such-role')), (err: ApiError) => err.http === 404);
  const role = (name: string, resources: string[]): KubeObject => ({ apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name, namespace: 'a' }, rules: [{ verbs: ['get'], apiGroups: [''], resources }] });
  await as(jane).create(ref('roles'), 'a', role('pods-reader', ['pods']));
  await assert.rejects(as(jane).create(ref('roles'), 'a', role('nodes-reader', ['nodes'])), forbidden(/attempting to grant RBAC permissions not currently held:\n\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}$/));
  // The system itself (system:masters) may grant anything.
  await system.create(ref('roles'), 'a', role('nodes-reader', ['nodes']));
});

test('SubjectAccessReview and SelfSubjectAccessReview through a client: computed, never stored', async () => {
  const review = await system.create(ref('subjectaccessreviews', 'authorization.k8s.io'), undefined, {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {},
    spec: { user: 'jane', groups: ['system:authenticated'], resourceAttributes: { verb: 'delete', resource: 'pods', namespace: 'a' } },
  });
  assert.deepEqual(review.status, { allowed: true });
  const self = await as(jane).create(ref('selfsubjectaccessreviews', 'authorization.k8s.io'), undefined, {
    apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {},
    spec: { resourceAttributes: { verb: 'create', resource: 'pods', namespace: 'default' } },
  });
  assert.deepEqual(self.status, { allowed: false });
  await assert.rejects(as(jane).create(ref('subjectaccessreviews', 'authorization.k8s.io'), undefined, { metadata: {}, spec: {} }),
    forbidden(/cannot create resource "subjectaccessreviews"/), 'asking about others needs the right to');
  assert.equal((await system.list(ref('subjectaccessreviews', 'authorization.k8s.io'), undefined)).items.length, 0);
});

test('components act with their role only', async () => {
  const rs = as(controllerUser('replicaset-controller'));
  await rs.list(R.pods, 'a');
  await assert.rejects(rs.get(R.secrets, 'a', 'x'), forbidden(/User "system:serviceaccount:kube-system:replicaset-controller" cannot get resource "secrets"/));
  await assert.rejects(as({ name: 'system:kube-scheduler', groups: ['system:authenticated'] }).delete(R.namespaces, undefined, 'a'), forbidden(/cannot delete resource "namespaces"/));
});

test('a restart reconciles: nothing rewritten, a user\'s additions kept, autoupdate "false" respected', async () => {
  const discovery = await system.get(ref('clusterroles'), undefined, 'system:discovery');
  discovery.rules.push({ verbs: ['get'], nonResourceURLs: ['/metrics'] });
  const withMine = await system.update(ref('clusterroles'), undefined, discovery);
  const basic = await system.get(ref('clusterroles'), undefined, 'system:basic-user');
  basic.metadata.annotations = { ...basic.metadata.annotations, 'rbac.authorization.kubernetes.io/autoupdate': 'false' };
  basic.rules = [];
  await system.update(ref('clusterroles'), undefined, basic);
  const before = await system.get(ref('clusterroles'), undefined, 'view');
  await system.delete(ref('clusterrolebindings'), undefined, 'system:public-info-viewer');
  await server.stop();
  server = await start();
  system = new LocalClient(server.registry);
  assert.equal((await system.get(ref('clusterroles'), undefined, 'view')).metadata.resourceVersion, before.metadata.resourceVersion, 'unchanged defaults are not rewritten');
  assert.equal((await system.get(ref('clusterroles'), undefined, 'system:discovery')).metadata.resourceVersion, withMine.metadata.resourceVersion, 'a superset is left alone');
  assert.deepEqual((await system.get(ref('clusterroles'), undefined, 'system:basic-user')).rules, []);
  assert.ok(await system.get(ref('clusterrolebindings'), undefined, 'system:public-info-viewer'), 'a deleted default comes back');
});
