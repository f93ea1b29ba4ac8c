import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.ts';
import type { Attributes, Authorizer } from './attributes.ts';
import { localSubjectAccessReview, selfSubjectAccessReview, selfSubjectRulesReview, subjectAccessReview } from './access-review.ts';

const seen: Attributes[] = [];
/** Allows jane to get pods in a; denies everyone deleting nodes; no opinion otherwise. */
const z: Authorizer = {
  authorize(a) {
    seen.push(a);
    if (a.verb === 'delete' && a.resource === 'nodes') return 'deny';
    return a.user.name === 'jane' && a.verb === 'get' && a.resource === 'pods' && a.namespace === 'a' ? 'allow' : 'no-opinion';
  },
};
const sar = (spec: object, metadata: Record<string, unknown> = {}) => ({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata, spec });
const invalid = (fields: string[]) => (err: ApiError) => err.http === 422 && JSON.stringify(err.toStatus().details?.causes?.map((c) => c.field)) === JSON.stringify(fields);

test('SubjectAccessReview: the spec user as given, allowed / denied, the object answered', async () => {
  seen.length = 0;
  const out = await subjectAccessReview(sar({ user: 'jane', groups: ['g'], resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'a', name: 'p' } }), z);
  assert.deepEqual(out.status, { allowed: true });
  assert.equal(out.spec.user, 'jane');
  assert.deepEqual(seen[0].user, { name: 'jane', groups: ['g'] }, 'no system:authenticated added');
  assert.equal(seen[0].apiVersion, '*');
  assert.deepEqual((await subjectAccessReview(sar({ user: 'x', resourceAttributes: { verb: 'delete', resource: 'nodes' } }), z)).status, { allowed: false, denied: true });
  const nonResource = await subjectAccessReview(sar({ groups: ['g'], nonResourceAttributes: { verb: 'get', path: '/healthz' } }), z);
  assert.deepEqual(nonResource.status, { allowed: false });
  assert.equal(seen.at(-1)!.isResourceRequest, false);
  assert.equal(seen.at(-1)!.path, '/healthz');
});

test('SubjectAccessReview validation: 422 with the fields', async () => {
  await assert.rejects(subjectAccessReview(sar({ resourceAttributes: { verb: 'get' } }), z), invalid(['spec.user']));
  await assert.rejects(subjectAccessReview(sar({ user: 'u' }), z), invalid(['spec.resourceAttributes']));
  await assert.rejects(subjectAccessReview(sar({ user: 'u', resourceAttributes: {}, nonResourceAttributes: {} }), z), invalid(['spec.nonResourceAttributes']));
  await assert.rejects(subjectAccessReview(sar({ user: 'u', resourceAttributes: {} }, { name: 'x' }), z), invalid(['metadata']));
  await assert.rejects(subjectAccessReview(sar({ user: 'u' }, { name: 'x' }), z), (err: ApiError) => /^SubjectAccessReview.authorization.k8s.io "" is invalid: \[/.test(err.message));
});

test('LocalSubjectAccessReview: only in its namespace, only resource attributes', async () => {
  const local = (ns: string | undefined, spec: object) => ({ metadata: ns ? { namespace: ns } : {}, spec });
  const out = await localSubjectAccessReview(local('a', { user: 'jane', resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'a' } }), 'a', z);
  assert.equal(out.status.allowed, true);
  assert.equal(out.metadata.namespace, 'a');
  await assert.rejects(localSubjectAccessReview(local('a', { user: 'jane', resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'b' } }), 'a', z), invalid(['spec.resourceAttributes.namespace']));
  await assert.rejects(localSubjectAccessReview(local('a', { user: 'jane', nonResourceAttributes: { verb: 'get', path: '/' } }), 'a', z), invalid(['spec.nonResourceAttributes']));
});

test('SelfSubjectAccessReview asks about the requester; SelfSubjectRulesReview lists its rules split by kind', async () => {
  const jane = { name: 'jane', groups: ['system:authenticated'] };
  const out = await selfSubjectAccessReview({ metadata: { creationTimestamp: null }, spec: { resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'a' } } } as never, jane, z);
  assert.deepEqual(out.status, { allowed: true });
  await assert.rejects(selfSubjectAccessReview({ metadata: {}, spec: {} }, jane, z), invalid(['spec.resourceAttributes']));
  const rules = selfSubjectRulesReview({ metadata: {}, spec: { namespace: 'a' } }, jane, {
    rulesFor: (u, ns) => (u === jane && ns === 'a' ? [
      { verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] },
      { verbs: ['get'], nonResourceURLs: ['/healthz'] },
    ] : []),
  });
  assert.deepEqual(rules.status, {
    resourceRules: [{ verbs: ['get'], apiGroups: [''], resources: ['pods'], resourceNames: ['p'] }],
    nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }],
    incomplete: false,
  });
  assert.throws(() => selfSubjectRulesReview({ metadata: {}, spec: {} }, jane, { rulesFor: () => [] }), (err: ApiError) => err.http === 400 && err.message === 'no namespace on request');
  const node = selfSubjectRulesReview({ metadata: {}, spec: { namespace: 'a' } }, { name: 'system:node:n1', groups: ['system:nodes'] }, { rulesFor: () => [] });
  assert.deepEqual(node.status, { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'node authorizer does not support user rule resolution' });
});
