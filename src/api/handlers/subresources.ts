/**
 * Subresources other than status: scale (autoscaling/v1 Scale), pods/binding, pods/eviction,
 * namespaces/finalize, and the pod streams (log, exec, attach, portforward), which pod-streams.ts
 * proxies to the node agent; `proxy` is not served yet (503).
 */
import { errors } from '../../errors/index.ts';
import type { KubeObject } from '../../apis/object.ts';
import { labelSelectorToString } from '../../apis/selectors/label-selector-spec.ts';
import { fieldError } from '../../apis/field-errors.ts';
import { sendJson } from '../http-util.ts';
import { bindPod, evictPod } from '../../registry/pod-subresources.ts';
import { isDryRun, readObject, replyObject, type HandlerContext } from './context.ts';
import { deleteOptionsFrom } from './delete-options.ts';
import { APPLY_PATCH, fieldManagerOf, handleScaleApply, readPatch } from './write.ts';
import { patchObject } from '../../registry/patch-object.ts';
import { handlePodStream, STREAM_SUBRESOURCES } from './pod-streams.ts';
import { handleComputedSubresource } from './computed-subresource.ts';
import type { ScaleMapping } from '../../registry/types.ts';

const STREAMING = new Set(['log', 'exec', 'attach', 'portforward', 'proxy']);

/** The autoscaling/v1 Scale an object shows through its kind's scale mapping (spec.replicas, status.replicas, spec.selector by default). */
export function toScale(obj: KubeObject, mapping?: ScaleMapping): KubeObject {
  const m = obj.metadata;
  const v = mapping?.read(obj) ?? { replicas: obj.spec?.replicas ?? 0, statusReplicas: obj.status?.replicas ?? 0, selector: labelSelectorToString(obj.spec?.selector) };
  return {
    kind: 'Scale', apiVersion: 'autoscaling/v1',
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, creationTimestamp: m.creationTimestamp },
    spec: { replicas: v.replicas },
    status: { replicas: v.statusReplicas, selector: v.selector },
  };
}

/** Writes a Scale's replicas onto the object where its kind's scale mapping keeps them. */
export function setScaleReplicas(obj: KubeObject, replicas: number, mapping?: ScaleMapping): void {
  if (mapping) mapping.write(obj, replicas);
  else obj.spec = { ...(obj.spec ?? {}), replicas };
}

function checkReplicas(ctx: HandlerContext, scale: KubeObject): number {
  const r = scale.spec?.replicas;
  if (r === undefined || r === null) return 0;
  if (!Number.isInteger(r) || r < 0) {
    throw errors.invalid('autoscaling', 'Scale', ctx.info.name!, [fieldError.invalid('spec.replicas', r, 'must be greater than or equal to 0')]);
  }
  return r;
}

async function handleScale(ctx: HandlerContext): Promise<void> {
  const { info, store, req, query } = ctx;
  const mapping = store.type.strategy.scale;
  if (req.method === 'GET') { sendJson(ctx.res, 200, toScale(await store.get(info.namespace, info.name!), mapping)); return; }
  const dryRun = isDryRun(query);
  let body: unknown;
  let patchType: string | undefined;
  if (req.method === 'PUT') body = (await readObject(ctx, 'Scale', 'autoscaling/v1')).obj;
  else if (req.method === 'PATCH') ({ type: patchType, body } = await readPatch(ctx));
  else throw errors.methodNotAllowed(`${req.method} is not supported on ${info.resource}/scale`);
  if (patchType === APPLY_PATCH) return handleScaleApply(ctx, body, (obj) => toScale(obj, mapping));
  const updated = await store.guaranteedUpdate(info.namespace, info.name!, (current) => {
    const scale = toScale(current, mapping);
    delete scale.metadata.resourceVersion;
    let next: KubeObject;
    if (patchType) {
      // A Scale has no merge keys: strategic merge behaves as a merge patch.
      const t = patchType === 'application/strategic-merge-patch+json' ? 'application/merge-patch+json' : patchType;
      next = patchObject(scale, t, body, 'autoscaling/v1', 'Scale');
    } else next = body as KubeObject;
    setScaleReplicas(current, checkReplicas(ctx, next), mapping);
    if (next.metadata?.resourceVersion) current.metadata.resourceVersion = next.metadata.resourceVersion;
    return current;
  }, { dryRun, user: ctx.user, fieldManager: fieldManagerOf(ctx), managerSubresource: 'scale' });
  sendJson(ctx.res, 200, toScale(updated, mapping));
}

