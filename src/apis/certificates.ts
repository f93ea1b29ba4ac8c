/**
 * certificates.k8s.io vocabulary (k8s.io/api/certificates/v1): the well-known signers, condition
 * types and key usages a CertificateSigningRequest names, shared by its strategy, the approver and
 * signer controllers, and the node agent that asks for certificates.
 */
import type { KubeObject } from './object.ts';

/** The signers Kubernetes defines (and Berth's signer serves). */
export const SIGNERS = {
  /** Client certificates for anything talking to the API server; never approved automatically. */
  apiserverClient: 'kubernetes.io/kube-apiserver-client',
  /** A node's client certificate: CN system:node:<name>, O system:nodes. */
  kubeletClient: 'kubernetes.io/kube-apiserver-client-kubelet',
  /** A node's serving certificate (its stream server), for its own names and addresses. */
  kubeletServing: 'kubernetes.io/kubelet-serving',
  /** v1beta1's default; not accepted on create through v1. */
  legacyUnknown: 'kubernetes.io/legacy-unknown',
} as const;

export const CSR_CONDITIONS = { approved: 'Approved', denied: 'Denied', failed: 'Failed' } as const;

/** certificates/v1 KeyUsage values, sorted as the API lists them in its "supported values". */
export const KEY_USAGES: readonly string[] = [
  'any', 'cert sign', 'client auth', 'code signing', 'content commitment', 'crl sign', 'data encipherment',
  'decipher only', 'digital signature', 'email protection', 'encipher only', 'ipsec end system', 'ipsec tunnel',
  'ipsec user', 'key agreement', 'key encipherment', 'microsoft sgc', 'netscape sgc', 'ocsp signing', 's/mime',
  'server auth', 'signing', 'timestamping',
];

/** A CSR's spec.request (base64 in JSON) as PEM text. */
export function csrRequestPem(csr: KubeObject): string {
  const r = csr.spec?.request;
  return typeof r === 'string' ? Buffer.from(r, 'base64').toString('utf8') : '';
}

/** The condition of a type, if any. */
export function csrCondition(csr: KubeObject, type: string): { type: string; status?: string; reason?: string; message?: string } | undefined {
  const list = Array.isArray(csr.status?.conditions) ? csr.status.conditions : [];
  return list.find((c: { type?: string }) => c?.type === type);
}

/** Approved (and not denied), as the signer requires before it signs. */
export function isCsrApproved(csr: KubeObject): boolean {
  return csrCondition(csr, CSR_CONDITIONS.approved)?.status === 'True' && !csrCondition(csr, CSR_CONDITIONS.denied);
}

/** The resource, as clients name it (a client ResourceRef). */
export const CSR_RESOURCE = { group: 'certificates.k8s.io', version: 'v1', resource: 'certificatesigningrequests' } as const;
