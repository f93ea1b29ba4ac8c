/**
 * CertificateSigningRequest strategy (pkg/registry/certificates/certificates/strategy.go and
 * pkg/apis/certificates/validation): the requester's identity is recorded from the request, never
 * taken from the client; a CSR's spec never changes; the status subresource sets the certificate (once)
 * and non-approval conditions; the approval subresource sets the Approved / Denied conditions and
 * nothing else. Conditions get their timestamps here, and no update may remove an Approved, Denied or
 * Failed condition.
 */
import { X509Certificate } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { CSR_CONDITIONS, KEY_USAGES, SIGNERS, csrRequestPem } from '../../apis/certificates.ts';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isDNS1123Label, isDNS1123Subdomain } from '../../apis/names.ts';
import type { KubeObject } from '../../apis/object.ts';
import { rfc3339 } from '../../apis/time.ts';
import type { UserInfo } from '../../auth/attributes.ts';
import { inspectCsr } from '../../pki/certificates.ts';
import type { Strategy, SubresourceStrategy } from '../types.ts';

interface Condition { type?: string; status?: string; reason?: string; message?: string; lastUpdateTime?: string; lastTransitionTime?: string }

const TRUE_ONLY = new Set<string>([CSR_CONDITIONS.approved, CSR_CONDITIONS.denied, CSR_CONDITIONS.failed]);
const STATUS_VALUES = ['False', 'True', 'Unknown'];

const conditions = (obj: KubeObject): Condition[] => (Array.isArray(obj.status?.conditions) ? obj.status.conditions : []);
const ofType = (obj: KubeObject, t: string) => conditions(obj).filter((c) => c?.type === t);

/** apivalidation.ValidateSignerName. */
export function validateSignerName(field: string, signerName: unknown): FieldError[] {
  if (typeof signerName !== 'string' || !signerName) return [fieldError.required(field)];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [fieldError.invalid(field, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, path] = segments;
  const errs: FieldError[] = [];
  if (domain.length > 253) errs.push(fieldError.tooLong(field, domain, 253));
  const labels = domain.split('.');
  for (const l of labels) {
    const bad = isDNS1123Label(l);
    if (bad.length) { for (const m of bad) errs.push(fieldError.invalid(field, domain, `validating label "${l}": ${m}`)); break; }
  }
  if (labels.length < 2) errs.push(fieldError.invalid(field, domain, 'should be a domain with at least two segments separated by dots'));
  for (const c of path.split('.')) {
    const bad = isDNS1123Subdomain(c);
    if (bad.length) { for (const m of bad) errs.push(fieldError.invalid(field, path, `validating component "${c}": ${m}`)); break; }
  }
  if (path.length > 253 - 63 - 1) errs.push(fieldError.tooLong(field, path, 253 - 63 - 1));
  return errs;
}

/** Every PEM block a CERTIFICATE that parses, at least one (validateCertificate). */
function certificateError(b64: unknown): string | undefined {
  if (b64 === undefined || b64 === null || b64 === '') return undefined;
  if (typeof b64 !== 'string') return 'must be base64-encoded PEM';
  const pem = Buffer.from(b64, 'base64').toString('utf8');
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g)];
  if (!blocks.length) return 'must contain at least one CERTIFICATE PEM block';
  for (const [block, type, body] of blocks) {
    if (type !== 'CERTIFICATE') return `only CERTIFICATE PEM blocks are allowed, found "${type}"`;
    if (/^[\w-]+:/m.test(body)) return 'no PEM block headers are permitted';
    try { new X509Certificate(block); } catch (err) { return (err as Error).message; }
  }
  return undefined;
}

