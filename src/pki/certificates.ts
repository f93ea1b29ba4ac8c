/**
 * Issuing X.509 for the cluster: a self-signed CA, leaf certificates it issues (serving, client or
 * both) and CSRs it signs, all ECDSA P-256 with SHA-256 — what kubeadm's certs phase and the CSR
 * signing controller produce. Issuing goes through @peculiar/x509 on Node's WebCrypto (nothing here
 * writes ASN.1 by hand); reading and verifying use Node's own X509Certificate (certificate-info.ts).
 *
 * @peculiar/x509 is imported on first use: loading it costs ~125 ms, which a server that already has
 * its certificates should not pay at start-up.
 */
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

type X509 = typeof import('@peculiar/x509');
let loaded: Promise<X509> | undefined;
function lib(): Promise<X509> {
  loaded ??= (async () => {
    // @peculiar/x509 resolves its algorithm providers through tsyringe, which needs the Reflect metadata API.
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Crypto);
    return x509;
  })();
  return loaded;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A certificate and its private key, both PEM. */
export interface KeyPairPem {
  cert: string;
  key: string;
}

/** What a leaf certificate says about its holder. */
export interface LeafSpec {
  /** Subject CN: the user name for client certificates (Kubernetes reads CN as the user). */
  commonName: string;
  /** Subject O entries: the groups for client certificates. */
  organizations?: string[];
  /** DNS names and IP addresses of a serving certificate. */
  dnsNames?: string[];
  ipAddresses?: string[];
  usage: 'server' | 'client' | 'server+client';
  validityDays: number;
}

