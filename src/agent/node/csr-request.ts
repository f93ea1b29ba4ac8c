/**
 * Asking the cluster for a certificate (client-go's util/certificate/csr RequestCertificate and
 * WaitForCertificate): a new key, a CSR for the given subject and names sent as a
 * CertificateSigningRequest, then the wait until a signer issued it — or refused it (Denied,
 * Failed), which is an error that says so. The key never leaves this process.
 */
import { CSR_CONDITIONS, CSR_RESOURCE, csrCondition } from '../../apis/certificates.ts';
import type { Client } from '../../client/client.ts';
import { certificateInfo } from '../../pki/certificate-info.ts';
import { createCsr, type KeyPairPem } from '../../pki/certificates.ts';

export interface CertificateRequest {
  signerName: string;
  commonName: string;
  organizations: string[];
  dnsNames?: string[];
  ipAddresses?: string[];
  usages: string[];
  /** The validity asked for (the signer may give less); at least 600. */
  expirationSeconds?: number;
  /** metadata.generateName of the CSR (default `csr-`; the kubelet's bootstrap uses `node-csr-`). */
  generateName?: string;
  /** How long to wait for the certificate (default 15 min). */
  timeoutMs?: number;
  /** How often at most the CSR is read while pending (default 1 s; the first reads come sooner). */
  pollMs?: number;
  /** Called once with the CSR's name when it is still pending after a few seconds (to tell a human how to approve it). */
  onPending?: (name: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends the CSR and resolves with the issued certificate and its key. */
export async function requestCertificate(client: Client, r: CertificateRequest): Promise<KeyPairPem> {
  const { csr, key } = await createCsr(r.commonName, r.organizations, { dnsNames: r.dnsNames, ipAddresses: r.ipAddresses });
  const created = await client.create(CSR_RESOURCE, undefined, {
    apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest',
    metadata: { generateName: r.generateName ?? 'csr-' },
    spec: {
      request: Buffer.from(csr).toString('base64'), signerName: r.signerName, usages: r.usages,
      ...(r.expirationSeconds ? { expirationSeconds: r.expirationSeconds } : {}),
    },
  });
  const name = created.metadata.name!;
  const deadline = Date.now() + (r.timeoutMs ?? 15 * 60_000);
  const pendingAt = Date.now() + 5000;
  let told = false;
  // An approver and signer in the cluster usually answer within tens of milliseconds: look soon, then less often.
  let wait = 25;
  for (;;) {
    const cur = await client.get(CSR_RESOURCE, undefined, name);
    const denied = csrCondition(cur, CSR_CONDITIONS.denied);
    if (denied) throw new Error(`certificate signing request ${name} was denied${denied.reason ? ` (${denied.reason})` : ''}${denied.message ? `: ${denied.message}` : ''}`);
    const failed = csrCondition(cur, CSR_CONDITIONS.failed);
    if (failed) throw new Error(`certificate signing request ${name} failed${failed.reason ? ` (${failed.reason})` : ''}${failed.message ? `: ${failed.message}` : ''}`);
    if (cur.status?.certificate) {
      const cert = Buffer.from(cur.status.certificate, 'base64').toString('utf8');
      const info = certificateInfo(cert);
      if (info.commonName !== r.commonName) throw new Error(`certificate signing request ${name} was issued for ${info.commonName}, not ${r.commonName}`);
      return { cert, key };
    }
    if (Date.now() > deadline) throw new Error(`certificate signing request ${name} was not signed in time (approve it with: kubectl certificate approve ${name})`);
    if (!told && Date.now() > pendingAt) { told = true; r.onPending?.(name); }
    await sleep(wait);
    wait = Math.min(r.pollMs ?? 1000, wait * 2);
  }
}
