import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import type { UserInfo } from '../../auth/attributes.ts';
import { ApiError } from '../../errors/index.ts';
import { createCA, createCsr, signCsr } from '../../pki/certificates.ts';
import { openStore } from '../../storage/index.ts';
import { certificateSigningRequestTable, csrStatus } from '../tables/certificates.ts';
import { resourceTypes } from './index.ts';
import { Registry } from '../registry.ts';
import { makeFilter } from '../object-filter.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const jane: UserInfo = { name: 'system:bootstrap:abcdef', uid: 'u-1', groups: ['system:bootstrappers', 'system:authenticated'], extra: { scope: ['join'] } };

async function withCsrs(fn: (store: NonNullable<ReturnType<Registry['store']>>) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-csr-'));
  const backend = await openStore('sqlite', dir);
  try {
    await fn(new Registry(backend, resourceTypes()).store('certificates.k8s.io', 'certificatesigningrequests')!);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function csrObject(name: string, extra: Record<string, unknown> = {}): Promise<KubeObject> {
  const { csr } = await createCsr('system:node:n1', ['system:nodes']);
  return {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: { request: b64(csr), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], ...extra },
  };
}

async function invalid(p: Promise<unknown>): Promise<string[]> {
  try { await p; } catch (err) {
    assert.ok(err instanceof ApiError, String(err));
    assert.equal(err.http, 422, err.message);
    return (err.toStatus().details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
  }
  assert.fail('accepted');
}

test('create records the requester from the request, never from the body, and no status', async () => {
  await withCsrs(async (store) => {
    const body = await csrObject('c1', { username: 'system:admin', groups: ['system:masters'] });
    body.status = { conditions: [{ type: 'Approved', status: 'True' }] };
    const created = await store.create(undefined, body, { user: jane });
    assert.equal(created.spec.username, 'system:bootstrap:abcdef');
    assert.equal(created.spec.uid, 'u-1');
    assert.deepEqual(created.spec.groups, ['system:bootstrappers', 'system:authenticated']);
    assert.deepEqual(created.spec.extra, { scope: ['join'] });
    assert.deepEqual(created.status, {});
    assert.equal(csrStatus(created), 'Pending');
    const bySigner = await store.list(undefined, { filter: makeFilter(store.type, undefined, 'spec.signerName=kubernetes.io/kube-apiserver-client-kubelet') });
    assert.deepEqual(bySigner.items.map((c) => c.metadata.name), ['c1']);
    assert.equal((await store.list(undefined, { filter: makeFilter(store.type, undefined, 'spec.signerName=example.com/x') })).items.length, 0);
    const row = certificateSigningRequestTable.cells(created, new Date());
    assert.deepEqual(row.slice(2), ['kubernetes.io/kube-apiserver-client-kubelet', 'system:bootstrap:abcdef', '<none>', 'Pending']);
  });
});

test('a forged or malformed request, bad usages, signer names and durations are 422s', async () => {
  await withCsrs(async (store) => {
    const forged = await csrObject('f');
    const pem = Buffer.from(forged.spec.request, 'base64').toString();
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 3] ^= 0x55;
    forged.spec.request = b64(`-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`);
    assert.match((await invalid(store.create(undefined, forged, { user: jane })))[0], /^spec\.request: Invalid value: "<request data>": /);
    assert.deepEqual(await invalid(store.create(undefined, await csrObject('p', { request: b64('hello') }), { user: jane })),
      ['spec.request: Invalid value: "<request data>": PEM block type must be CERTIFICATE REQUEST']);
    const errs = await invalid(store.create(undefined, await csrObject('u', { usages: ['client auth', 'teleport', 'client auth'], signerName: 'kubernetes', expirationSeconds: 60 }), { user: jane }));
    assert.deepEqual(errs.map((e) => e.split(':')[0]), ['spec.usages[1]', 'spec.usages[2]', 'spec.signerName', 'spec.expirationSeconds']);
    assert.match(errs[2], /must be a fully qualified domain and path of the form 'example.com\/signer-name'/);
    assert.deepEqual(await invalid(store.create(undefined, await csrObject('n', { usages: [] }), { user: jane })), ['spec.usages: Required value']);
    assert.match((await invalid(store.create(undefined, await csrObject('l', { signerName: 'kubernetes.io/legacy-unknown' }), { user: jane })))[0], /the legacy signerName is not allowed via this API version/);
  });
});

test('approval sets Approved/Denied only; status sets the certificate once; nothing removes a final condition', async () => {
  const ca = await createCA('csr-test');
  await withCsrs(async (store) => {
    const created = await store.create(undefined, await csrObject('c2', { expirationSeconds: 3600 }), { user: jane });
    delete created.metadata.resourceVersion;
    // The main resource changes metadata only: a new spec is ignored.
    const relabelled = await store.update(undefined, 'c2', { ...created, metadata: { ...created.metadata, labels: { a: 'b' } }, spec: { ...created.spec, signerName: 'example.com/other' } });
    assert.equal(relabelled.spec.signerName, 'kubernetes.io/kube-apiserver-client-kubelet');
    assert.deepEqual(relabelled.metadata.labels, { a: 'b' });
    // Approval through status is refused (the condition is dropped, so nothing changes); through approval it sticks.
    const viaStatus = await store.update(undefined, 'c2', { ...created, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'x' }] } }, { subresource: 'status' });
    assert.equal(csrStatus(viaStatus), 'Pending');
    const approved = await store.update(undefined, 'c2', { ...created, status: { conditions: [{ type: 'Approved', reason: 'AutoApproved', message: 'ok' }] } }, { subresource: 'approval' });
    const cond = approved.status.conditions[0];
    assert.equal(cond.status, 'True', 'status defaults to True');
    assert.ok(cond.lastUpdateTime && cond.lastTransitionTime);
    assert.equal(csrStatus(approved), 'Approved');
    delete approved.metadata.resourceVersion;
    assert.match((await invalid(store.update(undefined, 'c2', { ...approved, status: { conditions: [...approved.status.conditions, { type: 'Denied', status: 'True' }] } }, { subresource: 'approval' })))[0], /Approved and Denied conditions are mutually exclusive/);
    assert.match((await invalid(store.update(undefined, 'c2', { ...approved, status: { conditions: [] } }, { subresource: 'approval' })))[0], /updates may not remove a condition of type "Approved"/);
    // The approval subresource cannot issue a certificate; status can, once.
    const cert = await signCsr(ca, Buffer.from(created.spec.request, 'base64').toString(), { usage: 'client', validityDays: 1 });
    const notIssued = await store.update(undefined, 'c2', { ...approved, status: { ...approved.status, certificate: b64(cert) } }, { subresource: 'approval' });
    assert.equal(notIssued.status.certificate, undefined);
    assert.deepEqual(await invalid(store.update(undefined, 'c2', { ...approved, status: { ...approved.status, certificate: b64('junk') } }, { subresource: 'status' })),
      ['status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block']);
    const issued = await store.update(undefined, 'c2', { ...approved, status: { ...approved.status, certificate: b64(cert) } }, { subresource: 'status' });
    assert.equal(csrStatus(issued), 'Approved,Issued');
    delete issued.metadata.resourceVersion;
    assert.match((await invalid(store.update(undefined, 'c2', { ...issued, status: { ...issued.status, certificate: b64(cert + cert) } }, { subresource: 'status' })))[0], /updates may not modify existing certificate content/);
    assert.equal(certificateSigningRequestTable.cells(issued, new Date())[4], '60m');
  });
});