async function newKeyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{1,64}/g, '$&\n')}-----END PRIVATE KEY-----\n`;
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, EC, true, ['sign']);
}

/** A distinguished name string with CN and O entries, escaped for @peculiar/x509's parser. */
function subjectName(cn: string, orgs: string[] = []): string {
  const esc = (v: string) => v.replace(/[\\,+"<>;=]/g, (c) => `\\${c}`);
  return [`CN=${esc(cn)}`, ...orgs.map((o) => `O=${esc(o)}`)].join(', ');
}

/** A serial number of 128 random bits, positive (top bit clear), as RFC 5280 asks. */
function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] &= 0x7f;
  return Buffer.from(b).toString('hex');
}

/** Creates a self-signed CA valid for `validityDays` (default 10 years, as kubeadm's). */
export async function createCA(commonName: string, validityDays = 3650): Promise<KeyPairPem> {
  const x509 = await lib();
  const keys = await newKeyPair();
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(), name: subjectName(commonName), keys, signingAlgorithm: SIGN,
    notBefore: new Date(now - 60_000), notAfter: new Date(now + validityDays * DAY_MS),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem') + '\n', key: await privateKeyPem(keys.privateKey) };
}

function leafExtensions(x509: X509, spec: Pick<LeafSpec, 'usage' | 'dnsNames' | 'ipAddresses'>): import('@peculiar/x509').Extension[] {
  const eku: string[] = [];
  if (spec.usage.includes('server')) eku.push(x509.ExtendedKeyUsage.serverAuth);
  if (spec.usage.includes('client')) eku.push(x509.ExtendedKeyUsage.clientAuth);
  const ext: import('@peculiar/x509').Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(eku),
  ];
  const san = [
    ...(spec.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (san.length) ext.push(new x509.SubjectAlternativeNameExtension(san));
  return ext;
}

async function sign(ca: KeyPairPem, subject: string, publicKey: import('@peculiar/x509').PublicKey | CryptoKey, spec: Pick<LeafSpec, 'usage' | 'dnsNames' | 'ipAddresses' | 'validityDays'>): Promise<string> {
  const x509 = await lib();
  const caCert = new x509.X509Certificate(ca.cert);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(), subject, issuer: caCert.subjectName, publicKey,
    signingKey: await importPrivateKey(ca.key), signingAlgorithm: SIGN,
    // A minute of slack for clocks a little behind the issuer's.
    notBefore: new Date(now - 60_000), notAfter: new Date(now + spec.validityDays * DAY_MS),
    extensions: [
      ...leafExtensions(x509, spec),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return cert.toString('pem') + '\n';
}

/** Issues a leaf certificate with a fresh key. */
export async function issueCertificate(ca: KeyPairPem, spec: LeafSpec): Promise<KeyPairPem> {
  for (const ip of spec.ipAddresses ?? []) if (!isIP(ip)) throw new Error(`not an IP address: ${ip}`);
  const keys = await newKeyPair();
  const cert = await sign(ca, subjectName(spec.commonName, spec.organizations), keys.publicKey, spec);
  return { cert, key: await privateKeyPem(keys.privateKey) };
}

/** A CSR's subject, as the CSR signing controller reads it. */
export interface CsrSubject {
  commonName: string;
  organizations: string[];
}

/** Everything a CSR asks for that an approver or signer checks (x509.CertificateRequest's fields). */
export interface CsrContents {
  commonNames: string[];
  organizations: string[];
  dnsNames: string[];
  ipAddresses: string[];
  emailAddresses: string[];
  uris: string[];
  /** `EC` (with its curve), `RSA`, `Ed25519`… as @peculiar/x509 names the key algorithm. */
  keyAlgorithm: string;
}

/** The subjectAltName names of a CSR (its extension request), typed. */
function csrNames(x509: X509, csr: import('@peculiar/x509').Pkcs10CertificateRequest): readonly import('@peculiar/x509').GeneralName[] {
  const ext = csr.getExtension('2.5.29.17');
  if (!ext) return [];
  const san = ext instanceof x509.SubjectAlternativeNameExtension ? ext : new x509.SubjectAlternativeNameExtension(ext.rawData);
  return san.names.items;
}

/** Parses a PEM CSR and checks its self-signature; throws on malformed or forged requests. */
async function parseCsr(pem: string): Promise<import('@peculiar/x509').Pkcs10CertificateRequest> {
  const x509 = await lib();
  const csr = new x509.Pkcs10CertificateRequest(pem);
  if (!(await csr.verify())) throw new Error('the CSR signature does not verify');
  return csr;
}

/** What a CSR asks for, its signature checked first (the API's CSR validation, the signers' checks). */
export async function inspectCsr(pem: string): Promise<CsrContents> {
  const x509 = await lib();
  const csr = await parseCsr(pem);
  const out: CsrContents = {
    commonNames: csr.subjectName.getField('CN'), organizations: csr.subjectName.getField('O'),
    dnsNames: [], ipAddresses: [], emailAddresses: [], uris: [],
    keyAlgorithm: (csr.publicKey.algorithm as { name?: string }).name ?? '',
  };
  for (const n of csrNames(x509, csr)) {
    if (n.type === 'dns') out.dnsNames.push(n.value);
    else if (n.type === 'ip') out.ipAddresses.push(n.value);
    else if (n.type === 'email') out.emailAddresses.push(n.value);
    else if (n.type === 'url') out.uris.push(n.value);
  }
  return out;
}

/** Reads a PEM CSR and checks its self-signature; throws on malformed or forged requests. */
export async function readCsr(pem: string): Promise<CsrSubject & { csr: import('@peculiar/x509').Pkcs10CertificateRequest }> {
  const csr = await parseCsr(pem);
  const cn = csr.subjectName.getField('CN');
  if (cn.length !== 1) throw new Error('the CSR subject must have exactly one CN');
  return { csr, commonName: cn[0], organizations: csr.subjectName.getField('O') };
}

/**
 * Signs a CSR for the cluster's signers: its subject and its DNS and IP names, with the given usage
 * (client for kube-apiserver-client[-kubelet], server for kubelet-serving). `validityDays` may be
 * fractional (a CSR's spec.expirationSeconds).
 */
export async function signCsr(ca: KeyPairPem, pem: string, spec: Pick<LeafSpec, 'usage' | 'validityDays'>): Promise<string> {
  const x509 = await lib();
  const csr = await parseCsr(pem);
  const names = csrNames(x509, csr);
  const cn = csr.subjectName.getField('CN');
  return sign(ca, subjectName(cn[0] ?? '', csr.subjectName.getField('O')), csr.publicKey, {
    ...spec,
    dnsNames: names.filter((n) => n.type === 'dns').map((n) => n.value),
    ipAddresses: names.filter((n) => n.type === 'ip').map((n) => n.value),
  });
}

/** Signs a CSR as a client certificate (signer kubernetes.io/kube-apiserver-client[-kubelet]). */
export async function signClientCsr(ca: KeyPairPem, pem: string, validityDays: number): Promise<string> {
  const { csr, commonName, organizations } = await readCsr(pem);
  return sign(ca, subjectName(commonName, organizations), csr.publicKey, { usage: 'client', validityDays });
}

/** Creates a CSR and its key, as a joining node does; `names` go into a subjectAltName (serving certificates). */
export async function createCsr(commonName: string, organizations: string[] = [], names: { dnsNames?: string[]; ipAddresses?: string[] } = {}): Promise<{ csr: string; key: string }> {
  const x509 = await lib();
  for (const ip of names.ipAddresses ?? []) if (!isIP(ip)) throw new Error(`not an IP address: ${ip}`);
  const keys = await newKeyPair();
  const san = [
    ...(names.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(names.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(commonName, organizations), keys, signingAlgorithm: SIGN,
    extensions: san.length ? [new x509.SubjectAlternativeNameExtension(san)] : [],
  });
  return { csr: csr.toString('pem') + '\n', key: await privateKeyPem(keys.privateKey) };
}
