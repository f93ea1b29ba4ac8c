/**
 * What a CSR must look like for each of Kubernetes' signers (pkg/apis/certificates/helpers.go
 * ValidateKubeletClientCSR / ValidateKubeletServingCSR, and csrsigning's check of
 * kube-apiserver-client usages): shared by the approver, which only approves a request its signer
 * would sign, and by the signer, which fails a request that breaks them.
 */
import { SIGNERS } from '../../apis/certificates.ts';
import type { CsrContents } from '../../pki/certificates.ts';

const NODE_PREFIX = 'system:node:';
const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x)) && new Set(a).size === a.length;

/** A node's client certificate: CN system:node:<name>, O exactly [system:nodes], no names, client usages. */
export function kubeletClientProblem(req: CsrContents, usages: string[]): string | undefined {
  if (!sameSet(req.organizations, ['system:nodes'])) return 'subject organization is not system:nodes';
  if (req.dnsNames.length) return 'DNS subjectAltNames are not allowed';
  if (req.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (req.ipAddresses.length) return 'IP subjectAltNames are not allowed';
  if (req.uris.length) return 'URI subjectAltNames are not allowed';
  if (req.commonNames.length !== 1 || !req.commonNames[0].startsWith(NODE_PREFIX)) return 'subject common name does not begin with system:node:';
  if (!sameSet(usages, ['digital signature', 'key encipherment', 'client auth']) && !sameSet(usages, ['digital signature', 'client auth'])) {
    return 'usages did not match [client auth digital signature key encipherment]';
  }
  return undefined;
}

/** A node's serving certificate: CN system:node:<name>, O [system:nodes], DNS or IP names only, server usages. */
export function kubeletServingProblem(req: CsrContents, usages: string[]): string | undefined {
  if (!sameSet(req.organizations, ['system:nodes'])) return 'subject organization is not system:nodes';
  if (!req.dnsNames.length && !req.ipAddresses.length) return 'DNS or IP subjectAltName is required';
  if (req.emailAddresses.length) return 'Email subjectAltNames are not allowed';
  if (req.uris.length) return 'URI subjectAltNames are not allowed';
  if (!sameSet(usages, ['digital signature', 'key encipherment', 'server auth']) && !sameSet(usages, ['digital signature', 'server auth'])) {
    return 'usages did not match [digital signature key encipherment server auth]';
  }
  if (req.commonNames.length !== 1 || !req.commonNames[0].startsWith(NODE_PREFIX)) return 'subject common name does not begin with system:node:';
  return undefined;
}

/** kube-apiserver-client: only client usages, client auth among them. */
export function apiserverClientProblem(usages: string[]): string | undefined {
  const allowed = ['digital signature', 'key encipherment', 'client auth'];
  const bad = usages.filter((u) => !allowed.includes(u));
  if (bad.length) return `invalid usage for client certificate: ${bad[0]}`;
  if (!usages.includes('client auth')) return 'missing required usage for client certificate: client auth';
  return undefined;
}

/** What keeps `signerName`'s signer from signing this request; undefined when it may. */
export function signerProblem(signerName: string, req: CsrContents, usages: string[]): string | undefined {
  switch (signerName) {
    case SIGNERS.kubeletClient: return kubeletClientProblem(req, usages);
    case SIGNERS.kubeletServing: return kubeletServingProblem(req, usages);
    case SIGNERS.apiserverClient: return apiserverClientProblem(usages);
    default: return `signer ${signerName} is not served by Berth`;
  }
}

/** The node name a `system:node:<name>` common name names. */
export function nodeNameOf(commonName: string): string | undefined {
  return commonName.startsWith(NODE_PREFIX) ? commonName.slice(NODE_PREFIX.length) : undefined;
}