async function handleBinding(ctx: HandlerContext): Promise<void> {
  const dryRun = isDryRun(ctx.query);
  const { obj } = await readObject(ctx, 'Binding', 'v1');
  sendJson(ctx.res, 201, await bindPod(ctx.store, ctx.info.namespace, ctx.info.name!, obj, { dryRun, user: ctx.user }));
}

/**
 * The eviction's own deleteOptions and the request's dryRun (either one asking for a dry run makes it
 * one); the pod's PodDisruptionBudget decides (registry/pod-eviction.ts).
 */
async function handleEviction(ctx: HandlerContext): Promise<void> {
  const { obj } = await readObject(ctx, 'Eviction', 'policy/v1');
  if (obj.metadata?.name && obj.metadata.name !== ctx.info.name) throw errors.badRequest('name in URL does not match name in Eviction object');
  const options = { ...deleteOptionsFrom(obj.deleteOptions, ctx.query), user: ctx.user };
  sendJson(ctx.res, 201, await evictPod(ctx.store, ctx.info.namespace, ctx.info.name!, obj, options, ctx.registry.store('policy', 'poddisruptionbudgets')));
}

/** PUT namespaces/NAME/finalize: only spec.finalizers changes; an emptied, deleting namespace goes away. */
async function handleFinalize(ctx: HandlerContext): Promise<void> {
  const { info, store } = ctx;
  if (ctx.req.method !== 'PUT') throw errors.methodNotAllowed('only PUT is supported on namespaces/finalize');
  const dryRun = isDryRun(ctx.query);
  const { obj } = await readObject(ctx);
  const updated = await store.guaranteedUpdate(undefined, info.name!, (ns) => {
    ns.spec = { ...(ns.spec ?? {}), finalizers: obj.spec?.finalizers ?? [] };
    if (!ns.spec.finalizers.length) delete ns.spec.finalizers;
    return ns;
  }, { subresource: 'raw', dryRun, user: ctx.user });
  sendJson(ctx.res, 200, updated);
}

/**
 * GET, PUT or PATCH of a subresource the kind defines (Strategy.subresources: a CSR's approval): the
 * whole object, written through the subresource's own prepare and validation.
 */
async function handleOwnSubresource(ctx: HandlerContext): Promise<void> {
  const { info, store, req, query } = ctx;
  const sub = info.subresource!;
  if (req.method === 'GET') { replyObject(ctx, 200, await store.get(info.namespace, info.name!)); return; }
  const dryRun = isDryRun(query);
  if (req.method === 'PUT') {
    const { obj } = await readObject(ctx);
    replyObject(ctx, 200, await store.update(info.namespace, info.name!, obj, { dryRun, user: ctx.user, subresource: sub }));
    return;
  }
  if (req.method !== 'PATCH') throw errors.methodNotAllowed(`${req.method} is not supported on ${info.resource}/${sub}`);
  const patch = await readPatch(ctx);
  replyObject(ctx, 200, await store.guaranteedUpdate(info.namespace, info.name!,
    (current) => patchObject(current, patch.type, patch.body, store.apiVersion, store.type.info.kind),
    { dryRun, user: ctx.user, subresource: sub }));
}

/** Routes a subresource request other than status; false if the subresource is not one of these. */
export async function handleSubresource(ctx: HandlerContext): Promise<boolean> {
  const { info, store } = ctx;
  const sub = info.subresource!;
  const declared = store.type.info.subresources ?? [];
  if (!declared.includes(sub as never)) throw errors.notFound(store.group, `${store.plural}/${sub}`, info.name!);
  if (store.plural === 'pods' && STREAM_SUBRESOURCES.has(sub)) { await handlePodStream(ctx); return true; }
  if (STREAMING.has(sub)) throw errors.unavailable(`${store.plural}/${sub} is not served by Berth yet`);
  if (sub === 'scale') { await handleScale(ctx); return true; }
  if (sub === 'binding' && ctx.req.method === 'POST') { await handleBinding(ctx); return true; }
  if (sub === 'eviction' && ctx.req.method === 'POST') { await handleEviction(ctx); return true; }
  if (sub === 'finalize') { await handleFinalize(ctx); return true; }
  if (store.createSubresources[sub] && ctx.req.method === 'POST') { await handleComputedSubresource(ctx, store.createSubresources[sub]); return true; }
  if (store.type.strategy.subresources?.[sub]) { await handleOwnSubresource(ctx); return true; }
  return false;
}
