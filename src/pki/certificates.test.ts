import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { caPin, certificateInfo, issuedBy } from './certificate-info.ts';
import { createCA, createCsr, inspectCsr, issueCertificate, readCsr, signClientCsr, signCsr } from './certificates.ts';

const ca = await createCA('berth-ca');

test('a CA is a critical CA:TRUE certificate that signs certificates', () => {
  const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: ca.cert }).toString();
  assert.match(text, /Basic Constraints: critical\s+CA:TRUE/);
  assert.match(text, /Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
  assert.match(text, /ecdsa-with-SHA256/);
  const info = certificateInfo(ca.cert);
  assert.equal(info.commonName, 'berth-ca');
  assert.ok(info.notAfter.getTime() - Date.now() > 3600 * 86_400_000);
});

test('a serving certificate names its DNS names and IPs; a client certificate carries user and groups', async () => {
  const srv = await issueCertificate(ca, { commonName: 'kube-apiserver', dnsNames: ['localhost', 'kubernetes.default.svc'], ipAddresses: ['127.0.0.1', '10.43.0.1'], usage: 'server', validityDays: 365 });
  assert.deepEqual(certificateInfo(srv.cert).dnsNames, ['localhost', 'kubernetes.default.svc']);
  assert.deepEqual(certificateInfo(srv.cert).ipAddresses, ['127.0.0.1', '10.43.0.1']);
  const cli = await issueCertificate(ca, { commonName: 'jane', organizations: ['dev', 'system:authenticated'], usage: 'client', validityDays: 1 });
  const info = certificateInfo(cli.cert);
  assert.equal(info.commonName, 'jane');
  assert.deepEqual(info.organizations, ['dev', 'system:authenticated']);
  assert.equal(issuedBy(cli.cert, ca.cert), true);
  assert.match(execFileSync('openssl', ['x509', '-noout', '-ext', 'extendedKeyUsage'], { input: cli.cert }).toString(), /TLS Web Client Authentication/);
  await assert.rejects(issueCertificate(ca, { commonName: 'x', ipAddresses: ['not-an-ip'], usage: 'server', validityDays: 1 }), /not an IP address/);
});

test('the CA pin is what kubeadm computes: sha256 of the DER SubjectPublicKeyInfo', () => {
  const pub = execFileSync('openssl', ['x509', '-pubkey', '-noout'], { input: ca.cert });
  const der = execFileSync('openssl', ['pkey', '-pubin', '-outform', 'der'], { input: pub });
  const hex = execFileSync('sha256sum', { input: der }).toString().split(' ')[0];
  assert.equal(caPin(ca.cert), `sha256:${hex}`);
});

test('a CSR is signed as a client certificate; a forged or CN-less one is refused', async () => {
  const { csr, key } = await createCsr('system:node:n1', ['system:nodes']);
  assert.deepEqual((await readCsr(csr)).organizations, ['system:nodes']);
  const cert = await signClientCsr(ca, csr, 365);
  assert.equal(certificateInfo(cert).commonName, 'system:node:n1');
  assert.equal(issuedBy(cert, ca.cert), true);
  assert.ok(key.includes('BEGIN PRIVATE KEY'));
  // One byte of the signature changed: the self-signature no longer verifies.
  const der = Buffer.from(csr.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  der[der.length - 5] ^= 0xff;
  const forged = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
  await assert.rejects(readCsr(forged));
  await assert.rejects(readCsr('not a csr'));
});

test('a serving CSR carries its names; signCsr issues them with the asked usage and a fractional validity', async () => {
  const { csr } = await createCsr('system:node:n1', ['system:nodes'], { dnsNames: ['n1'], ipAddresses: ['198.18.0.2'] });
  const asked = await inspectCsr(csr);
  assert.deepEqual([asked.commonNames, asked.organizations, asked.dnsNames, asked.ipAddresses], [['system:node:n1'], ['system:nodes'], ['n1'], ['198.18.0.2']]);
  const cert = await signCsr(ca, csr, { usage: 'server', validityDays: 3600 / 86_400 });
  const info = certificateInfo(cert);
  assert.deepEqual([info.commonName, info.dnsNames, info.ipAddresses], ['system:node:n1', ['n1'], ['198.18.0.2']]);
  // An hour, plus the minute of clock slack before now.
  assert.equal(info.notAfter.getTime() - info.notBefore.getTime(), 3600_000 + 60_000);
  assert.match(execFileSync('openssl', ['x509', '-noout', '-ext', 'extendedKeyUsage'], { input: cert }).toString(), /TLS Web Server Authentication/);
  assert.deepEqual((await inspectCsr((await createCsr('plain')).csr)).dnsNames, []);
  await assert.rejects(createCsr('x', [], { ipAddresses: ['nope'] }), /not an IP address/);
});

test('issuedBy is false for another CA and outside the validity window', async () => {
  const other = await createCA('other');
  const leaf = await issueCertificate(ca, { commonName: 'x', usage: 'client', validityDays: 1 });
  assert.equal(issuedBy(leaf.cert, other.cert), false);
  assert.equal(issuedBy(leaf.cert, ca.cert, new Date(Date.now() + 3 * 86_400_000)), false);
});

test('mutual TLS between Node peers with the issued certificates', async () => {
  const srv = await issueCertificate(ca, { commonName: 'server', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'], usage: 'server', validityDays: 1 });
  const cli = await issueCertificate(ca, { commonName: 'jane', organizations: ['dev'], usage: 'client', validityDays: 1 });
  const server = https.createServer({ cert: srv.cert, key: srv.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    res.end((req.socket as TLSSocket).getPeerCertificate().subject.CN);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const body = await new Promise<string>((resolve, reject) => {
      https.get({ host: '127.0.0.1', port, ca: ca.cert, cert: cli.cert, key: cli.key }, (res) => {
        let b = '';
        res.on('data', (d) => { b += d; });
        res.on('end', () => resolve(b));
      }).on('error', reject);
    });
    assert.equal(body, 'jane');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
