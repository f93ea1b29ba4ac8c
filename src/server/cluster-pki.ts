/**
 * The cluster's certificates in the data dir (kubeadm's /etc/kubernetes/pki, k3s's server/tls):
 * created on first start, reused after, renewed before they expire.
 *
 *   DATA/pki/ca.crt, ca.key                 cluster CA, 10 years
 *   DATA/pki/apiserver.crt, apiserver.key   serving: every listen address, kubernetes.default.svc…,
 *                                           the first service IP, --tls-san; 1 year
 *   DATA/pki/admin.crt, admin.key           client: berth-admin in system:masters; 1 year
 *   DATA/pki/apiserver-kubelet-client.*     client: the API server towards node agents; 1 year
 *   DATA/pki/sa.key, sa.pub                 the ServiceAccount token signing key (ES256; kubeadm's
 *                                           sa.key/sa.pub), created once, never renewed: a new key
 *                                           would invalidate every token pods hold
 *
 * A leaf is issued again when it is missing, does not chain to the CA, lacks a wanted name, or has
 * less than a third of its life left; the caller swaps it into the running server (no restart).
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { certificateInfo, caPin, issuedBy } from '../pki/certificate-info.ts';
import { createCA, issueCertificate, type KeyPairPem, type LeafSpec } from '../pki/certificates.ts';

/** The admin identity of the kubeconfig Berth writes (kubeadm's kubernetes-admin). */
export const ADMIN_USER = 'berth-admin';
const LEAF_DAYS = 365;
const CLUSTER_DOMAIN_NAMES = ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];

export interface ClusterPki {
  dir: string;
  ca: KeyPairPem;
  /** `sha256:<hex>` of the CA's public key, the pin joining nodes check. */
  caPin: string;
  serving: KeyPairPem;
  admin: KeyPairPem;
  /** What the API server presents to node agents' stream servers. */
  kubeletClient: KeyPairPem;
  /** The ServiceAccount token signing key: `key` PKCS#8 PEM, `pub` SPKI PEM (kube-apiserver's --service-account-{signing-,}key-file). */
  serviceAccountKey: { key: string; pub: string };
}

export interface ClusterPkiOptions {
  dataDir: string;
  /** Host names and IP addresses the serving certificate must name (listen addresses, --tls-san). */
  sans: string[];
  /** The first address of the service CIDR (the `kubernetes` Service's ClusterIP). */
  serviceIP?: string;
}

function read(dir: string, name: string): KeyPairPem | undefined {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  if (!existsSync(cert) || !existsSync(key)) return undefined;
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}

/** Writes key then certificate, each atomically (temp + rename), keys 0600. */
function write(dir: string, name: string, pair: KeyPairPem): void {
  for (const [ext, body, mode] of [['key', pair.key, 0o600], ['crt', pair.cert, 0o644]] as const) {
    const path = join(dir, `${name}.${ext}`);
    writeFileSync(`${path}.tmp`, body, { mode });
    renameSync(`${path}.tmp`, path);
  }
}

/** Writes one file atomically (temp + rename). */
function writeFile(path: string, body: string, mode: number): void {
  writeFileSync(`${path}.tmp`, body, { mode });
  renameSync(`${path}.tmp`, path);
}

/** The ServiceAccount signing key pair, created on first start (ECDSA P-256 for ES256). */
function ensureServiceAccountKey(dir: string): { key: string; pub: string; created: boolean } {
  const keyPath = join(dir, 'sa.key');
  const pubPath = join(dir, 'sa.pub');
  if (existsSync(keyPath) && existsSync(pubPath)) return { key: readFileSync(keyPath, 'utf8'), pub: readFileSync(pubPath, 'utf8'), created: false };
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256', privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  writeFile(keyPath, pair.privateKey, 0o600);
  writeFile(pubPath, pair.publicKey, 0o644);
  return { key: pair.privateKey, pub: pair.publicKey, created: true };
}

/** True when a leaf must be issued again (see the file comment). */
export function needsRenewal(pair: KeyPairPem | undefined, ca: KeyPairPem, wanted: { dns?: string[]; ips?: string[] } = {}, now = new Date()): boolean {
  if (!pair || !issuedBy(pair.cert, ca.cert, now)) return true;
  const info = certificateInfo(pair.cert);
  const life = info.notAfter.getTime() - info.notBefore.getTime();
  if (info.notAfter.getTime() - now.getTime() < life / 3) return true;
  return (wanted.dns ?? []).some((d) => !info.dnsNames.includes(d)) || (wanted.ips ?? []).some((ip) => !info.ipAddresses.includes(ip));
}

/** The serving certificate's names: the SANs given, localhost, the kubernetes Service names. */
function servingNames(opts: ClusterPkiOptions): { dns: string[]; ips: string[] } {
  const all = [...new Set(['localhost', '127.0.0.1', ...CLUSTER_DOMAIN_NAMES, ...opts.sans, ...(opts.serviceIP ? [opts.serviceIP] : [])])];
  // A wildcard listen address names no host: the machine's own addresses come through --tls-san.
  const usable = all.filter((n) => n && n !== '0.0.0.0' && n !== '::');
  return { dns: usable.filter((n) => !isIP(n)), ips: usable.filter((n) => isIP(n)) };
}

/**
 * Loads the cluster PKI from `DATA/pki`, creating what is missing and renewing what is due.
 * `renewed` names the leaves issued by this call (for logs, and to swap them into a running server).
 */
export async function ensureClusterPki(opts: ClusterPkiOptions, now = new Date()): Promise<ClusterPki & { renewed: string[] }> {
  const dir = join(opts.dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let ca = read(dir, 'ca');
  if (!ca) {
    ca = await createCA('berth-ca');
    write(dir, 'ca', ca);
  }
  const renewed: string[] = [];
  const leaf = async (name: string, spec: LeafSpec, wanted?: { dns?: string[]; ips?: string[] }): Promise<KeyPairPem> => {
    const current = read(dir, name);
    if (!needsRenewal(current, ca!, wanted, now)) return current!;
    const pair = await issueCertificate(ca!, spec);
    write(dir, name, pair);
    renewed.push(name);
    return pair;
  };
  const names = servingNames(opts);
  const serving = await leaf('apiserver', { commonName: 'kube-apiserver', dnsNames: names.dns, ipAddresses: names.ips, usage: 'server', validityDays: LEAF_DAYS }, names);
  const admin = await leaf('admin', { commonName: ADMIN_USER, organizations: ['system:masters'], usage: 'client', validityDays: LEAF_DAYS });
  const kubeletClient = await leaf('apiserver-kubelet-client', { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usage: 'client', validityDays: LEAF_DAYS });
  const sa = ensureServiceAccountKey(dir);
  if (sa.created) renewed.push('sa');
  return { dir, ca, caPin: caPin(ca.cert), serving, admin, kubeletClient, serviceAccountKey: { key: sa.key, pub: sa.pub }, renewed };
}
