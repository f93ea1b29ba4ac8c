/**
 * `kubectl get csr` columns (printers.go printCertificateSigningRequest): signer, requestor, the
 * requested duration and the condition summary (`Pending`, `Approved,Issued`, `Denied`, `…,Failed`);
 * the field selector `spec.signerName` (upstream's SelectableFields).
 */
import type { KubeObject } from '../../apis/object.ts';
import type { FieldGetter, TableConvertor } from '../types.ts';
import { humanDuration } from './age.ts';
import { AGE_COLUMN, NAME_COLUMN, age, col } from './format.ts';

/** The CONDITION cell (extractCSRStatus): Denied wins over Approved, then Failed and Issued. */
export function csrStatus(csr: KubeObject): string {
  const types = new Set((Array.isArray(csr.status?.conditions) ? csr.status.conditions : []).map((c: { type?: string }) => c?.type));
  let s = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) s += ',Failed';
  if (csr.status?.certificate) s += ',Issued';
  return s;
}

export const certificateSigningRequestTable: TableConvertor = {
  columns: [
    NAME_COLUMN, AGE_COLUMN,
    col('SignerName', 'string', false, 'signerName indicates the requested signer, and is a qualified name.'),
    col('Requestor', 'string', false, 'username contains the name of the user that created the CertificateSigningRequest.'),
    col('RequestedDuration', 'string', false, 'expirationSeconds is the requested duration of validity of the issued certificate.'),
    col('Condition', 'string', false, 'conditions applied to the request. Known conditions are "Approved", "Denied", and "Failed".'),
  ],
  cells(csr, now) {
    const secs = csr.spec?.expirationSeconds;
    return [
      csr.metadata.name, age(csr, now), csr.spec?.signerName || '<none>', csr.spec?.username ?? '',
      typeof secs === 'number' ? humanDuration(secs * 1000) : '<none>', csrStatus(csr),
    ];
  },
};

export const certificateSigningRequestFieldSelectors: Record<string, FieldGetter> = {
  'spec.signerName': (csr) => csr.spec?.signerName,
};
