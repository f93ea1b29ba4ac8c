/**
 * Field table for certificates.k8s.io/v1 CertificateSigningRequest (the body of `kubectl
 * certificate approve|deny`, PUT to the approval subresource, and of CSRs created by Go clients).
 * Upstream equivalent: k8s.io/api certificates/v1 generated.proto (Kubernetes 1.33, a superset of
 * 1.32). `request` and `certificate` are bytes (base64 in JSON); `extra` values are ExtraValue
 * (a list of strings, special-types.ts). Notation: see schema-meta.ts.
 */
/** Field tables of certificates/v1 messages, by message name. */
export const certificatesMessages: Record<string, string> = {
  CertificateSigningRequest: '1 metadata ObjectMeta; 2 spec CertificateSigningRequestSpec; 3 status CertificateSigningRequestStatus',
  CertificateSigningRequestSpec: `1 request bytes; 7 signerName string; 8 expirationSeconds int32; 5 usages string[];
    2 username string; 3 uid string; 4 groups string[]; 6 extra map<string,ExtraValue>`,
  CertificateSigningRequestStatus: '1 conditions CertificateSigningRequestCondition[]; 2 certificate bytes',
  CertificateSigningRequestCondition: `1 type string; 6 status string; 2 reason string; 3 message string;
    4 lastUpdateTime Time; 5 lastTransitionTime Time`,
};
