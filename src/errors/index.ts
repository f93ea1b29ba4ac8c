/**
 * The one catalogue of Berth's errors. Every error a client can see is an `ApiError` that renders as a
 * Kubernetes `metav1.Status` (reason, message, details, causes); `code` in the catalogue is Berth's own
 * stable identifier, used in logs and docs.
 */
import type { FieldError } from '../apis/field-errors.ts';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

/** Berth error codes with their HTTP status and Kubernetes reason. */
export const CATALOGUE = {
  BERTH_NOT_FOUND: { http: 404, reason: 'NotFound' },
  BERTH_ALREADY_EXISTS: { http: 409, reason: 'AlreadyExists' },
  BERTH_CONFLICT: { http: 409, reason: 'Conflict' },
  BERTH_INVALID: { http: 422, reason: 'Invalid' },
  BERTH_BAD_REQUEST: { http: 400, reason: 'BadRequest' },
  BERTH_GONE: { http: 410, reason: 'Expired' },
  BERTH_UNAUTHORIZED: { http: 401, reason: 'Unauthorized' },
  BERTH_FORBIDDEN: { http: 403, reason: 'Forbidden' },
  BERTH_METHOD_NOT_ALLOWED: { http: 405, reason: 'MethodNotAllowed' },
  BERTH_NOT_ACCEPTABLE: { http: 406, reason: 'NotAcceptable' },
  BERTH_UNSUPPORTED_MEDIA_TYPE: { http: 415, reason: 'UnsupportedMediaType' },
  BERTH_REQUEST_TIMEOUT: { http: 408, reason: 'Timeout' },
  BERTH_TOO_LARGE: { http: 413, reason: 'RequestEntityTooLarge' },
  /** Kubernetes has no reason for 431 (Go's server answers it in plain text); BadRequest is what it is. */
  BERTH_HEADERS_TOO_LARGE: { http: 431, reason: 'BadRequest' },
  BERTH_TOO_MANY_REQUESTS: { http: 429, reason: 'TooManyRequests' },
  BERTH_INTERNAL: { http: 500, reason: 'InternalError' },
  BERTH_UNAVAILABLE: { http: 503, reason: 'ServiceUnavailable' },
  BERTH_TIMEOUT: { http: 504, reason: 'Timeout' },
  BERTH_RV_TOO_LARGE: { http: 504, reason: 'Timeout' },
} as const;

export type ErrorCode = keyof typeof CATALOGUE;

export class ApiError extends Error {
  readonly http: number;
  readonly reason: string;
  constructor(readonly code: ErrorCode, message: string, readonly details?: StatusDetails) {
    super(message);
    this.http = CATALOGUE[code].http;
    this.reason = CATALOGUE[code].reason;
  }

  toStatus(): Status {
    const s: Status = {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
      message: this.message, reason: this.reason, code: this.http,
    };
    if (this.details) s.details = this.details;
    return s;
  }
}

/** `pods "x"` / `deployments.apps "x"` — how Kubernetes names a resource in messages. */
export function qualified(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

export const errors = {
  notFound: (group: string, plural: string, name: string) =>
    new ApiError('BERTH_NOT_FOUND', `${qualified(group, plural)} "${name}" not found`, { name, group: group || undefined, kind: plural }),
  alreadyExists: (group: string, plural: string, name: string) =>
    new ApiError('BERTH_ALREADY_EXISTS', `${qualified(group, plural)} "${name}" already exists`, { name, group: group || undefined, kind: plural }),
  conflict: (group: string, plural: string, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again') =>
    new ApiError('BERTH_CONFLICT', `Operation cannot be fulfilled on ${qualified(group, plural)} "${name}": ${why}`, { name, group: group || undefined, kind: plural }),
  /** 422 with one cause per field error: `Deployment.apps "x" is invalid: spec.replicas: Invalid value: …`. */
  invalid: (group: string, kind: string, name: string, errs: FieldError[]) => {
    const qk = group ? `${kind}.${group}` : kind;
    const list = errs.map((e) => `${e.field}: ${e.message}`);
    const msg = `${qk} "${name}" is invalid: ${list.length === 1 ? list[0] : `[${list.join(', ')}]`}`;
    return new ApiError('BERTH_INVALID', msg, {
      name, group: group || undefined, kind,
      causes: errs.map((e) => ({ reason: e.type, message: e.message, field: e.field })),
    });
  },
  badRequest: (message: string, causes?: StatusCause[]) =>
    new ApiError('BERTH_BAD_REQUEST', message, causes ? { causes } : undefined),
  gone: (message: string) => new ApiError('BERTH_GONE', message),
  /** 401, as kube-apiserver's authentication filter answers a request it cannot authenticate. */
  unauthorized: (message = 'Unauthorized') => new ApiError('BERTH_UNAUTHORIZED', message),
  forbidden: (group: string, plural: string, name: string, why: string) =>
    new ApiError('BERTH_FORBIDDEN', `${qualified(group, plural)} "${name}" is forbidden: ${why}`, { name, group: group || undefined, kind: plural }),
  methodNotAllowed: (message: string) => new ApiError('BERTH_METHOD_NOT_ALLOWED', message),
  unsupportedMediaType: (type: string) => new ApiError('BERTH_UNSUPPORTED_MEDIA_TYPE', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml (got ${type})`),
  /** 413 in kube-apiserver's words (LimitedReadBody). */
  tooLarge: (limit: number) => new ApiError('BERTH_TOO_LARGE', `Request entity too large: limit is ${limit}`),
  internal: (message: string) => new ApiError('BERTH_INTERNAL', `Internal error occurred: ${message}`),
  unavailable: (message: string) => new ApiError('BERTH_UNAVAILABLE', message),
  rvTooLarge: (requested: number, current: number) =>
    new ApiError('BERTH_RV_TOO_LARGE', `Too large resource version: ${requested}, current: ${current}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: `Too large resource version` }], retryAfterSeconds: 1,
    }),
};