function validateConditions(obj: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const oldConds = old ? conditions(old) : [];
  // What stored data already has is tolerated (getValidationOptions' compatibility switches).
  const allowEmptyType = oldConds.some((c) => !c?.type);
  const allowDuplicates = oldConds.some((c, i) => oldConds.findIndex((d) => d?.type === c?.type) !== i);
  const allowBoth = oldConds.some((c) => c?.type === CSR_CONDITIONS.approved) && oldConds.some((c) => c?.type === CSR_CONDITIONS.denied);
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  conditions(obj).forEach((c, i) => {
    const at = `status.conditions[${i}]`;
    const type = c?.type ?? '';
    if (!type && !allowEmptyType) errs.push(fieldError.required(`${at}.type`));
    const allowed = TRUE_ONLY.has(type) ? ['True'] : STATUS_VALUES;
    if (!c?.status) errs.push(fieldError.required(`${at}.status`));
    else if (!allowed.includes(c.status)) errs.push(fieldError.notSupported(`${at}.status`, c.status, allowed));
    if (!allowBoth) {
      if (type === CSR_CONDITIONS.approved) { approved = true; if (denied) errs.push(fieldError.invalid('status.conditions', type, 'Approved and Denied conditions are mutually exclusive')); }
      if (type === CSR_CONDITIONS.denied) { denied = true; if (approved) errs.push(fieldError.invalid('status.conditions', type, 'Approved and Denied conditions are mutually exclusive')); }
    }
    if (!allowDuplicates && seen.has(type)) errs.push(fieldError.duplicate(`${at}.type`, type));
    seen.add(type);
  });
  return errs;
}

