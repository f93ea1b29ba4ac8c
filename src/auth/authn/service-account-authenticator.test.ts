import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { test } from 'node:test';
import { SignJWT } from 'jose';
import type { KubeObject } from '../../apis/object.ts';
import { TokenRejected } from './authenticator.ts';
import { EXTRA, ServiceAccountTokenAuthenticator, type TokenObjectGetter } from './service-account-authenticator.ts';
import { DEFAULT_ISSUER, keyId, serviceAccountKeys, TokenSigner } from './service-account-token.ts';

function newKeys() {
  const p = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  return serviceAccountKeys(p.privateKey, p.publicKey);
}

const keys = newKeys();
const signer = new TokenSigner(keys);
const obj = (name: string, uid: string, more: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'X', metadata: { name, namespace: 'ns', uid }, ...more });

/** A world of objects the test edits. */
function world() {
  const sas = new Map<string, KubeObject>([['viewer', obj('viewer', 'sa-1')]]);
  const pods = new Map<string, KubeObject>([['web', obj('web', 'pod-1')]]);
  const secrets = new Map<string, KubeObject>();
  const objects: TokenObjectGetter = {
    serviceAccount: async (_ns, n) => sas.get(n),
    pod: async (_ns, n) => pods.get(n),
    secret: async (_ns, n) => secrets.get(n),
  };
  return { sas, pods, secrets, objects };
}

const bound = (expirationSeconds = 3600, audiences = [DEFAULT_ISSUER]) => signer.bound({
  namespace: 'ns', serviceAccount: { name: 'viewer', uid: 'sa-1' }, pod: { name: 'web', uid: 'pod-1' },
  node: { name: 'n1', uid: 'node-1' }, audiences, expirationSeconds,
});

async function rejected(p: Promise<unknown>, why: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TokenRejected, `a TokenRejected, got ${String(err)}`);
    assert.equal(err.http, 401);
    assert.equal(err.message, 'Unauthorized');
    assert.match(err.why, why);
    return true;
  });
}

test('a bound token is its ServiceAccount, with the pod, node and credential id as Kubernetes sets them', async () => {
  const w = world();
  const a = new ServiceAccountTokenAuthenticator({ keys, objects: w.objects });
  const { token, expiresAt } = await bound();
  assert.ok(Math.abs(expiresAt.getTime() - Date.now() - 3600_000) < 5000);
  const user = await a.authenticateToken(token);
  assert.equal(user?.name, 'system:serviceaccount:ns:viewer');
  assert.equal(user?.uid, 'sa-1');
  assert.deepEqual(user?.groups, ['system:serviceaccounts', 'system:serviceaccounts:ns']);
  assert.deepEqual(user?.extra?.[EXTRA.podName], ['web']);
  assert.deepEqual(user?.extra?.[EXTRA.podUID], ['pod-1']);
  assert.deepEqual(user?.extra?.[EXTRA.nodeName], ['n1']);
  assert.match(user?.extra?.[EXTRA.credentialID]?.[0] ?? '', /^JTI=[0-9a-f-]{36}$/);
  const header = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString());
  assert.deepEqual(header, { alg: 'ES256', kid: keyId(keys.publicKeys[0]) });
});

test('audiences: the API audience by default; a review for other audiences gets the intersection or a refusal', async () => {
  const w = world();
  const a = new ServiceAccountTokenAuthenticator({ keys, objects: w.objects });
  const { token } = await bound(3600, ['vault', 'other']);
  await rejected(a.authenticateToken(token), /audiences .* is invalid for the target audiences/);
  assert.deepEqual((await a.authenticateTokenFor(token, ['vault', 'nope']))?.audiences, ['vault']);
});

test('a token stops working when its pod or ServiceAccount goes, or was replaced by one of the same name', async () => {
  const w = world();
  const a = new ServiceAccountTokenAuthenticator({ keys, objects: w.objects });
  const { token } = await bound();
  assert.ok(await a.authenticateToken(token));
  w.pods.set('web', obj('web', 'pod-2'));
  await rejected(a.authenticateToken(token), /Pod UID \(pod-2\) does not match claim \(pod-1\)/);
  w.pods.delete('web');
  await rejected(a.authenticateToken(token), /pods "web" not found/);
  w.pods.set('web', obj('web', 'pod-1', {}));
  w.pods.get('web')!.metadata.deletionTimestamp = new Date(Date.now() - 10_000).toISOString();
  assert.ok(await a.authenticateToken(token), 'a pod that began terminating under a minute ago still counts');
  w.pods.get('web')!.metadata.deletionTimestamp = new Date(Date.now() - 120_000).toISOString();
  await rejected(a.authenticateToken(token), /has been deleted/);
  w.pods.set('web', obj('web', 'pod-1'));
  w.sas.set('viewer', obj('viewer', 'sa-2'));
  await rejected(a.authenticateToken(token), /ServiceAccount UID \(sa-2\) does not match claim \(sa-1\)/);
  w.sas.delete('viewer');
  await rejected(a.authenticateToken(token), /serviceaccounts "viewer" not found/);
});

