/**
 * create, update (PUT) and patch — of a resource and of its status subresource.
 */
import { errors } from '../../errors/index.ts';
import { patchObject } from '../../registry/patch-object.ts';
import { addWarnings, decodeBody, readBody } from '../http-util.ts';
import { parseFieldValidation, checkFields } from '../field-validation.ts';
import { isDryRun, readObject, replyObject, type HandlerContext } from './context.ts';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

/** Admission's warnings (Pod Security's warn mode) after the body's, each once, as the Warning headers. */
function addAdmissionWarnings(ctx: HandlerContext, before: string[], admission: string[]): void {
  if (admission.length) addWarnings(ctx.res, [...before, ...new Set(admission)]);
}

export async function handleCreate(ctx: HandlerContext): Promise<void> {
  if (ctx.info.name) throw errors.methodNotAllowed(`POST is not supported on ${ctx.info.resource}/${ctx.info.name}`);
  const dryRun = isDryRun(ctx.query);
  const { obj, warnings } = await readObject(ctx);
  const admission: string[] = [];
  const created = await ctx.store.create(ctx.info.namespace, obj, { dryRun, user: ctx.user, warnings: admission });
  addAdmissionWarnings(ctx, warnings, admission);
  replyObject(ctx, 201, created);
}

export async function handleUpdate(ctx: HandlerContext): Promise<void> {
  const { info, store } = ctx;
  const sub = info.subresource;
  if (sub && sub !== 'status') throw errors.methodNotAllowed(`PUT is not supported on ${info.resource}/${sub}`);
  const dryRun = isDryRun(ctx.query);
  const { obj, warnings } = await readObject(ctx);
  const admission: string[] = [];
  const updated = await store.update(info.namespace, info.name!, obj, { dryRun, user: ctx.user, warnings: admission, subresource: sub as 'status' | undefined });
  addAdmissionWarnings(ctx, warnings, admission);
  replyObject(ctx, 200, updated);
}

/** Reads a patch body and its type; 415 for types Berth does not apply. */
export async function readPatch(ctx: HandlerContext): Promise<{ type: string; body: unknown }> {
  const type = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (type === 'application/apply-patch+yaml') {
    throw errors.unsupportedMediaType(`${type} (server-side apply is not supported yet; use client-side kubectl apply)`);
  }
  if (!PATCH_TYPES.includes(type)) throw errors.unsupportedMediaType(type || '<none>');
  const body = decodeBody(await readBody(ctx.req), 'application/json');
  return { type, body };
}

export async function handlePatch(ctx: HandlerContext): Promise<void> {
  const { info, store, query } = ctx;
  const sub = info.subresource;
  if (sub && sub !== 'status') throw errors.methodNotAllowed(`PATCH is not supported on ${info.resource}/${sub}`);
  const dryRun = isDryRun(query);
  const mode = parseFieldValidation(query.get('fieldValidation'));
  const patch = await readPatch(ctx);
  let fieldWarnings: string[] = [];
  const admission: string[] = [];
  const updated = await store.guaranteedUpdate(info.namespace, info.name!, (current) => {
    const patched = patchObject(current, patch.type, patch.body, store.apiVersion, store.type.info.kind);
    // Set before the write: the warnings of the attempt that is stored.
    fieldWarnings = checkFields(patched, store.apiVersion, store.type.info.kind, mode);
    addWarnings(ctx.res, fieldWarnings);
    return patched;
  }, { dryRun, user: ctx.user, warnings: admission, subresource: sub as 'status' | undefined });
  addAdmissionWarnings(ctx, fieldWarnings, admission);
  replyObject(ctx, 200, updated);
}
