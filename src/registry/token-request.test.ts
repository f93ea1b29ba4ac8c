import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../apis/object.ts';
import { LocalClient } from '../client/local-client.ts';
import { ApiError, errors } from '../errors/index.ts';
import { openStore } from '../storage/index.ts';
import { AdmissionChain, type AdmissionRequest } from './admission/admission.ts';
import { resourceTypes } from './kinds/index.ts';
import { Registry } from './registry.ts';
import { tokenRequestSubresource, type BoundTokenSigner } from './token-request.ts';

const SA = { group: '', version: 'v1', resource: 'serviceaccounts' };
type Signed = Parameters<BoundTokenSigner['bound']>[0];

/** A registry serving serviceaccounts/token with a signer that records what it was asked to sign. */
async function withRegistry(fn: (r: Registry, client: LocalClient, signed: Signed[], seen: AdmissionRequest[]) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-token-request-'));
  const backend = await openStore('sqlite', dir);
  try {
    const registry = new Registry(backend, resourceTypes());
    await registry.store('', 'namespaces')!.create(undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    await registry.store('', 'serviceaccounts')!.create('a', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'robot' } });
    await registry.store('', 'nodes')!.create(undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
    const signed: Signed[] = [];
    const signer: BoundTokenSigner = { async bound(r) { signed.push(r); return { token: `tok-${signed.length}`, expiresAt: new Date(Date.now() + r.expirationSeconds * 1000) }; } };
    registry.store('', 'serviceaccounts')!.createSubresources.token = tokenRequestSubresource({ registry, signer, apiAudiences: ['https://kubernetes.default.svc.cluster.local'] });
    const seen: AdmissionRequest[] = [];
    registry.admission = new AdmissionChain([{
      name: 'Record',
      validate(req) {
        if (req.subresource !== 'token') return;
        seen.push(req);
        if (req.user.name === 'mallory') throw errors.forbidden('', 'serviceaccounts', req.name, 'not for you');
      },
    }]);
    await fn(registry, new LocalClient(registry), signed, seen);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const request = (spec: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: { name: 'robot' }, spec });
const rejects = async (p: Promise<unknown>, code: number, message: RegExp) => {
  await assert.rejects(p, (err: ApiError) => { assert.equal(err.http, code); assert.match(err.message, message); return true; });
};

test('defaults: the API audience and an hour; the answer carries the token and its expiry, nothing is stored', async () => {
  await withRegistry(async (registry, client, signed, seen) => {
    const out = await client.create(SA, 'a', request(), 'token');
    assert.equal(out.status.token, 'tok-1');
    assert.deepEqual(out.spec, { audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600 });
    assert.ok(Math.abs(Date.parse(out.status.expirationTimestamp) - Date.now() - 3600_000) < 5000);
    const sa = await registry.store('', 'serviceaccounts')!.get('a', 'robot');
    assert.deepEqual(signed[0], { namespace: 'a', serviceAccount: { name: 'robot', uid: sa.metadata.uid }, audiences: ['https://kubernetes.default.svc.cluster.local'], expirationSeconds: 3600, pod: undefined, secret: undefined, node: undefined });
    assert.equal(seen.length, 1, 'admitted as a CREATE of serviceaccounts/token');
    assert.equal(seen[0].operation, 'CREATE');
    assert.equal(seen[0].name, 'robot');
    assert.equal(seen[0].object?.kind, 'TokenRequest');
  });
});

test('a Pod binding: the pod must run as this ServiceAccount; its uid and node go into the token; a stale uid is a conflict', async () => {
  await withRegistry(async (registry, client, signed) => {
    const pods = registry.store('', 'pods')!;
    const pod = await pods.create('a', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { serviceAccountName: 'robot', nodeName: 'n1', containers: [{ name: 'c', image: 'host' }] } });
    const node = await registry.store('', 'nodes')!.get(undefined, 'n1');
    const out = await client.create(SA, 'a', request({ boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p' } }), 'token');
    assert.equal(out.spec.boundObjectRef.uid, pod.metadata.uid);
    assert.deepEqual(signed[0].pod, { name: 'p', uid: pod.metadata.uid });
    assert.deepEqual(signed[0].node, { name: 'n1', uid: node.metadata.uid });
    await rejects(client.create(SA, 'a', request({ boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'p', uid: 'stale' } }), 'token'), 409,
      /the UID in the bound object reference \(stale\) does not match the UID in record/);
    await pods.create('a', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'other' }, spec: { containers: [{ name: 'c', image: 'host' }] } });
    await rejects(client.create(SA, 'a', request({ boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'other' } }), 'token'), 400,
      /cannot bind token for serviceaccount "robot" to pod running with serviceaccount "default"/);
    await rejects(client.create(SA, 'a', request({ boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'gone' } }), 'token'), 404, /pods "gone" not found/);
    await rejects(client.create(SA, 'a', request({ boundObjectRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'd' } }), 'token'), 400,
      /cannot bind token to object of type apps\/v1, Kind=Deployment/);
    assert.equal(signed.length, 1);
  });
});

test('validation, a missing ServiceAccount, dry runs and admission refusals sign nothing', async () => {
  await withRegistry(async (registry, client, signed) => {
    await rejects(client.create(SA, 'a', request({ expirationSeconds: 599 }), 'token'), 422,
      /TokenRequest.authentication.k8s.io "robot" is invalid: spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes/);
    await rejects(client.create(SA, 'a', request({ expirationSeconds: 2 ** 32 + 1 }), 'token'), 422, /larger than 2\^32 seconds/);
    await rejects(client.create(SA, 'a', request({ expirationSeconds: 'soon' }), 'token'), 422, /must be an integer/);
    await rejects(client.create(SA, 'a', { ...request(), metadata: { name: 'ghost' } }, 'token'), 404, /serviceaccounts "ghost" not found/);
    const dry = await registry.store('', 'serviceaccounts')!.createSubresource('a', 'robot', 'token', request(), { dryRun: true });
    assert.equal(dry.status.token, '');
    const before = signed.length;
    await rejects(client.as({ user: { name: 'mallory', groups: [] }, authorizer: { authorize: () => 'allow' } }).create(SA, 'a', request(), 'token'), 403, /not for you/);
    assert.equal(signed.length, before, 'refused by admission: nothing signed');
    await rejects(client.create(SA, 'a', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'robot' } }, 'token'), 400, /does not match the expected/);
  });
});