test('expired, tampered, foreign-signed and unsigned tokens are 401s; not-a-JWT and other issuers are left to other authenticators', async () => {
  const w = world();
  const later = new Date(Date.now() + 3600_000 + 61_000);
  const { token } = await bound();
  await rejected(new ServiceAccountTokenAuthenticator({ keys, objects: w.objects, now: () => later }).authenticateToken(token), /expired/);
  const a = new ServiceAccountTokenAuthenticator({ keys, objects: w.objects });
  assert.ok(await a.authenticateToken(token));
  // Cached after the first verification, the expiry is still checked.
  const clock = { now: new Date() };
  const cachedA = new ServiceAccountTokenAuthenticator({ keys, objects: w.objects, now: () => clock.now });
  assert.ok(await cachedA.authenticateToken(token));
  clock.now = later;
  await rejected(cachedA.authenticateToken(token), /expired/);

  const [h, p, s] = token.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
  claims['kubernetes.io'].serviceaccount.name = 'admin';
  claims.sub = 'system:serviceaccount:ns:admin';
  await rejected(a.authenticateToken([h, Buffer.from(JSON.stringify(claims)).toString('base64url'), s].join('.')), /signature/);

  const foreign = await new TokenSigner(newKeys()).bound({ namespace: 'ns', serviceAccount: { name: 'viewer', uid: 'sa-1' }, audiences: [DEFAULT_ISSUER], expirationSeconds: 600 });
  await rejected(a.authenticateToken(foreign.token), /signature/);

  const hs = await new SignJWT({ 'kubernetes.io': { namespace: 'ns', serviceaccount: { name: 'viewer', uid: 'sa-1' } } })
    .setProtectedHeader({ alg: 'HS256' }).setIssuer(DEFAULT_ISSUER).setSubject('system:serviceaccount:ns:viewer').setAudience(DEFAULT_ISSUER).setExpirationTime('1h')
    .sign(new TextEncoder().encode('a shared secret anyone could guess'));
  await rejected(a.authenticateToken(hs), /algorithm/);
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: DEFAULT_ISSUER })).toString('base64url')}.`;
  await rejected(a.authenticateToken(none), /invalid bearer token/);

  assert.equal(await a.authenticateToken('abcdef.0123456789abcdef'), undefined, 'a bootstrap token is not ours');
  assert.equal(await a.authenticateToken('not.a.jwt'), undefined);
  const other = await new SignJWT({}).setProtectedHeader({ alg: 'ES256' }).setIssuer('https://accounts.example').sign(keys.privateKey);
  assert.equal(await a.authenticateToken(other), undefined, 'another issuer is some other authenticator\'s');
});

test('legacy Secret tokens: valid while the Secret holds exactly this token and the ServiceAccount is the same', async () => {
  const w = world();
  const a = new ServiceAccountTokenAuthenticator({ keys, objects: w.objects });
  const token = await signer.legacy('ns', { name: 'viewer', uid: 'sa-1' }, 'viewer-token');
  await rejected(a.authenticateToken(token), /secrets "viewer-token" not found/);
  w.secrets.set('viewer-token', obj('viewer-token', 's-1', { type: 'kubernetes.io/service-account-token', data: { token: Buffer.from(token).toString('base64') } }));
  const user = await a.authenticateToken(token);
  assert.equal(user?.name, 'system:serviceaccount:ns:viewer');
  assert.equal(user?.extra, undefined);
  assert.deepEqual((await a.authenticateTokenFor(token, [DEFAULT_ISSUER, 'x']))?.audiences, [DEFAULT_ISSUER], 'legacy tokens are for the API only');
  await rejected(a.authenticateTokenFor(token, ['x']), /invalid for the target audiences/);
  w.secrets.get('viewer-token')!.data = { token: Buffer.from('something else').toString('base64') };
  await rejected(a.authenticateToken(token), /does not match server's copy/);
});
