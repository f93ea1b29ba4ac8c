/**
 * What every resource handler gets: the request, its parsed RequestInfo, the resource's store, and
 * helpers to answer with an object, a list or a Table in the format the client asked for.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../apis/object.ts';
import { errors } from '../../errors/index.ts';
import type { Registry } from '../../registry/registry.ts';
import { storedValueOf, type ResourceStore } from '../../registry/resource-store.ts';
import { encodedWithResourceVersion } from '../../registry/object-codec.ts';
import type { RequestInfo } from '../request-info.ts';
import type { UserInfo } from '../../auth/attributes.ts';
import type { AgentTls } from '../proxy/pod-stream-proxy.ts';
import { addWarnings, decodeObjectBody, readBody, sendJson } from '../http-util.ts';
import { tableVersion, toTable, wantsTable, type IncludeObject } from '../table.ts';
import { parseFieldValidation, checkFields } from '../field-validation.ts';
import { checkTypeMeta } from '../../registry/pod-subresources.ts';
export { checkTypeMeta };

export interface HandlerContext {
  req: IncomingMessage;
  res: ServerResponse;
  query: URLSearchParams;
  info: RequestInfo;
  store: ResourceStore;
  registry: Registry;
  /** Who sends the request (authentication's answer); writes carry it to admission. */
  user: UserInfo;
  /** Bookmark interval for watches (ms). */
  bookmarkIntervalMs: number;
  /** How pod streams reach node agents over TLS (CA and the API server's client certificate, current after renewal). */
  agentTls?: () => AgentTls;
}

export function isDryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  if (v.some((x) => x !== 'All' && x !== '')) throw errors.badRequest(`dryRun parameter unsupported: ${v.join(',')} (supported: All)`);
  return v.includes('All');
}

export function includeObject(q: URLSearchParams): IncludeObject {
  const v = q.get('includeObject');
  if (v === 'None' || v === 'Object' || v === 'Metadata') return v;
  return 'Metadata';
}

/**
 * Sends one object (or a one-row Table). An object a write just stored goes out as its stored JSON
 * with the resourceVersion spliced in — the same bytes JSON.stringify gives, without encoding the
 * object a second time (~35–50 µs for a pod with its status and managedFields).
 */
export function replyObject(ctx: HandlerContext, code: number, obj: KubeObject): void {
  if (wantsTable(ctx.req.headers.accept)) {
    sendJson(ctx.res, code, toTable([obj], {
      convertor: ctx.store.type.strategy.table, include: includeObject(ctx.query),
      apiVersion: tableVersion(ctx.req.headers.accept), resourceVersion: obj.metadata.resourceVersion,
    }));
    return;
  }
  const stored = storedValueOf(obj);
  const rv = obj.metadata.resourceVersion;
  const json = stored !== undefined && rv && /^\d+$/.test(rv) ? encodedWithResourceVersion(stored, Number(rv)) : undefined;
  sendJson(ctx.res, code, json ?? obj);
}

/**
 * Reads and decodes the body as an object of this endpoint's kind; unknown fields per
 * fieldValidation. Their warnings go on the response at once, before anything is stored.
 */
export async function readObject(ctx: HandlerContext, expectKind = ctx.store.type.info.kind, expectApiVersion = ctx.store.apiVersion): Promise<{ obj: KubeObject; warnings: string[] }> {
  const dropped: string[] = [];
  const obj = decodeObjectBody(await readBody(ctx.req), ctx.req.headers['content-type'], dropped) as KubeObject;
  checkTypeMeta(obj, expectApiVersion, expectKind);
  obj.apiVersion = expectApiVersion;
  obj.kind = expectKind;
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  const mode = parseFieldValidation(ctx.query.get('fieldValidation'));
  const own = expectKind === ctx.store.type.info.kind ? ctx.store.type.strategy.unknownFields : undefined;
  const warnings = checkFields(obj, expectApiVersion, expectKind, mode, own);
  // Unknown protobuf field numbers are dropped in every mode (as upstream drops them); Ignore hides the warning.
  const all = mode === 'Ignore' ? warnings : [...dropped, ...warnings];
  addWarnings(ctx.res, all);
  return { obj, warnings: all };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * An integer query parameter (limit, timeoutSeconds, gracePeriodSeconds): Kubernetes' are int64,
 * so a value past int64 is the 400 its parameter decoder gives (strconv.ParseInt's words). Values
 * beyond 2^53 are kept as the nearest double — they only ever mean "very large".
 */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^[-+]?\d+$/.test(v)) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n < INT64_MIN || n > INT64_MAX) throw errors.badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  return Number(n);
}
