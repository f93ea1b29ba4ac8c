/**
 * The CSR approver (pkg/controller/certificates/approver/sarapprove.go, kube-controller-manager's
 * csrapproving): approves node client certificates for kubernetes.io/kube-apiserver-client-kubelet
 * when the requester may — a SubjectAccessReview for `create certificatesigningrequests/nodeclient`
 * (a bootstrap token's first certificate) or `…/selfnodeclient` (a node renewing its own: CN equals
 * the requester). RBAC grants these to system:bootstrappers and system:nodes, as kubeadm binds them.
 *
 * Berth also approves kubernetes.io/kubelet-serving requests, which Kubernetes leaves to an admin or
 * an external approver: when the node itself asks (CN = requester, in system:nodes) — or someone who
 * may approve that signer anyway (an agent run on an admin's kubeconfig) — and every name it asks for
 * is one of its Node's addresses or its agent's advertised host: the names the API server dials it
 * by. Anything else is left pending for `kubectl certificate approve|deny`.
 */
import { CSR_CONDITIONS, CSR_RESOURCE, SIGNERS, csrCondition, csrRequestPem } from '../../apis/certificates.ts';
import type { KubeObject } from '../../apis/object.ts';
import { AGENT_URL_ANNOTATION } from '../../apis/well-known.ts';
import { R, type Client } from '../../client/client.ts';
import { enqueueHandlers, runController, type RunningController } from '../../client/controller.ts';
import type { ObjectKey, Reconciler } from '../../client/controller-types.ts';
import { isNotFound } from '../../client/errors.ts';
import type { InformerFactory } from '../../client/informer-factory.ts';
import type { SharedInformer } from '../../client/informer.ts';
import { RateLimitedQueue } from '../../client/work-queue.ts';
import { inspectCsr, type CsrContents } from '../../pki/certificates.ts';
import type { Logger } from '../../util/log.ts';
import { kubeletClientProblem, kubeletServingProblem, nodeNameOf } from './csr-checks.ts';

const SAR = { group: 'authorization.k8s.io', version: 'v1', resource: 'subjectaccessreviews' };
const csrCreate = (subresource: string) => ({ group: CSR_RESOURCE.group, resource: CSR_RESOURCE.resource, verb: 'create', subresource });
/** A request nobody may approve yet (an RBAC cache still filling) is looked at again for this long. */
const RETRY_WINDOW_MS = 10 * 60_000;
const RETRY_EVERY_MS = 5_000;

export class CsrApprovingController implements Reconciler {
  readonly name = 'csrapproving';
  readonly queue = new RateLimitedQueue();
  private readonly csrs: SharedInformer;

  constructor(private readonly client: Client, factory: InformerFactory, private readonly log?: Logger, private readonly now: () => number = Date.now) {
    this.csrs = factory.forResource(CSR_RESOURCE);
    this.csrs.addHandlers(enqueueHandlers(this.queue));
  }

  run(workers = 1): RunningController {
    return runController(this, this.queue, { workers, log: this.log });
  }

  async reconcile(key: ObjectKey): Promise<void> {
    const csr = this.csrs.get(key);
    if (!csr || csr.status?.certificate) return;
    if (csrCondition(csr, CSR_CONDITIONS.approved) || csrCondition(csr, CSR_CONDITIONS.denied)) return;
    const signer = csr.spec?.signerName;
    if (signer !== SIGNERS.kubeletClient && signer !== SIGNERS.kubeletServing) return;
    let req: CsrContents;
    try {
      req = await inspectCsr(csrRequestPem(csr));
    } catch {
      return; // the signer fails it
    }
    const usages: string[] = csr.spec.usages ?? [];
    const approval = signer === SIGNERS.kubeletClient ? await this.clientApproval(csr, req, usages) : await this.servingApproval(csr, req, usages);
    if (approval) return this.approve(csr, approval);
    // Not (yet) approvable: the requester's rights may still be on their way into the RBAC cache.
    const age = this.now() - Date.parse(csr.metadata.creationTimestamp ?? '');
    if (age < RETRY_WINDOW_MS) this.queue.addAfter(key, RETRY_EVERY_MS);
  }

  /** sarapprove's recognizers: selfnodeclient first, then nodeclient. */
  private async clientApproval(csr: KubeObject, req: CsrContents, usages: string[]): Promise<string | undefined> {
    if (kubeletClientProblem(req, usages)) return undefined;
    if (req.commonNames[0] === csr.spec.username && await this.allowed(csr, csrCreate('selfnodeclient'))) {
      return 'Auto approving self kubelet client certificate after SubjectAccessReview.';
    }
    if (await this.allowed(csr, csrCreate('nodeclient'))) return 'Auto approving kubelet client certificate after SubjectAccessReview.';
    return undefined;
  }

  private async servingApproval(csr: KubeObject, req: CsrContents, usages: string[]): Promise<string | undefined> {
    if (kubeletServingProblem(req, usages)) return undefined;
    const byTheNode = req.commonNames[0] === csr.spec.username && (csr.spec.groups ?? []).includes('system:nodes');
    if (!byTheNode && !(await this.allowed(csr, { verb: 'approve', group: CSR_RESOURCE.group, resource: 'signers', name: SIGNERS.kubeletServing }))) return undefined;
    const nodeName = nodeNameOf(req.commonNames[0])!;
    let node: KubeObject;
    try {
      node = await this.client.get(R.nodes, undefined, nodeName);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    const known = new Set<string>((node.status?.addresses ?? []).map((a: { address?: string }) => a?.address).filter(Boolean));
    const url = node.metadata.annotations?.[AGENT_URL_ANNOTATION];
    if (url && URL.canParse(url)) known.add(new URL(url).hostname.replace(/^\[|\]$/g, ''));
    const unknown = [...req.dnsNames, ...req.ipAddresses].filter((n) => !known.has(n));
    if (unknown.length) {
      this.log?.info('kubelet serving certificate left for an admin: names that are not the node\'s', { csr: csr.metadata.name, node: nodeName, names: unknown });
      return undefined;
    }
    return `Auto approving kubelet serving certificate for node ${nodeName}: every name is one of its addresses.`;
  }

  /** May the CSR's requester do this? A SubjectAccessReview, as sarapprove asks. */
  private async allowed(csr: KubeObject, resourceAttributes: Record<string, string>): Promise<boolean> {
    const review = await this.client.create(SAR, undefined, {
      apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', metadata: {},
      spec: { user: csr.spec.username, uid: csr.spec.uid, groups: csr.spec.groups, extra: csr.spec.extra, resourceAttributes },
    });
    return review.status?.allowed === true;
  }

  private async approve(csr: KubeObject, message: string): Promise<void> {
    const next = structuredClone(csr);
    delete next.metadata.resourceVersion;
    next.status = { ...(next.status ?? {}), conditions: [...(next.status?.conditions ?? []), { type: CSR_CONDITIONS.approved, status: 'True', reason: 'AutoApproved', message }] };
    await this.client.update(CSR_RESOURCE, undefined, next, 'approval');
    this.log?.info('approved', { csr: csr.metadata.name, requester: csr.spec.username, signer: csr.spec.signerName });
  }
}
