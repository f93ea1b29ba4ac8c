/**
 * get, list and watch.
 */
import { sendJson } from '../http-util.ts';
import { tableVersion, toTable, wantsTable } from '../table.ts';
import { makeFilter } from '../../registry/object-filter.ts';
import { watchResource, type ApiWatchEvent } from '../../registry/store-watch.ts';
import { openWatchStream } from '../watch-stream.ts';
import { sendListPage, streamList } from '../list-stream.ts';
import { includeObject, intParam, replyObject, type HandlerContext } from './context.ts';
import type { KubeObject } from '../../apis/object.ts';

export async function handleGet(ctx: HandlerContext): Promise<void> {
  const { info, store, query } = ctx;
  const obj = await store.get(info.namespace, info.name!, query.get('resourceVersion') ?? undefined);
  replyObject(ctx, 200, obj);
}

export async function handleList(ctx: HandlerContext): Promise<void> {
  const { info, store, query, req } = ctx;
  const filter = makeFilter(store.type, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
  if (!wantsTable(req.headers.accept) && !intParam(query, 'limit') && !query.get('continue')) {
    // A full list as JSON streams: never the whole body in memory (list-stream.ts).
    await streamList(ctx.res, store, info.namespace, {
      filter, resourceVersion: query.get('resourceVersion') ?? undefined, resourceVersionMatch: query.get('resourceVersionMatch') ?? undefined,
    });
    return;
  }
  const listOpts = {
    filter,
    limit: intParam(query, 'limit'),
    continue: query.get('continue') ?? undefined,
    resourceVersion: query.get('resourceVersion') ?? undefined,
    resourceVersionMatch: query.get('resourceVersionMatch') ?? undefined,
  };
  // JSON pages from the items' JSON text (the stored bytes where possible: list-stream.ts).
  if (!wantsTable(req.headers.accept)) return sendListPage(ctx.res, store, info.namespace, listOpts);
  const result = await store.list(info.namespace, listOpts);
  sendJson(ctx.res, 200, toTable(result.items, {
    convertor: store.type.strategy.table, include: includeObject(query), apiVersion: tableVersion(req.headers.accept),
    resourceVersion: result.resourceVersion, continue: result.continue, remainingItemCount: result.remainingItemCount,
  }));
}

export async function handleWatch(ctx: HandlerContext): Promise<void> {
  const { info, store, query, req, res } = ctx;
  let fieldSelector = query.get('fieldSelector') ?? undefined;
  // GET …/pods/NAME?watch=true watches that one object.
  if (info.name) fieldSelector = [fieldSelector, `metadata.name=${info.name}`].filter(Boolean).join(',');
  const filter = makeFilter(store.type, query.get('labelSelector') ?? undefined, fieldSelector);
  const asTable = wantsTable(req.headers.accept);
  const tv = tableVersion(req.headers.accept);
  let headersSent = false;
  const encode = (ev: ApiWatchEvent): unknown => {
    if (!asTable || ev.type === 'ERROR' || ev.type === 'BOOKMARK') {
      return ev.raw !== undefined ? `{"type":"${ev.type}","object":${ev.raw}}` : { type: ev.type, object: ev.object };
    }
    const table = toTable([ev.object as KubeObject], {
      convertor: store.type.strategy.table, include: includeObject(query), apiVersion: tv,
      noHeaders: headersSent, resourceVersion: (ev.object as KubeObject).metadata.resourceVersion,
    });
    headersSent = true;
    return { type: ev.type, object: table };
  };
  const sendInitial = query.get('sendInitialEvents');
  // Validate and resolve the start point before answering 200, so bad input is a plain error.
  const stream = openWatchStream(req, res, encode, intParam(query, 'timeoutSeconds'));
  try {
    const handle = await watchResource(store, info.namespace, {
      filter,
      resourceVersion: query.get('resourceVersion') ?? undefined,
      allowBookmarks: query.get('allowWatchBookmarks') === 'true',
      sendInitialEvents: sendInitial === null ? undefined : sendInitial === 'true',
      bookmarkIntervalMs: ctx.bookmarkIntervalMs,
    }, (ev) => stream.send(ev), () => stream.end());
    stream.attach(handle);
  } catch (err) {
    const e = err as { toStatus?: () => object; message?: string };
    stream.send({ type: 'ERROR', object: (e.toStatus?.() ?? { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: e.message, reason: 'InternalError', code: 500 }) as any });
    stream.end();
  }
}
