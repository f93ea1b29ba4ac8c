/**
 * The admission plugins that guard CertificateSigningRequests (plugin/pkg/admission/certificates):
 *
 *   CertificateApproval             an update of …/approval needs `approve` on signers/<signerName>
 *   CertificateSigning              setting status.certificate needs `sign` on signers/<signerName>
 *   CertificateSubjectRestriction   no kubernetes.io/kube-apiserver-client request for system:masters
 *
 * `approve` and `sign` are asked of the whole authorization chain, for the signer's exact name and
 * then its `<domain>/*` wildcard (certificates.IsAuthorizedForSignerName), so RBAC rules such as
 * the certificate controller's `sign` on the Kubernetes signers decide.
 */
import { CSR_RESOURCE, SIGNERS, csrRequestPem } from '../../apis/certificates.ts';
import type { Attributes, Authorizer, UserInfo } from '../../auth/attributes.ts';
import { errors } from '../../errors/index.ts';
import { inspectCsr } from '../../pki/certificates.ts';
import type { AdmissionPlugin, AdmissionRequest } from './admission.ts';

const isCsr = (req: AdmissionRequest) => req.resource.group === CSR_RESOURCE.group && req.resource.plural === CSR_RESOURCE.resource;

/** May `user` do `verb` on the signer (its exact name, else `<domain>/*`)? */
export async function authorizedForSigner(authorizer: Authorizer | undefined, user: UserInfo, verb: string, signerName: string): Promise<boolean> {
  if (!authorizer) return false;
  const ask = async (name: string) => {
    const a: Attributes = {
      user, verb, isResourceRequest: true, path: '', apiGroup: CSR_RESOURCE.group, apiVersion: '*',
      resource: 'signers', subresource: '', namespace: '', name,
    };
    return (await authorizer.authorize(a)) === 'allow';
  };
  if (await ask(signerName)) return true;
  const slash = signerName.indexOf('/');
  return slash > 0 && ask(`${signerName.slice(0, slash)}/*`);
}

function forbidden(req: AdmissionRequest, why: string) {
  return errors.forbidden(req.resource.group, req.resource.plural, req.name || req.object?.metadata?.name || '', why);
}

/** The plugins, each asking `authorizer()` (the chain, set once the API server's security is built). */
export function certificateSigningRequestAdmission(authorizer: () => Authorizer | undefined): AdmissionPlugin[] {
  return [
    {
      name: 'CertificateApproval',
      validate(req) {
        if (!isCsr(req) || req.subresource !== 'approval' || req.operation !== 'UPDATE') return;
        return (async () => {
          const signer = req.object?.spec?.signerName ?? '';
          if (!(await authorizedForSigner(authorizer(), req.user, 'approve', signer))) throw forbidden(req, `user not permitted to approve requests with signerName "${signer}"`);
        })();
      },
    },
    {
      name: 'CertificateSigning',
      validate(req) {
        if (!isCsr(req) || req.subresource !== 'status' || req.operation !== 'UPDATE') return;
        if ((req.object?.status?.certificate ?? '') === (req.oldObject?.status?.certificate ?? '')) return;
        return (async () => {
          const signer = req.object?.spec?.signerName ?? '';
          if (!(await authorizedForSigner(authorizer(), req.user, 'sign', signer))) throw forbidden(req, `user not permitted to sign requests with signerName "${signer}"`);
        })();
      },
    },
    {
      name: 'CertificateSubjectRestriction',
      validate(req) {
        if (!isCsr(req) || req.operation !== 'CREATE' || req.object?.spec?.signerName !== SIGNERS.apiserverClient) return;
        return (async () => {
          // An unparsable request is the strategy's 422, already refused before this runs.
          const asked = await inspectCsr(csrRequestPem(req.object!)).catch(() => undefined);
          if (asked?.organizations.includes('system:masters')) {
            throw forbidden(req, `use of ${SIGNERS.apiserverClient} signer with system:masters group is not allowed`);
          }
        })();
      },
    },
  ];
}
