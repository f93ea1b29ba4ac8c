/**
 * What every resource handler gets: the request, its parsed RequestInfo, the resource's store, and
 * helpers to answer with an object, a list or a Table in the format the client asked for.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../../apis/object.ts';
import { errors } from '../../errors/index.ts';
import type { Registry } from '../../registry/registry.ts';
import type { ResourceStore } from '../../registry/resource-store.ts';
import type { RequestInfo } from '../request-info.ts';
import { addWarnings, decodeBody, readBody, sendJson } from '../http-util.ts';
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
  /** Bookmark interval for watches (ms). */
  bookmarkIntervalMs: number;
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

/** Sends one object (or a one-row Table). */
export function replyObject(ctx: HandlerContext, code: number, obj: KubeObject): void {
  if (wantsTable(ctx.req.headers.accept)) {
    sendJson(ctx.res, code, toTable([obj], {
      convertor: ctx.store.type.strategy.table, include: includeObject(ctx.query),
      apiVersion: tableVersion(ctx.req.headers.accept), resourceVersion: obj.metadata.resourceVersion,
    }));
    return;
  }
  sendJson(ctx.res, code, obj);
}

/** Reads and decodes the body as an object of this endpoint's kind; unknown fields per fieldValidation. */
export async function readObject(ctx: HandlerContext, expectKind = ctx.store.type.info.kind, expectApiVersion = ctx.store.apiVersion): Promise<{ obj: KubeObject; warnings: string[] }> {
  const dropped: string[] = [];
  const body = decodeBody(await readBody(ctx.req), ctx.req.headers['content-type'], dropped);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw errors.badRequest('the request body must be a JSON object');
  const obj = body as KubeObject;
  checkTypeMeta(obj, expectApiVersion, expectKind);
  obj.apiVersion = expectApiVersion;
  obj.kind = expectKind;
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  const mode = parseFieldValidation(ctx.query.get('fieldValidation'));
  const warnings = checkFields(obj, expectApiVersion, expectKind, mode);
  // Unknown protobuf field numbers are dropped in every mode (as upstream drops them); Ignore hides the warning.
  return { obj, warnings: mode === 'Ignore' ? warnings : [...dropped, ...warnings] };
}

export function reply(ctx: HandlerContext, code: number, obj: KubeObject, warnings: string[] = []): void {
  addWarnings(ctx.res, warnings);
  replyObject(ctx, code, obj);
}

/** Non-negative integer query parameter. */
export function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`invalid value for ${name}: ${JSON.stringify(v)}`);
  return Number(v);
}
