/**
 * Errors as both clients report them. The in-process client throws the API's own `ApiError`
 * (src/errors); the HTTP client turns a non-2xx answer into an {@link HttpStatusError} parsed from the
 * `metav1.Status` body. Both carry `reason` (Kubernetes' StatusReason), so the helpers below work for
 * either.
 */
import { ApiError, type Status, type StatusDetails } from '../errors/index.ts';

/** A failed HTTP call: the server's Status, with `code` the HTTP status code as in the Status. */
export class HttpStatusError extends Error {
  /** Kubernetes' StatusReason, e.g. `NotFound`, `Conflict`. */
  readonly reason: string;
  /** The HTTP status code (Status.code). */
  readonly code: number;
  /** Same as `code`; mirrors ApiError.http. */
  readonly http: number;
  readonly details?: StatusDetails;

  constructor(readonly status: Status) {
    super(status.message ?? `request failed with status ${status.code}`);
    this.name = 'HttpStatusError';
    this.reason = status.reason ?? '';
    this.code = status.code;
    this.http = status.code;
    this.details = status.details;
  }

  /** The Status as the server sent it. */
  toStatus(): Status {
    return this.status;
  }
}

/** Fallback reasons by HTTP code, for answers whose body is not a Status. */
const REASON_BY_CODE: Record<number, string> = {
  400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden', 404: 'NotFound', 405: 'MethodNotAllowed',
  406: 'NotAcceptable', 409: 'Conflict', 410: 'Expired', 413: 'RequestEntityTooLarge', 415: 'UnsupportedMediaType',
  422: 'Invalid', 429: 'TooManyRequests', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout',
};

/** Builds the error for a non-2xx answer from its status code and (possibly non-JSON) body. */
export function errorFromResponse(httpCode: number, body: string): HttpStatusError {
  let parsed: unknown;
  try { parsed = JSON.parse(body); } catch { /* not JSON */ }
  const p = parsed as Partial<Status> | undefined;
  if (p && typeof p === 'object' && p.kind === 'Status') {
    return new HttpStatusError({ ...(p as Status), code: typeof p.code === 'number' && p.code ? p.code : httpCode });
  }
  return new HttpStatusError({
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure',
    message: body.trim() || `request failed with status ${httpCode}`, reason: REASON_BY_CODE[httpCode] ?? 'Unknown', code: httpCode,
  });
}

/** The StatusReason of an error from either client; '' for anything else. */
export function reasonOf(err: unknown): string {
  if (err instanceof ApiError || err instanceof HttpStatusError) return err.reason;
  const r = (err as { reason?: unknown } | null)?.reason;
  return typeof r === 'string' ? r : '';
}

/** The HTTP status code of an error from either client; 0 for anything else. */
export function httpCodeOf(err: unknown): number {
  if (err instanceof ApiError || err instanceof HttpStatusError) return err.http;
  const h = (err as { http?: unknown } | null)?.http;
  return typeof h === 'number' ? h : 0;
}

/** True for a 404 NotFound from either client. */
export function isNotFound(err: unknown): boolean {
  return reasonOf(err) === 'NotFound';
}

/** True for a 409 Conflict (stale resourceVersion, failed precondition) from either client. */
export function isConflict(err: unknown): boolean {
  return reasonOf(err) === 'Conflict';
}

/** True for a 409 AlreadyExists from either client. */
export function isAlreadyExists(err: unknown): boolean {
  return reasonOf(err) === 'AlreadyExists';
}

/** True for a 422 Invalid from either client. */
export function isInvalid(err: unknown): boolean {
  return reasonOf(err) === 'Invalid';
}

/** True for 410 Expired/Gone (a watch or list resourceVersion too old) from either client. */
export function isExpired(err: unknown): boolean {
  const r = reasonOf(err);
  return r === 'Expired' || r === 'Gone' || httpCodeOf(err) === 410;
}
