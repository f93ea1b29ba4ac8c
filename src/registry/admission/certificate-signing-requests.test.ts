import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../apis/object.ts';
import { RESOURCES } from '../../apis/resources.ts';
import type { Attributes, Authorizer, UserInfo } from '../../auth/attributes.ts';
import { ApiError } from '../../errors/index.ts';
import { createCsr } from '../../pki/certificates.ts';
import type { AdmissionRequest, Operation } from './admission.ts';
import { certificateSigningRequestAdmission } from './certificate-signing-requests.ts';

const info = RESOURCES.find((r) => r.plural === 'certificatesigningrequests')!;
const jane: UserInfo = { name: 'jane', groups: [] };
const asked: Attributes[] = [];
// jane may approve example.com/* and sign nothing.
const authorizer: Authorizer = { authorize(a) { asked.push(a); return a.verb === 'approve' && a.name === 'example.com/*' ? 'allow' : 'no-opinion'; } };
const [approval, signing, subject] = certificateSigningRequestAdmission(() => authorizer);

const csr = (signerName: string, extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'c' }, spec: { signerName, ...extra }, status: {} });
const req = (operation: Operation, subresource: string, object: KubeObject, oldObject?: KubeObject): AdmissionRequest =>
  ({ operation, resource: info, subresource, namespace: '', name: 'c', object, oldObject, user: jane, dryRun: false });

async function refusal(p: Promise<void> | void): Promise<string> {
  try { await p; } catch (err) { assert.ok(err instanceof ApiError && err.http === 403, String(err)); return err.message; }
  assert.fail('admitted');
}

test('approving needs approve on the signer (or its domain wildcard); signing needs sign', async () => {
  await approval.validate!(req('UPDATE', 'approval', csr('example.com/widgets')));
  assert.deepEqual(asked.map((a) => [a.verb, a.resource, a.apiGroup, a.name]), [['approve', 'signers', 'certificates.k8s.io', 'example.com/widgets'], ['approve', 'signers', 'certificates.k8s.io', 'example.com/*']]);
  assert.match(await refusal(approval.validate!(req('UPDATE', 'approval', csr('kubernetes.io/kube-apiserver-client')))),
    /certificatesigningrequests.certificates.k8s.io "c" is forbidden: user not permitted to approve requests with signerName "kubernetes.io\/kube-apiserver-client"/);
  // A status write that leaves the certificate alone needs nothing; setting one needs sign.
  await signing.validate!(req('UPDATE', 'status', csr('example.com/widgets'), csr('example.com/widgets')));
  assert.match(await refusal(signing.validate!(req('UPDATE', 'status', { ...csr('example.com/widgets'), status: { certificate: 'Y2VydA==' } }, csr('example.com/widgets')))),
    /user not permitted to sign requests with signerName "example.com\/widgets"/);
});

test('no kube-apiserver-client certificate for system:masters', async () => {
  const pem = async (o: string[]) => Buffer.from((await createCsr('mallory', o)).csr).toString('base64');
  await subject.validate!(req('CREATE', '', csr('kubernetes.io/kube-apiserver-client', { request: await pem(['dev']) })));
  await subject.validate!(req('CREATE', '', csr('example.com/other', { request: await pem(['system:masters']) })));
  assert.match(await refusal(subject.validate!(req('CREATE', '', csr('kubernetes.io/kube-apiserver-client', { request: await pem(['dev', 'system:masters']) })))),
    /use of kubernetes.io\/kube-apiserver-client signer with system:masters group is not allowed/);
});
