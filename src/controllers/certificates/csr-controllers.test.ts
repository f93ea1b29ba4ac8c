import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CSR_RESOURCE, SIGNERS } from '../../apis/certificates.ts';
import type { KubeObject } from '../../apis/object.ts';
import type { UserInfo } from '../../auth/attributes.ts';
import { R } from '../../client/client.ts';
import type { LocalClient } from '../../client/local-client.ts';
import { certificateInfo, issuedBy } from '../../pki/certificate-info.ts';
import { createCsr } from '../../pki/certificates.ts';
import { csrStatus } from '../../registry/tables/certificates.ts';
import { startNamedControllers, startTestEnv, waitFor, type TestEnv } from '../control-plane.fixture.ts';

let env: TestEnv;
let stop: () => Promise<void>;

before(async () => {
  env = await startTestEnv();
  const pki = env.server.pki;
  const c = await startNamedControllers(env, ['csrapproving', 'csrsigning'], { clusterSigning: { certFile: join(pki.dir, 'ca.crt'), keyFile: join(pki.dir, 'ca.key') } });
  stop = () => c.stop();
});
after(async () => {
  await stop();
  await env.close();
});

const bootstrapper: UserInfo = { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] };
const nodeUser = (n: string): UserInfo => ({ name: `system:node:${n}`, groups: ['system:nodes', 'system:authenticated'] });
const as = (user: UserInfo): LocalClient => env.client.as({ user, authorizer: env.server.authorizer });

async function submit(client: LocalClient, name: string, cn: string, o: string[], signerName: string, usages: string[], names = {}): Promise<KubeObject> {
  const { csr } = await createCsr(cn, o, names);
  return client.create(CSR_RESOURCE, undefined, {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name },
    spec: { request: Buffer.from(csr).toString('base64'), signerName, usages, expirationSeconds: 3600 },
  });
}

const get = (name: string) => env.client.get(CSR_RESOURCE, undefined, name);

test('a bootstrap token\'s node CSR is approved (nodeclient) and signed by the cluster CA for the asked duration', async () => {
  await submit(as(bootstrapper), 'boot-1', 'system:node:n1', ['system:nodes'], SIGNERS.kubeletClient, ['digital signature', 'client auth']);
  const done = await waitFor(async () => { const c = await get('boot-1'); return c.status?.certificate && c; }, 'certificate');
  assert.equal(csrStatus(done), 'Approved,Issued');
  assert.match(done.status.conditions[0].message, /Auto approving kubelet client certificate after SubjectAccessReview/);
  const cert = Buffer.from(done.status.certificate, 'base64').toString();
  assert.equal(issuedBy(cert, env.server.pki.ca.cert), true);
  const info = certificateInfo(cert);
  assert.equal(info.commonName, 'system:node:n1');
  assert.deepEqual(info.organizations, ['system:nodes']);
  assert.ok(Math.abs(info.notAfter.getTime() - info.notBefore.getTime() - 3660_000) < 5000, 'an hour (+1 min backdate)');
});

test('a node renews its own client certificate (selfnodeclient) but not another node\'s', async () => {
  await submit(as(nodeUser('n1')), 'self-1', 'system:node:n1', ['system:nodes'], SIGNERS.kubeletClient, ['digital signature', 'client auth']);
  await submit(as(nodeUser('n1')), 'other-1', 'system:node:n2', ['system:nodes'], SIGNERS.kubeletClient, ['digital signature', 'client auth']);
  const self = await waitFor(async () => { const c = await get('self-1'); return c.status?.certificate && c; }, 'own renewal');
  assert.match(self.status.conditions[0].message, /self kubelet client certificate/);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(csrStatus(await get('other-1')), 'Pending', "a node's request for another node's name stays pending");
});

test('requests the signer may not sign or nobody auto-approves stay pending or fail', async () => {
  // Wrong organization: not a node client certificate, so no approval.
  await submit(as(bootstrapper), 'boot-masters', 'system:node:n1', ['system:masters'], SIGNERS.kubeletClient, ['digital signature', 'client auth']);
  // kube-apiserver-client is never auto-approved; approved by an admin, it is signed.
  await submit(env.client, 'jane', 'jane', ['dev'], SIGNERS.apiserverClient, ['digital signature', 'client auth']);
  // An admin approves a kubelet-client request with server usages: the signer fails it.
  await submit(env.client, 'bad-usage', 'system:node:n3', ['system:nodes'], SIGNERS.kubeletClient, ['digital signature', 'server auth']);
  for (const name of ['jane', 'bad-usage']) {
    const c = await get(name);
    delete c.metadata.resourceVersion;
    await env.client.update(CSR_RESOURCE, undefined, { ...c, status: { conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove' }] } }, 'approval');
  }
  await waitFor(async () => (await get('jane')).status?.certificate, 'jane signed');
  const failed = await waitFor(async () => { const c = await get('bad-usage'); return csrStatus(c).includes('Failed') && c; }, 'bad-usage failed');
  const f = failed.status.conditions.find((x: { type: string }) => x.type === 'Failed');
  assert.equal(f.reason, 'SignerValidationFailure');
  assert.match(f.message, /usages did not match/);
  assert.equal(csrStatus(await get('boot-masters')), 'Pending');
});

test('a node\'s serving CSR is approved only for names that are its own addresses', async () => {
  await env.client.create(R.nodes, undefined, {
    apiVersion: 'v1', kind: 'Node', metadata: { name: 'n5', annotations: { 'berth.dev/agent-url': 'https://10.0.0.6:10250' } },
    status: { addresses: [{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'n5' }] },
  });
  const serving = ['digital signature', 'server auth'];
  await submit(as(nodeUser('n5')), 'serve-ok', 'system:node:n5', ['system:nodes'], SIGNERS.kubeletServing, serving, { dnsNames: ['n5'], ipAddresses: ['10.0.0.5', '10.0.0.6'] });
  await submit(as(nodeUser('n5')), 'serve-foreign', 'system:node:n5', ['system:nodes'], SIGNERS.kubeletServing, serving, { ipAddresses: ['10.0.0.5', '192.0.2.1'] });
  await submit(as(nodeUser('n5')), 'serve-other-node', 'system:node:n6', ['system:nodes'], SIGNERS.kubeletServing, serving, { ipAddresses: ['10.0.0.5'] });
  // An admin may approve kubelet-serving anyway: its request for the node's names is approved too.
  await submit(env.client, 'serve-by-admin', 'system:node:n5', ['system:nodes'], SIGNERS.kubeletServing, serving, { ipAddresses: ['10.0.0.5'] });
  const ok = await waitFor(async () => { const c = await get('serve-ok'); return c.status?.certificate && c; }, 'serving certificate');
  await waitFor(async () => (await get('serve-by-admin')).status?.certificate, 'admin-requested serving certificate');
  const info = certificateInfo(Buffer.from(ok.status.certificate, 'base64').toString());
  assert.deepEqual(info.ipAddresses, ['10.0.0.5', '10.0.0.6']);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(csrStatus(await get('serve-foreign')), 'Pending');
  assert.equal(csrStatus(await get('serve-other-node')), 'Pending');
});