/** validateCertificateSigningRequest, less the CSR's signature (checked asynchronously on create). */
function validateCsr(obj: KubeObject, old?: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = obj.spec ?? {};
  if (typeof spec.request !== 'string' || !spec.request) errs.push(fieldError.required('spec.request'));
  else if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(csrRequestPem(obj))) errs.push(fieldError.invalid('spec.request', '<request data>', 'PEM block type must be CERTIFICATE REQUEST'));
  const usages: unknown[] = Array.isArray(spec.usages) ? spec.usages : [];
  if (!usages.length) errs.push(fieldError.required('spec.usages'));
  const oldUsages: unknown[] = Array.isArray(old?.spec?.usages) ? old.spec.usages : [];
  const tolerateUnknown = oldUsages.some((u) => !KEY_USAGES.includes(u as string));
  const tolerateDuplicate = oldUsages.some((u, i) => oldUsages.indexOf(u) !== i);
  usages.forEach((u, i) => {
    if (!tolerateUnknown && !KEY_USAGES.includes(u as string)) errs.push(fieldError.notSupported(`spec.usages[${i}]`, u, KEY_USAGES));
    if (!tolerateDuplicate && usages.indexOf(u) !== i) errs.push(fieldError.duplicate(`spec.usages[${i}]`, u));
  });
  if (spec.signerName === SIGNERS.legacyUnknown && old?.spec?.signerName !== SIGNERS.legacyUnknown) {
    errs.push(fieldError.invalid('spec.signerName', spec.signerName, 'the legacy signerName is not allowed via this API version'));
  } else errs.push(...validateSignerName('spec.signerName', spec.signerName));
  if (spec.expirationSeconds !== undefined && spec.expirationSeconds !== null && !(Number.isInteger(spec.expirationSeconds) && spec.expirationSeconds >= 600)) {
    errs.push(fieldError.invalid('spec.expirationSeconds', spec.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(obj, old));
  const untouched = old && obj.status?.certificate === old.status?.certificate;
  if (!untouched) {
    const why = certificateError(obj.status?.certificate);
    if (why) errs.push(fieldError.invalid('status.certificate', '<certificate data>', why));
  }
  return errs;
}

/** validateCertificateSigningRequestUpdate with what the writing subresource may set. */
function validateCsrUpdate(obj: KubeObject, old: KubeObject, may: { certificate?: boolean; approval?: boolean }): FieldError[] {
  const errs = validateCsr(obj, old);
  for (const t of [CSR_CONDITIONS.approved, CSR_CONDITIONS.denied, CSR_CONDITIONS.failed]) {
    if (ofType(obj, t).length < ofType(old, t).length) errs.push(fieldError.forbidden('status.conditions', `updates may not remove a condition of type "${t}"`));
  }
  if (!may.approval) {
    for (const t of [CSR_CONDITIONS.approved, CSR_CONDITIONS.denied]) {
      const before = ofType(old, t);
      const after = ofType(obj, t);
      if (after.length > before.length) errs.push(fieldError.forbidden('status.conditions', `updates may not add a condition of type "${t}"`));
      else if (after.length === before.length && !isDeepStrictEqual(after, before)) errs.push(fieldError.forbidden('status.conditions', `updates may not modify a condition of type "${t}"`));
    }
  }
  const cert = obj.status?.certificate ?? '';
  const oldCert = old.status?.certificate ?? '';
  if (cert !== oldCert) {
    if (!may.certificate) errs.push(fieldError.forbidden('status.certificate', 'updates may not set certificate content'));
    else if (oldCert) errs.push(fieldError.forbidden('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errs;
}

/** Conditions of `type` as the stored object has them (preserveConditionInstances). */
function preserve(next: KubeObject, old: KubeObject, type: string): void {
  next.status.conditions = [...conditions(next).filter((c) => c?.type !== type), ...ofType(old, type)];
}

/** Defaults a condition's status to True and stamps its times (populateConditionTimestamps). */
function stampConditions(next: KubeObject, old: KubeObject): void {
  const now = rfc3339();
  for (const c of conditions(next)) {
    if (!c || typeof c !== 'object') continue;
    if (!c.status) c.status = 'True';
    if (!c.lastUpdateTime) c.lastUpdateTime = now;
    if (!c.lastTransitionTime) {
      const same = conditions(old).find((o) => o?.type === c.type && o?.status === c.status && o?.lastTransitionTime);
      c.lastTransitionTime = same?.lastTransitionTime ?? now;
    }
  }
  if (!conditions(next).length) delete next.status.conditions;
}

/** The status from the client, everything else as stored. */
function withStatusOf(obj: KubeObject, old: KubeObject): KubeObject {
  const status = obj.status && typeof obj.status === 'object' ? structuredClone(obj.status) : {};
  return { ...old, status: { ...status, conditions: Array.isArray(status.conditions) ? status.conditions : [] } };
}

/** certificatesigningrequests/status: the signer's write — the certificate and non-approval conditions. */
const statusStrategy: SubresourceStrategy = {
  prepare(obj, old) {
    const next = withStatusOf(obj, old);
    preserve(next, old, CSR_CONDITIONS.approved);
    preserve(next, old, CSR_CONDITIONS.denied);
    stampConditions(next, old);
    if (!next.status.certificate) delete next.status.certificate;
    return next;
  },
  validate: (obj, old) => validateCsrUpdate(obj, old, { certificate: true }),
};

/** certificatesigningrequests/approval: `kubectl certificate approve|deny` — conditions only. */
const approvalStrategy: SubresourceStrategy = {
  prepare(obj, old) {
    const next = withStatusOf(obj, old);
    if (old.status?.certificate) next.status.certificate = old.status.certificate;
    else delete next.status.certificate;
    preserve(next, old, CSR_CONDITIONS.failed);
    stampConditions(next, old);
    return next;
  },
  validate: (obj, old) => validateCsrUpdate(obj, old, { approval: true }),
};

export const certificateSigningRequestStrategy: Strategy = {
  prepareForCreate(obj, user?: UserInfo) {
    obj.spec = obj.spec && typeof obj.spec === 'object' ? obj.spec : {};
    // The requester is who sent the request: nothing a client writes here survives.
    delete obj.spec.username; delete obj.spec.uid; delete obj.spec.groups; delete obj.spec.extra;
    if (user) {
      obj.spec.username = user.name;
      if (user.uid) obj.spec.uid = user.uid;
      if (user.groups.length) obj.spec.groups = [...user.groups];
      if (user.extra && Object.keys(user.extra).length) obj.spec.extra = structuredClone(user.extra);
    }
    // Nobody creates a pre-approved request.
    obj.status = {};
  },
  validate: (obj) => validateCsr(obj),
  async validateCreateAsync(obj) {
    const pem = csrRequestPem(obj);
    if (!/-----BEGIN (NEW )?CERTIFICATE REQUEST-----/.test(pem)) return [];
    try {
      await inspectCsr(pem);
      return [];
    } catch (err) {
      return [fieldError.invalid('spec.request', '<request data>', (err as Error).message)];
    }
  },
  prepareForUpdate(obj, old) {
    // The main resource changes metadata only.
    obj.spec = structuredClone(old.spec);
  },
  validateUpdate: (obj, old) => validateCsrUpdate(obj, old, {}),
  subresources: { status: statusStrategy, approval: approvalStrategy },
};
