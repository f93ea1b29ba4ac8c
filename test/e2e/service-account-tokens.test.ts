/**
 * End to end: ServiceAccount tokens on a real `bin/berth server` through real kubectl — `kubectl
 * create token` (TokenRequest), `kubectl auth whoami` with the token alone, TokenReview, legacy
 * token Secrets filled by the tokens controller, and the refusals: a token whose ServiceAccount or
 * bound pod is gone, a tampered token, an expired one (signed with the server's own key) are 401s
 * with a Status, never 500s.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createPrivateKey } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { assertFails, assertOk, parseJson } from '../support/kubectl-assert.ts';
import { kubectl } from '../support/kubectl.ts';
import { waitFor as waitUntil } from '../support/wait.ts';

const NS = 'tokens';

describe('ServiceAccount tokens', { concurrency: false }, () => {
  let b: BerthServer;
  let work: string;
  const k = async (args: string[], input?: string) => b.kubectl(args, { input, timeoutMs: 30_000 });
  const waitFor = <T>(what: string, fn: () => Promise<T | undefined | false | null>) => waitUntil(what, fn, 30_000, () => b.logs().slice(-3000));

  /** A kubeconfig holding the server's CA and this token only, as a user would write one. */
  async function tokenKubeconfig(token: string): Promise<string> {
    const file = join(work, `token-${Math.random().toString(36).slice(2)}.kubeconfig`);
    await writeFile(file, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'b', cluster: { server: b.url, 'certificate-authority': join(b.dataDir, 'pki', 'ca.crt') } }],
      users: [{ name: 'u', user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'b', user: 'u', namespace: NS } }],
    }));
    return file;
  }
  const asToken = async (token: string, args: string[]) => kubectl(args, { kubeconfig: await tokenKubeconfig(token), cacheDir: join(work, 'cache'), timeoutMs: 30_000 });
  const bearer = (token: string, path: string) => b.request('GET', path, { anonymous: true, headers: { authorization: `Bearer ${token}` } });
  const review = async (token: string, audiences?: string[]) => parseJson<any>(assertOk(await k(['create', '-o', 'json', '-f', '-'],
    JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, ...(audiences ? { audiences } : {}) } })), 'TokenReview'), 'TokenReview');
  const assert401 = async (token: string, what: string) => {
    const r = await bearer(token, `/api/v1/namespaces/${NS}/pods`);
    assert.equal(r.status, 401, `${what}: ${r.body}`);
    assert.equal(r.json?.kind, 'Status', what);
    assert.equal(r.json?.reason, 'Unauthorized', what);
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-e2e-tokens-'));
    b = await startBerth();
    assertOk(await k(['create', 'namespace', NS]), 'namespace');
    assertOk(await k(['create', 'serviceaccount', 'robot', '-n', NS]), 'robot');
  });

  after(async () => {
    await b?.cleanup();
    await rm(work, { recursive: true, force: true });
  });

  test('kubectl create token: whoami with the token alone is the ServiceAccount; a TokenReview says the same', async () => {
    const token = assertOk(await k(['create', 'token', 'robot', '-n', NS, '--duration', '15m']), 'create token').trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
    assert.equal(claims.iss, 'https://kubernetes.default.svc.cluster.local');
    assert.equal(claims.sub, `system:serviceaccount:${NS}:robot`);
    assert.equal(claims.exp - claims.iat, 900);
    const whoami = parseJson<any>(assertOk(await asToken(token, ['auth', 'whoami', '-o', 'json']), 'whoami'), 'whoami');
    assert.equal(whoami.status.userInfo.username, `system:serviceaccount:${NS}:robot`);
    assert.deepEqual(whoami.status.userInfo.groups, ['system:serviceaccounts', `system:serviceaccounts:${NS}`, 'system:authenticated']);
    const sa = parseJson<any>(assertOk(await k(['get', 'sa', 'robot', '-n', NS, '-o', 'json']), 'sa'), 'sa');
    assert.equal(whoami.status.userInfo.uid, sa.metadata.uid);

    const r = await review(token);
    assert.equal(r.status.authenticated, true);
    assert.equal(r.status.user.username, `system:serviceaccount:${NS}:robot`);
    assert.deepEqual(r.status.audiences, ['https://kubernetes.default.svc.cluster.local']);
    const foreign = await review(token, ['vault']);
    assert.equal(foreign.status.authenticated, false);
    assert.match(foreign.status.error, /invalid for the target audiences/);
    const forVault = assertOk(await k(['create', 'token', 'robot', '-n', NS, '--audience', 'vault']), 'token for vault').trim();
    assert.deepEqual((await review(forVault, ['vault'])).status.audiences, ['vault']);
    await assert401(forVault, 'a token for another audience is not for the API server');
    assertFails(await k(['create', 'token', 'robot', '-n', NS, '--duration', '5m']), 'too short', /may not specify a duration less than 10 minutes/);
    assertFails(await k(['create', 'token', 'nobody', '-n', NS]), 'no such ServiceAccount', /serviceaccounts "nobody" not found/);
  });

  test('a token bound to a pod stops working when the pod goes; one of a deleted ServiceAccount too', async () => {
    assertOk(await k(['create', 'serviceaccount', 'short-lived', '-n', NS]), 'sa');
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'holder', namespace: NS }, spec: { serviceAccountName: 'short-lived', nodeName: 'nowhere', containers: [{ name: 'c', image: 'host', command: ['sleep', '1'] }] } };
    assertOk(await k(['apply', '-f', '-'], JSON.stringify(pod)), 'pod');
    const bound = assertOk(await k(['create', 'token', 'short-lived', '-n', NS, '--bound-object-kind', 'Pod', '--bound-object-name', 'holder']), 'bound token').trim();
    const plain = assertOk(await k(['create', 'token', 'short-lived', '-n', NS]), 'plain token').trim();
    const whoami = parseJson<any>(assertOk(await asToken(bound, ['auth', 'whoami', '-o', 'json']), 'whoami bound'), 'whoami');
    assert.deepEqual(whoami.status.userInfo.extra['authentication.kubernetes.io/pod-name'], ['holder']);
    assertFails(await k(['create', 'token', 'robot', '-n', NS, '--bound-object-kind', 'Pod', '--bound-object-name', 'holder']), 'another SA\'s pod',
      /cannot bind token for serviceaccount "robot" to pod running with serviceaccount "short-lived"/);

    assertOk(await k(['delete', 'pod', 'holder', '-n', NS, '--grace-period=0', '--force']), 'delete pod');
    await waitFor('the bound token refused', async () => (await bearer(bound, `/api/v1/namespaces/${NS}/pods`)).status === 401);
    await assert401(bound, 'bound to a deleted pod');
    assertFails(await asToken(bound, ['auth', 'whoami']), 'whoami after the pod went', /Unauthorized/);
    assert.match((await review(bound)).status.error, /pods "holder" not found/);
    assert.equal((await bearer(plain, `/api/v1/namespaces/${NS}/pods`)).status, 403, 'the unbound token still authenticates (and RBAC grants it nothing)');

    assertOk(await k(['delete', 'serviceaccount', 'short-lived', '-n', NS]), 'delete sa');
    await waitFor('the plain token refused', async () => (await bearer(plain, `/api/v1/namespaces/${NS}/pods`)).status === 401);
    assertOk(await k(['create', 'serviceaccount', 'short-lived', '-n', NS]), 'same name again');
    await assert401(plain, 'a ServiceAccount of the same name is another one (uid)');
  });

  test('tampered, foreign, expired and malformed tokens: 401 with a Status, never a 500', async () => {
    const token = assertOk(await k(['create', 'token', 'robot', '-n', NS]), 'token').trim();
    assert.equal((await bearer(token, `/api/v1/namespaces/${NS}/pods`)).status, 403);
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    const other = { ...claims, sub: 'system:serviceaccount:kube-system:default', 'kubernetes.io': { ...claims['kubernetes.io'], namespace: 'kube-system' } };
    await assert401([h, Buffer.from(JSON.stringify(other)).toString('base64url'), s].join('.'), 'claims changed');
    await assert401([h, p, s.slice(0, -4) + (s.endsWith('AAAA') ? 'BBBB' : 'AAAA')].join('.'), 'signature changed');
    const key = createPrivateKey(await readFile(join(b.dataDir, 'pki', 'sa.key'), 'utf8'));
    const expired = await new SignJWT({ 'kubernetes.io': claims['kubernetes.io'] }).setProtectedHeader({ alg: 'ES256' })
      .setIssuer(claims.iss).setSubject(claims.sub).setAudience(claims.aud).setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(key);
    await assert401(expired, 'expired an hour ago, signed with the server\'s own key');
    assert.match((await review(expired)).status.error, /expired/);
    for (const bad of ['a.b.c', 'eyJhbGciOiJub25lIn0.e30.', 'not-a-token', 'x'.repeat(5000)]) await assert401(bad, JSON.stringify(bad.slice(0, 20)));
    const empty = await b.request('POST', '/apis/authentication.k8s.io/v1/tokenreviews', { body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {} } });
    assert.equal(empty.status, 400);
    assert.equal(empty.json?.message, 'token is required for TokenReview in authentication');
    assert.equal((await b.request('GET', '/apis/authentication.k8s.io/v1/tokenreviews')).status, 405, 'reviews are create-only');
  });

  test('a TokenReview asks every token authenticator: the join token is a bootstrap token', async () => {
    const line = (await readFile(join(b.dataDir, 'join-token'), 'utf8')).trim();
    const token = line.slice(line.indexOf('::') + 2);
    const r = await review(token);
    assert.equal(r.status.authenticated, true);
    assert.equal(r.status.user.username, `system:bootstrap:${token.split('.')[0]}`);
    assert.ok(r.status.user.groups.includes('system:bootstrappers'));
    assert.equal((await review(token, ['vault'])).status.authenticated, false, 'a bootstrap token is for the API server only');
  });

  test('a legacy token Secret is filled by the tokens controller and deleted with its ServiceAccount', async () => {
    assertOk(await k(['create', 'serviceaccount', 'legacy', '-n', NS]), 'sa');
    assertOk(await k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/service-account-token',
      metadata: { name: 'legacy-token', namespace: NS, annotations: { 'kubernetes.io/service-account.name': 'legacy' } },
    })), 'secret');
    const secret = await waitFor('the token filled in', async () => {
      const s = parseJson<any>(assertOk(await k(['get', 'secret', 'legacy-token', '-n', NS, '-o', 'json']), 'secret'), 'secret');
      return s.data?.token ? s : undefined;
    });
    assert.equal(Buffer.from(secret.data['ca.crt'], 'base64').toString(), await readFile(join(b.dataDir, 'pki', 'ca.crt'), 'utf8'));
    assert.equal(Buffer.from(secret.data.namespace, 'base64').toString(), NS);
    const token = Buffer.from(secret.data.token, 'base64').toString();
    const whoami = parseJson<any>(assertOk(await asToken(token, ['auth', 'whoami', '-o', 'json']), 'whoami legacy'), 'whoami');
    assert.equal(whoami.status.userInfo.username, `system:serviceaccount:${NS}:legacy`);
    assertOk(await k(['delete', 'serviceaccount', 'legacy', '-n', NS]), 'delete sa');
    await waitFor('the Secret deleted', async () => (await k(['get', 'secret', 'legacy-token', '-n', NS])).code !== 0);
    await assert401(token, 'a legacy token whose Secret is gone');
  });
});
