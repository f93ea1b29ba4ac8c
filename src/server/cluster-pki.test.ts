import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certificateInfo, issuedBy } from '../pki/certificate-info.ts';
import { ADMIN_USER, ensureClusterPki, needsRenewal } from './cluster-pki.ts';

test('first start creates the CA and leaves; later starts reuse them; a new name or age renews the serving certificate', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-pki-'));
  try {
    const first = await ensureClusterPki({ dataDir, sans: ['127.0.0.1', 'api.example'], serviceIP: '10.43.0.1' });
    assert.deepEqual(first.renewed.sort(), ['admin', 'apiserver', 'apiserver-kubelet-client', 'sa']);
    assert.match(first.serviceAccountKey.key, /BEGIN PRIVATE KEY/);
    assert.match(first.serviceAccountKey.pub, /BEGIN PUBLIC KEY/);
    assert.equal((await stat(join(dataDir, 'pki', 'sa.key'))).mode & 0o777, 0o600);
    const serving = certificateInfo(first.serving.cert);
    assert.ok(serving.dnsNames.includes('kubernetes.default.svc') && serving.dnsNames.includes('api.example') && serving.dnsNames.includes('localhost'));
    assert.deepEqual(serving.ipAddresses.sort(), ['10.43.0.1', '127.0.0.1']);
    const admin = certificateInfo(first.admin.cert);
    assert.equal(admin.commonName, ADMIN_USER);
    assert.deepEqual(admin.organizations, ['system:masters']);
    assert.equal(issuedBy(first.admin.cert, first.ca.cert), true);
    assert.equal((await readFile(join(dataDir, 'pki', 'ca.key'), 'utf8')).includes('PRIVATE KEY'), true);

    const again = await ensureClusterPki({ dataDir, sans: ['127.0.0.1', 'api.example'], serviceIP: '10.43.0.1' });
    assert.deepEqual(again.renewed, []);
    assert.equal(again.serving.cert, first.serving.cert);
    assert.equal(again.caPin, first.caPin);
    assert.deepEqual(again.serviceAccountKey, first.serviceAccountKey, 'the token signing key is kept');

    const more = await ensureClusterPki({ dataDir, sans: ['127.0.0.1', 'api.example', '198.18.0.7'], serviceIP: '10.43.0.1' });
    assert.deepEqual(more.renewed, ['apiserver'], 'a new --tls-san reissues the serving certificate only');
    assert.ok(certificateInfo(more.serving.cert).ipAddresses.includes('198.18.0.7'));

    const later = new Date(Date.now() + 250 * 86_400_000);
    assert.equal(needsRenewal(more.admin, more.ca, {}, later), true, 'a third of its life left: renew');
    assert.equal(needsRenewal(more.admin, more.ca, {}, new Date()), false);
    const renewed = await ensureClusterPki({ dataDir, sans: ['127.0.0.1', 'api.example', '198.18.0.7'], serviceIP: '10.43.0.1' }, later);
    assert.deepEqual(renewed.renewed.sort(), ['admin', 'apiserver', 'apiserver-kubelet-client']);
    assert.equal(renewed.ca.cert, first.ca.cert, 'the CA stays');
    assert.deepEqual(renewed.serviceAccountKey, first.serviceAccountKey, 'the token signing key is never renewed');
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
