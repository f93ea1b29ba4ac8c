/**
 * create, update (PUT) and patch — of a resource and of its status subresource.
 */
import { errors } from '../../errors/index.ts';
import { patchObject } from '../../registry/patch-object.ts';
import { decodeBody, readBody } from '../http-util.ts';
import { parseFieldValidation, checkFields } from '../field-validation.ts';
import { isDryRun, readObject, reply, type HandlerContext } from './context.ts';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];

export async function handleCreate(ctx: HandlerContext): Promise<void> {
  if (ctx.info.name) throw errors.methodNotAllowed(`POST is not supported on ${ctx.info.resource}/${ctx.info.name}`);
  const { obj, warnings } = await readObject(ctx);
  const created = await ctx.store.create(ctx.info.namespace, obj, { dryRun: isDryRun(ctx.query) });
  reply(ctx, 201, created, warnings);
}

export async function handleUpdate(ctx: HandlerContext): Promise<void> {
  const { info, store } = ctx;
  const sub = info.subresource;
  if (sub && sub !== 'status') throw errors.methodNotAllowed(`PUT is not supported on ${info.resource}/${sub}`);
  const { obj, warnings } = await readObject(ctx);
  const updated = await store.update(info.namespace, info.name!, obj, { dryRun: isDryRun(ctx.query), subresource: sub as 'status' | undefined });
  reply(ctx, 200, updated, warnings);
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
  const patch = await readPatch(ctx);
  const mode = parseFieldValidation(query.get('fieldValidation'));
  let warnings: string[] = [];
  const updated = await store.guaranteedUpdate(info.namespace, info.name!, (current) => {
    const patched = patchObject(current, patch.type, patch.body, store.apiVersion, store.type.info.kind);
    warnings = checkFields(patched, store.apiVersion, store.type.info.kind, mode);
    return patched;
  }, { dryRun: isDryRun(query), subresource: sub as 'status' | undefined });
  reply(ctx, 200, updated, warnings);
}
