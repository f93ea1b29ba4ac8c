/**
 * Reading and checking certificates with Node's own X509Certificate (no library load): what a
 * certificate says about its holder and validity, the CA pin a joining node checks, and whether a
 * certificate was issued by a CA.
 */
import { createHash, X509Certificate } from 'node:crypto';

/** What a certificate says, for renewal decisions and authentication. */
export interface CertificateInfo {
  commonName: string;
  organizations: string[];
  notBefore: Date;
  notAfter: Date;
  dnsNames: string[];
  ipAddresses: string[];
}

/** Values of one attribute in Node's multi-line distinguished name (`CN=a\nO=b\nO=c`). */
function dnValues(dn: string, attr: string): string[] {
  return dn.split('\n').filter((l) => l.startsWith(`${attr}=`)).map((l) => l.slice(attr.length + 1));
}

export function certificateInfo(pem: string | X509Certificate): CertificateInfo {
  const c = typeof pem === 'string' ? new X509Certificate(pem) : pem;
  const san = (c.subjectAltName ?? '').split(', ').filter(Boolean);
  return {
    commonName: dnValues(c.subject, 'CN')[0] ?? '',
    organizations: dnValues(c.subject, 'O'),
    notBefore: new Date(c.validFrom), notAfter: new Date(c.validTo),
    dnsNames: san.filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)),
    ipAddresses: san.filter((n) => n.startsWith('IP Address:')).map((n) => n.slice(11)),
  };
}

/**
 * The CA's public-key pin, as kubeadm's `--discovery-token-ca-cert-hash` (and k3s's token prefix):
 * `sha256:` + the hex SHA-256 of the DER SubjectPublicKeyInfo.
 */
export function caPin(caPem: string): string {
  const spki = new X509Certificate(caPem).publicKey.export({ type: 'spki', format: 'der' });
  return `sha256:${createHash('sha256').update(spki).digest('hex')}`;
}

/** True when `certPem` was issued by the CA `caPem` (signature checked) and is valid at `at`. */
export function issuedBy(certPem: string, caPem: string, at = new Date()): boolean {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(caPem);
  const { notBefore, notAfter } = certificateInfo(cert);
  if (at < notBefore || at > notAfter) return false;
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}
