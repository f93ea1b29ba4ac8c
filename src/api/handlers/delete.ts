/**
 * delete and deletecollection. DeleteOptions come from the body (kubectl) or the query string.
 */
import { errors } from '../../errors/index.ts';
import { decodeObjectBody, readBody, sendJson } from '../http-util.ts';
import { deleteObject, type DeleteOptions } from '../../registry/store-delete.ts';
import { makeFilter } from '../../registry/object-filter.ts';
import { replyObject, type HandlerContext } from './context.ts';
import { deleteOptionsFrom } from './delete-options.ts';

async function deleteOptions(ctx: HandlerContext): Promise<DeleteOptions> {
  const buf = await readBody(ctx.req);
  const body = buf.toString().trim() ? decodeObjectBody(buf, ctx.req.headers['content-type']) : undefined;
  return { ...deleteOptionsFrom(body, ctx.query), user: ctx.user };
}

export async function handleDelete(ctx: HandlerContext): Promise<void> {
  const { info, store } = ctx;
  if (info.subresource) throw errors.methodNotAllowed(`DELETE is not supported on ${info.resource}/${info.subresource}`);
  const opts = await deleteOptions(ctx);
  const result = await deleteObject(store, info.namespace, info.name!, opts);
  // 202 when the object now waits for finalizers or a grace period; 200 when it is gone.
  replyObject(ctx, result.deleted ? 200 : 202, result.obj);
}

export async function handleDeleteCollection(ctx: HandlerContext): Promise<void> {
  const { info, store, query } = ctx;
  const opts = await deleteOptions(ctx);
  const filter = makeFilter(store.type, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
  const list = await store.list(info.namespace, { filter });
  const items = [];
  for (const obj of list.items) {
    try {
      items.push((await deleteObject(store, obj.metadata.namespace, obj.metadata.name!, opts)).obj);
    } catch (err) {
      // Already gone: another deleter won the race.
      if ((err as { reason?: string }).reason !== 'NotFound') throw err;
    }
  }
  sendJson(ctx.res, 200, { kind: `${store.type.info.kind}List`, apiVersion: store.apiVersion, metadata: { resourceVersion: list.resourceVersion }, items });
}
