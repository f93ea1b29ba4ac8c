/**
 * delete and deletecollection. DeleteOptions come from the body (kubectl) or the query string.
 */
import { errors } from '../../errors/index.ts';
import { decodeBody, readBody, sendJson } from '../http-util.ts';
import { deleteObject, type DeleteOptions } from '../../registry/store-delete.ts';
import { makeFilter } from '../../registry/object-filter.ts';
import { intParam, isDryRun, replyObject, type HandlerContext } from './context.ts';

async function deleteOptions(ctx: HandlerContext): Promise<DeleteOptions> {
  const { query, req } = ctx;
  let opts: DeleteOptions = {};
  const buf = await readBody(req);
  if (buf.length && buf.toString().trim()) {
    const body = decodeBody(buf, req.headers['content-type']) as Record<string, unknown>;
    if (typeof body !== 'object' || body === null) throw errors.badRequest('DeleteOptions must be an object');
    opts = {
      gracePeriodSeconds: body.gracePeriodSeconds as number | undefined,
      propagationPolicy: body.propagationPolicy as DeleteOptions['propagationPolicy'],
      orphanDependents: body.orphanDependents as boolean | undefined,
      preconditions: body.preconditions as DeleteOptions['preconditions'],
      dryRun: Array.isArray(body.dryRun) && body.dryRun.includes('All'),
    };
  }
  const grace = intParam(query, 'gracePeriodSeconds');
  if (grace !== undefined) opts.gracePeriodSeconds = grace;
  const policy = query.get('propagationPolicy');
  if (policy) opts.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  const orphan = query.get('orphanDependents');
  if (orphan) opts.orphanDependents = orphan === 'true';
  if (isDryRun(query)) opts.dryRun = true;
  return opts;
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
