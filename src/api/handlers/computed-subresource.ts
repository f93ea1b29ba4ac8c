/**
 * POST of a subresource computed on create and never stored (ResourceStore.createSubresources:
 * serviceaccounts/NAME/token, a TokenRequest): the body is read as that subresource's own kind (JSON,
 * YAML or protobuf, with field validation), admitted as a CREATE of the subresource, and the answer
 * is a 201 with the computed object.
 */
import type { SubresourceCreate } from '../../registry/resource-store.ts';
import { sendJson } from '../http-util.ts';
import { isDryRun, readObject, type HandlerContext } from './context.ts';

export async function handleComputedSubresource(ctx: HandlerContext, sub: SubresourceCreate): Promise<void> {
  const dryRun = isDryRun(ctx.query);
  const { obj } = await readObject(ctx, sub.kind, sub.apiVersion);
  sendJson(ctx.res, 201, await ctx.store.createSubresource(ctx.info.namespace, ctx.info.name!, ctx.info.subresource!, obj, { dryRun, user: ctx.user }));
}
