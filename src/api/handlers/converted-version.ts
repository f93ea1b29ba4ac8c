/**
 * A resource served in a second version converted at the edge (kube-apiserver serves every version
 * of a group from one storage version through conversion): autoscaling/v1 HorizontalPodAutoscalers,
 * stored as autoscaling/v2 (registry/kinds/hpa-conversion.ts). get, list, create, update (+ status),
 * patch (applied to the v1 form) and delete; watch through v1 is not served (kubectl reads v2, the
 * preferred version). `kubectl autoscale` creates through v1.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { ResourceInfo } from '../../apis/resources.ts';
import { errors } from '../../errors/index.ts';
import { hpaFromV1, hpaToV1 } from '../../registry/kinds/hpa-conversion.ts';
import { makeFilter } from '../../registry/object-filter.ts';
import { patchObject } from '../../registry/patch-object.ts';
import { deleteObject } from '../../registry/store-delete.ts';
import { decodeObjectBody, readBody, sendJson } from '../http-util.ts';
import type { RequestInfo } from '../request-info.ts';
import { tableVersion, toTable, wantsTable } from '../table.ts';
import { includeObject, isDryRun, type HandlerContext } from './context.ts';
import { deleteOptionsFrom } from './delete-options.ts';
import { readPatch } from './write.ts';

interface Conversion {
  info: ResourceInfo;
  toVersion(obj: KubeObject): KubeObject;
  fromVersion(obj: KubeObject): KubeObject;
}

const CONVERSIONS: Conversion[] = [{
  info: { group: 'autoscaling', version: 'v1', kind: 'HorizontalPodAutoscaler', plural: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', namespaced: true, shortNames: ['hpa'], categories: ['all'], subresources: ['status'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update'] },
  toVersion: hpaToV1,
  fromVersion: hpaFromV1,
}];

/** The converted versions, for discovery. */
export const CONVERTED_RESOURCES: ResourceInfo[] = CONVERSIONS.map((c) => c.info);

/** The conversion serving `info`, if it asks for a converted version. */
export function conversionFor(info: RequestInfo): Conversion | undefined {
  return CONVERSIONS.find((c) => c.info.group === info.group && c.info.version === info.version && c.info.plural === info.resource);
}

function reply(ctx: HandlerContext, conv: Conversion, code: number, obj: KubeObject): void {
  if (wantsTable(ctx.req.headers.accept)) {
    sendJson(ctx.res, code, toTable([obj], { convertor: ctx.store.type.strategy.table, include: includeObject(ctx.query), apiVersion: tableVersion(ctx.req.headers.accept), resourceVersion: obj.metadata.resourceVersion }));
    return;
  }
  sendJson(ctx.res, code, conv.toVersion(obj));
}

async function readVersioned(ctx: HandlerContext, conv: Conversion): Promise<KubeObject> {
  const obj = decodeObjectBody(await readBody(ctx.req), ctx.req.headers['content-type']) as KubeObject;
  const gv = `${conv.info.group}/${conv.info.version}`;
  if ((obj.apiVersion && obj.apiVersion !== gv) || (obj.kind && obj.kind !== conv.info.kind)) {
    throw errors.badRequest(`the API version in the data (${obj.apiVersion}) does not match the expected API version (${gv})`);
  }
  obj.metadata ??= {};
  return conv.fromVersion(obj);
}

export async function serveConverted(ctx: HandlerContext, conv: Conversion): Promise<void> {
  const { info, store, query } = ctx;
  const sub = info.subresource;
  if (sub && sub !== 'status') throw errors.notFound(info.group, `${info.resource}/${sub}`, info.name ?? '');
  const dryRun = () => isDryRun(query);
  switch (info.verb) {
    case 'get':
      return reply(ctx, conv, 200, await store.get(info.namespace, info.name!));
    case 'list': {
      const filter = makeFilter(store.type, query.get('labelSelector') ?? undefined, query.get('fieldSelector') ?? undefined);
      const res = await store.list(info.namespace, { filter });
      if (wantsTable(ctx.req.headers.accept)) {
        sendJson(ctx.res, 200, toTable(res.items, { convertor: store.type.strategy.table, include: includeObject(query), apiVersion: tableVersion(ctx.req.headers.accept), resourceVersion: res.resourceVersion }));
        return;
      }
      sendJson(ctx.res, 200, { kind: `${conv.info.kind}List`, apiVersion: `${conv.info.group}/${conv.info.version}`, metadata: { resourceVersion: res.resourceVersion }, items: res.items.map(conv.toVersion) });
      return;
    }
    case 'create':
      if (info.name) throw errors.methodNotAllowed(`POST is not supported on ${info.resource}/${info.name}`);
      return reply(ctx, conv, 201, await store.create(info.namespace, await readVersioned(ctx, conv), { dryRun: dryRun(), user: ctx.user }));
    case 'update':
      return reply(ctx, conv, 200, await store.update(info.namespace, info.name!, await readVersioned(ctx, conv), { dryRun: dryRun(), user: ctx.user, subresource: sub as 'status' | undefined }));
    case 'patch': {
      const patch = await readPatch(ctx);
      const gv = `${conv.info.group}/${conv.info.version}`;
      const updated = await store.guaranteedUpdate(info.namespace, info.name!, (current) => conv.fromVersion(patchObject(conv.toVersion(current), patch.type, patch.body, gv, conv.info.kind)), { dryRun: dryRun(), user: ctx.user, subresource: sub as 'status' | undefined });
      return reply(ctx, conv, 200, updated);
    }
    case 'delete': {
      const result = await deleteObject(store, info.namespace, info.name!, { ...deleteOptionsFrom(undefined, query), user: ctx.user });
      return reply(ctx, conv, result.deleted ? 200 : 202, result.obj);
    }
    default:
      throw errors.methodNotAllowed(`${info.verb} is not supported on ${info.group}/${info.version} ${info.resource}; use the preferred version`);
  }
}
