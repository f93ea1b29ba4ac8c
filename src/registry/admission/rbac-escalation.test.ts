import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { RESOURCES } from '../../apis/resources.ts';
import type { Authorizer, UserInfo } from '../../auth/attributes.ts';
import type { PolicyRule } from '../../auth/rbac/policy-rule.ts';
import { ApiError } from '../../errors/index.ts';
import type { AdmissionRequest, Operation } from './admission.ts';
import { rbacEscalationAdmission } from './rbac-escalation.ts';

const jane: UserInfo = { name: 'jane', groups: ['system:authenticated'] };
const held: PolicyRule[] = [{ verbs: ['get', 'list'], apiGroups: [''], resources: ['pods'] }];
let allowed = new Set<string>();
const authorizer: Authorizer = { authorize: (a) => (allowed.has(`${a.verb} ${a.resource} ${a.name}`) ? 'allow' : 'no-opinion') };
const plugin = rbacEscalationAdmission({
  rulesFor: (user) => (user === jane ? held : []),
  roleRules: (r) => (r.name === 'reader' ? held : r.name === 'admin' ? [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] : undefined),
  authorizer: () => authorizer,
});
const validate = async (r: AdmissionRequest): Promise<void> => { await plugin.validate!(r); };
const info = (plural: string) => RESOURCES.find((r) => r.group === 'rbac.authorization.k8s.io' && r.plural === plural)!;
const review = (plural: string, object: KubeObject, o: { op?: Operation; old?: KubeObject; user?: UserInfo } = {}): AdmissionRequest => ({
  operation: o.op ?? 'CREATE', resource: info(plural), subresource: '', namespace: object.metadata.namespace ?? '', name: object.metadata.name!,
  object, oldObject: o.old, user: o.user ?? jane, dryRun: false,
});
const clusterRole = (rules: PolicyRule[], extra: Partial<KubeObject> = {}): KubeObject => ({ kind: 'ClusterRole', metadata: { name: 'cr' }, rules, ...extra });
const denied = (re: RegExp) => (err: ApiError) => err.http === 403 && re.test(err.message);

test('roles: only held rules, unless escalate; masters always; GC-only updates pass', async () => {
  allowed = new Set();
  await validate(review('clusterroles', clusterRole([{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }])));
  await assert.rejects(validate(review('clusterroles', clusterRole([{ verbs: ['delete'], apiGroups: [''], resources: ['pods'] }]))), denied(/clusterroles.rbac.authorization.k8s.io "cr" is forbidden: user "jane"/));
  await validate(review('clusterroles', clusterRole([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]), { user: { name: 'root', groups: ['system:masters'] } }));
  const big = clusterRole([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]);
  await validate(review('clusterroles', { ...big, metadata: { name: 'cr', finalizers: ['x/y'] } }, { op: 'UPDATE', old: big }));
  await assert.rejects(validate(review('clusterroles', { ...big, metadata: { name: 'cr', labels: { a: 'b' } } }, { op: 'UPDATE', old: big })), denied(/not currently held/));
  allowed = new Set(['escalate clusterroles cr']);
  await validate(review('clusterroles', big));
});

test('aggregationRule: needs full authority, in the create and update wordings', async () => {
  allowed = new Set();
  const agg = clusterRole([], { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] } });
  await assert.rejects(validate(review('clusterroles', agg)), denied(/must have cluster-admin privileges to use the aggregationRule$/));
  await assert.rejects(validate(review('clusterroles', clusterRole([]), { op: 'UPDATE', old: agg })), denied(/must have cluster-admin privileges to use an aggregationRule$/));
});

test('bindings: the role\'s rules must be held, unless bind on it; a missing role is a 404', async () => {
  allowed = new Set();
  const binding = (role: string): KubeObject => ({ kind: 'RoleBinding', metadata: { name: 'b', namespace: 'a' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [] });
  await validate(review('rolebindings', binding('reader')));
  await assert.rejects(validate(review('rolebindings', binding('admin'))), denied(/^rolebindings.rbac.authorization.k8s.io "b" is forbidden: .*\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}$/));
  await assert.rejects(validate(review('rolebindings', binding('ghost'))), (err: ApiError) => err.http === 404 && err.message === 'clusterroles.rbac.authorization.k8s.io "ghost" not found');
  allowed = new Set(['bind clusterroles admin']);
  await validate(review('rolebindings', binding('admin')));
  // Other kinds and deletes are not its business.
  await validate({ ...review('rolebindings', binding('ghost')), operation: 'DELETE' });
});
