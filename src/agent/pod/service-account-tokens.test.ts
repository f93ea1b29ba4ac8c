import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../apis/object.ts';
import { ServiceAccountTokens } from './service-account-tokens.ts';

const pod = (uid: string, sa?: string): KubeObject => ({ metadata: { name: `p-${uid}`, namespace: 'ns', uid }, spec: { serviceAccountName: sa } });

/** A fake API: hands out numbered tokens, records the requests, can be made to fail. */
function api(clock: { now: number }) {
  const requests: { ns: string; sa: string; body: KubeObject }[] = [];
  let down = false;
  const fn = async (ns: string, sa: string, body: KubeObject) => {
    if (down) throw new Error('connection refused');
    requests.push({ ns, sa, body });
    return { ...body, status: { token: `t${requests.length}`, expirationTimestamp: new Date(clock.now + body.spec.expirationSeconds * 1000).toISOString() } };
  };
  return { fn, requests, setDown: (d: boolean) => { down = d; } };
}

test('a TokenRequest per pod, bound to it, for its ServiceAccount, audience and expiry', async () => {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  const a = api(clock);
  const tokens = new ServiceAccountTokens(a.fn, () => clock.now);
  assert.equal(await tokens.token(pod('u1', 'robot'), { path: 'token', expirationSeconds: 3607 }), 't1');
  assert.deepEqual(a.requests[0], {
    ns: 'ns', sa: 'robot',
    body: {
      apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'robot', namespace: 'ns' },
      spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p-u1', uid: 'u1' } },
    },
  });
  assert.equal(await tokens.token(pod('u1', 'robot'), { path: 'token', expirationSeconds: 3607 }), 't1', 'kept while fresh');
  assert.equal(await tokens.token(pod('u1', 'robot'), { path: 'vault', audience: 'vault', expirationSeconds: 3607 }), 't2', 'another audience, another token');
  assert.deepEqual(a.requests[1].body.spec.audiences, ['vault']);
  assert.equal(await tokens.token(pod('u2'), { path: 'token' }), 't3');
  assert.equal(a.requests[2].sa, 'default');
  assert.equal(a.requests[2].body.spec.expirationSeconds, 3600);
});

test('refreshed after 80 % of its life; the old one serves while the API is away; forgotten with the pod', async () => {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  const a = api(clock);
  const tokens = new ServiceAccountTokens(a.fn, () => clock.now);
  const p = pod('u1');
  const src = { path: 'token', expirationSeconds: 1000 };
  assert.equal(await tokens.token(p, src), 't1');
  assert.equal(tokens.nextRefresh('u1'), clock.now + 800_000);
  clock.now += 799_000;
  assert.equal(await tokens.token(p, src), 't1');
  clock.now += 2000;
  assert.equal(await tokens.token(p, src), 't2', 'renewed at 80 %');
  clock.now += 900_000;
  a.setDown(true);
  assert.equal(await tokens.token(p, src), 't2', 'still valid: kept while the API is down');
  clock.now += 200_000;
  await assert.rejects(tokens.token(p, src), /failed to fetch token: connection refused/);
  a.setDown(false);
  tokens.forget('u1');
  assert.equal(tokens.nextRefresh('u1'), undefined);
  assert.equal(await tokens.token(p, src), 't3');
});

test('a day-old token is renewed even when its life is longer', async () => {
  const clock = { now: Date.parse('2026-01-01T00:00:00Z') };
  const a = api(clock);
  const tokens = new ServiceAccountTokens(a.fn, () => clock.now);
  await tokens.token(pod('u1'), { path: 'token', expirationSeconds: 7 * 86400 });
  assert.equal(tokens.nextRefresh('u1'), clock.now + 86_400_000);
});
