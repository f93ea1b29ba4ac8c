import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { ApiError } from '../errors/index.ts';
import type { Attributes, Authorizer, UserInfo } from './attributes.ts';
import { impersonate } from './impersonation.ts';

/** A request with these headers (as Node gives them: lower-case, repeated ones as lists). */
function request(headers: Record<string, string | string[]>): IncomingMessage {
  const distinct: Record<string, string[]> = {};
  const flat: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) { distinct[k] = Array.isArray(v) ? v : [v]; flat[k] = distinct[k].join(', '); }
  return { headers: flat, headersDistinct: distinct } as unknown as IncomingMessage;
}

const admin: UserInfo = { name: 'admin', groups: ['ops', 'system:authenticated'] };
const asked: string[] = [];
/** Allows `admin` to impersonate anything but the group `forbidden`. */
const z: Authorizer = {
  authorize(a: Attributes) {
    asked.push(`${a.verb} ${a.apiGroup}/${a.resource}${a.subresource ? `/${a.subresource}` : ''} ${a.namespace}/${a.name}`);
    return a.user.name === 'admin' && a.name !== 'forbidden' ? 'allow' : 'no-opinion';
  },
};

test('no headers: the authenticated user, nothing asked', async () => {
  asked.length = 0;
  assert.equal(await impersonate(request({}), admin, z), admin);
  assert.deepEqual(asked, []);
});

test('a user, groups, uid and extras, each allowed; system:authenticated added unless a group says otherwise', async () => {
  asked.length = 0;
  const u = await impersonate(request({ 'impersonate-user': 'jane', 'impersonate-group': ['dev', 'qa'], 'impersonate-uid': 'u-1', 'impersonate-extra-scopes%2fread': ['a', 'b'] }), admin, z);
  assert.deepEqual(u, { name: 'jane', groups: ['dev', 'qa', 'system:authenticated'], uid: 'u-1', extra: { 'scopes/read': ['a', 'b'] } });
  assert.deepEqual(asked, [
    'impersonate /users /jane', 'impersonate /groups /dev', 'impersonate /groups /qa',
    'impersonate authentication.k8s.io/userextras/scopes/read /a', 'impersonate authentication.k8s.io/userextras/scopes/read /b',
    'impersonate authentication.k8s.io/uids /u-1',
  ]);
  assert.deepEqual((await impersonate(request({ 'impersonate-user': 'jane' }), admin, z)).groups, ['system:authenticated']);
  assert.deepEqual((await impersonate(request({ 'impersonate-user': 'system:anonymous' }), admin, z)).groups, ['system:unauthenticated']);
  assert.deepEqual((await impersonate(request({ 'impersonate-user': 'jane', 'impersonate-group': 'system:unauthenticated' }), admin, z)).groups, ['system:unauthenticated']);
});

test('a ServiceAccount: asked as serviceaccounts in its namespace, with its fixed groups', async () => {
  asked.length = 0;
  const u = await impersonate(request({ 'impersonate-user': 'system:serviceaccount:ns1:viewer' }), admin, z);
  assert.deepEqual(u, { name: 'system:serviceaccount:ns1:viewer', groups: ['system:serviceaccounts', 'system:serviceaccounts:ns1', 'system:authenticated'] });
  assert.deepEqual(asked, ['impersonate /serviceaccounts ns1/viewer']);
});

test("refusals: 403 in kube-apiserver's words; groups without a user are a 400", async () => {
  await assert.rejects(impersonate(request({ 'impersonate-user': 'jane' }), { name: 'bob', groups: [] }, z), (err: ApiError) =>
    err.http === 403 && err.message === 'users "jane" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
  await assert.rejects(impersonate(request({ 'impersonate-user': 'jane', 'impersonate-group': 'forbidden' }), admin, z), (err: ApiError) => err.http === 403 && /groups "forbidden" is forbidden/.test(err.message));
  await assert.rejects(impersonate(request({ 'impersonate-group': 'dev' }), admin, z), (err: ApiError) => err.http === 400 && /without impersonating a user/.test(err.message));
});
