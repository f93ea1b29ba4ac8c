/**
 * The CSR signer (pkg/controller/certificates/signer, kube-controller-manager's csrsigning): an
 * approved request for one of Kubernetes' signers — kube-apiserver-client, kube-apiserver-client-kubelet,
 * kubelet-serving — is signed by the cluster CA (--cluster-signing-cert-file / -key-file, read
 * when signing, so a replaced CA is picked up) into status.certificate. A request its signer may not
 * sign gets a Failed condition (SignerValidationFailure) instead. The certificate lives for the
 * request's expirationSeconds, at most the signing duration (a year, --cluster-signing-duration).
 */
import { readFileSync } from 'node:fs';
import { CSR_CONDITIONS, CSR_RESOURCE, SIGNERS, csrCondition, csrRequestPem, isCsrApproved } from '../../apis/certificates.ts';
import type { KubeObject } from '../../apis/object.ts';
import type { Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import { inspectCsr, signCsr, type KeyPairPem, type LeafSpec } from '../../pki/certificates.ts';
import type { Logger } from '../../util/log.ts';
import { signerProblem } from './csr-checks.ts';

/** The CA files the signer signs with (kube-controller-manager's --cluster-signing-*-file). */
export interface ClusterSigning {
  certFile: string;
  keyFile: string;
  /** Longest validity it issues (default 365 days). */
  maxDays?: number;
}

const SIGNED = new Set<string>([SIGNERS.apiserverClient, SIGNERS.kubeletClient, SIGNERS.kubeletServing]);

/** The usage a certificate gets from the request's key usages. */
function usageOf(usages: string[]): LeafSpec['usage'] {
  const server = usages.includes('server auth');
  const client = usages.includes('client auth');
  return server && client ? 'server+client' : server ? 'server' : 'client';
}

export class CsrSigningController implements Reconciler {
  readonly name = 'csrsigning';
  readonly queue = new RateLimitedQueue();
  private readonly csrs: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly signing: ClusterSigning | undefined, private readonly log?: Logger) {
    this.csrs = factory.forResource(CSR_RESOURCE);
    this.csrs.addHandlers(enqueueHandlers(this.queue));
    if (!signing) log?.info('no cluster signing CA: approved certificate requests stay unsigned');
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const csr = this.csrs.get(key);
    if (!csr || !this.signing || !SIGNED.has(csr.spec?.signerName)) return;
    if (!isCsrApproved(csr) || csr.status?.certificate || csrCondition(csr, CSR_CONDITIONS.failed)) return;
    const pem = csrRequestPem(csr);
    const usages: string[] = csr.spec.usages ?? [];
    let problem: string | undefined;
    try {
      problem = signerProblem(csr.spec.signerName, await inspectCsr(pem), usages);
    } catch (err) {
      problem = `unable to parse csr: ${(err as Error).message}`;
    }
    if (problem) return this.writeStatus(csr, { conditions: [...(csr.status?.conditions ?? []), { type: CSR_CONDITIONS.failed, status: 'True', reason: 'SignerValidationFailure', message: problem }] });
    const ca: KeyPairPem = { cert: readFileSync(this.signing.certFile, 'utf8'), key: readFileSync(this.signing.keyFile, 'utf8') };
    const maxSeconds = (this.signing.maxDays ?? 365) * 86_400;
    const asked = csr.spec.expirationSeconds;
    const seconds = typeof asked === 'number' && asked > 0 ? Math.min(asked, maxSeconds) : maxSeconds;
    const cert = await signCsr(ca, pem, { usage: usageOf(usages), validityDays: seconds / 86_400 });
    await this.writeStatus(csr, { certificate: Buffer.from(cert).toString('base64') });
    this.log?.info('signed', { csr: csr.metadata.name, signer: csr.spec.signerName, seconds });
  }

  private async writeStatus(csr: KubeObject, status: Record<string, unknown>): Promise<void> {
    const next = structuredClone(csr);
    delete next.metadata.resourceVersion;
    next.status = { ...(next.status ?? {}), ...status };
    await this.client.update(CSR_RESOURCE, undefined, next, 'status');
  }
}
