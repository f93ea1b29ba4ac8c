/**
 * create, update (PUT) and patch — of a resource and of its status subresource — including
 * server-side apply (`application/apply-patch+yaml`), each recorded in managedFields under the
 * request's field manager. Upstream: k8s.io/apiserver/pkg/endpoints/handlers (create.go, update.go,
 * patch.go with its applyPatcher).
 */
import { ApiError, errors } from '../../errors/index.ts';
import { clone, isObject, type KubeObject } from '../../apis/object.ts';
import { checkApplyConfig, patchObject } from '../../registry/patch-object.ts';
import { applyToObject } from '../../registry/managed-fields.ts';
import { addWarnings, decodeBody, readBody, sendJson } from '../http-util.ts';
import { parseFieldValidation, checkFields } from '../field-validation.ts';
import { isDryRun, readObject, replyObject, type HandlerContext } from './context.ts';

export const APPLY_PATCH = 'application/apply-patch+yaml';
const MERGE_PATCH = 'application/merge-patch+json';

export const PATCH_TYPES = [
  'application/json-patch+json',
  MERGE_PATCH,
  'application/strategic-merge-patch+json',
  APPLY_PATCH,
];

/**
 * The request's field manager: `fieldManager` (at most 128 printable characters), else the user
 * agent up to its first `/` (`kubectl/v1.32.0 (linux/amd64)…` → `kubectl`), as upstream's
 * managerOrUserAgent. Undefined when neither is there (the store's default applies).
 */
export function fieldManagerOf(ctx: HandlerContext): string | undefined {
  const given = ctx.query.get('fieldManager');
  if (given !== null && given !== '') {
    if (given.length > 128) throw errors.badRequest(`fieldManager: Too long: may not be more than 128 bytes`);
    if (!/^[\x20-\x7e]+$/.test(given)) throw errors.badRequest(`fieldManager: Invalid value: ${JSON.stringify(given)}: must only contain printable characters`);
    return given;
  }
  const agent = ctx.req.headers['user-agent'];
  const prefix = typeof agent === 'string' ? agent.split('/')[0].slice(0, 128) : '';
  return prefix || undefined;
}

/** Admission's warnings (Pod Security's warn mode) after the body's, each once, as the Warning headers. */
function addAdmissionWarnings(ctx: HandlerContext, before: string[], admission: string[]): void {
  if (admission.length) addWarnings(ctx.res, [...before, ...new Set(admission)]);
}

// Every write here hands its result over (WriteOptions.handOver): the response only serializes it.
export async function handleCreate(ctx: HandlerContext): Promise<void> {
  if (ctx.info.name) throw errors.methodNotAllowed(`POST is not supported on ${ctx.info.resource}/${ctx.info.name}`);
  const dryRun = isDryRun(ctx.query);
  const { obj, warnings } = await readObject(ctx);
  const admission: string[] = [];
  const created = await ctx.store.create(ctx.info.namespace, obj, { dryRun, user: ctx.user, warnings: admission, fieldManager: fieldManagerOf(ctx), handOver: true });
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
  const updated = await store.update(info.namespace, info.name!, obj, { dryRun, user: ctx.user, warnings: admission, subresource: sub as 'status' | undefined, fieldManager: fieldManagerOf(ctx), handOver: true });
  addAdmissionWarnings(ctx, warnings, admission);
  replyObject(ctx, 200, updated);
}

/** Reads a patch body and its type; 415 for types Berth does not apply. */
export async function readPatch(ctx: HandlerContext): Promise<{ type: string; body: unknown }> {
  const type = (ctx.req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  if (!PATCH_TYPES.includes(type)) throw errors.unsupportedMediaType(type || '<none>');
  // An apply configuration is YAML (JSON is YAML too); the other patch types are JSON.
  const body = decodeBody(await readBody(ctx.req), type === APPLY_PATCH ? 'application/yaml' : 'application/json');
  return { type, body };
}

export async function handlePatch(ctx: HandlerContext): Promise<void> {
  const { info, store, query } = ctx;
  const sub = info.subresource;
  if (sub && sub !== 'status') throw errors.methodNotAllowed(`PATCH is not supported on ${info.resource}/${sub}`);
  const dryRun = isDryRun(query);
  const mode = parseFieldValidation(query.get('fieldValidation'));
  const force = parseForce(query);
  const patch = await readPatch(ctx);
  if (patch.type === APPLY_PATCH) return handleApply(ctx, patch.body, force);
  if (force) throw errors.badRequest('force flag can only be used with Apply');
  let fieldWarnings: string[] = [];
  const admission: string[] = [];
  // A merge patch's result differs from the stored object only where the patch reaches: only that is checked.
  const mergePatch = patch.type === MERGE_PATCH && isObject(patch.body) ? patch.body : undefined;
  const updated = await store.guaranteedUpdate(info.namespace, info.name!, (current) => {
    const patched = patchObject(current, patch.type, patch.body, store.apiVersion, store.type.info.kind);
    // Set before the write: the warnings of the attempt that is stored.
    fieldWarnings = checkFields(patched, store.apiVersion, store.type.info.kind, mode, store.type.strategy.unknownFields, mergePatch);
    addWarnings(ctx.res, fieldWarnings);
    return patched;
  }, { dryRun, user: ctx.user, warnings: admission, subresource: sub as 'status' | undefined, fieldManager: fieldManagerOf(ctx), pure: true, handOver: true });
  addAdmissionWarnings(ctx, fieldWarnings, admission);
  replyObject(ctx, 200, updated);
}

/**
 * Server-side apply of an autoscaling/v1 Scale to `<resource>/scale`: the replicas it sets are owned
 * on the object itself (where the scale mapping puts them, `.spec.replicas` by default) by the
 * manager, recorded with subresource "scale" — the paths upstream's scale handler converts them to.
 * Answers the Scale, as the subresource does.
 */
export async function handleScaleApply(ctx: HandlerContext, body: unknown, toScale: (obj: KubeObject) => KubeObject): Promise<void> {
  const { info, store, query } = ctx;
  const manager = query.get('fieldManager');
  if (!manager) throw errors.badRequest('fieldManager is required for apply requests');
  fieldManagerOf(ctx);
  const force = parseForce(query);
  const scale = checkApplyConfig(body, 'autoscaling/v1', 'Scale');
  if (scale.metadata.name !== undefined && scale.metadata.name !== info.name) {
    throw errors.badRequest(`the name of the object (${String(scale.metadata.name)}) does not match the name on the URL (${info.name})`);
  }
  const replicas = scale.spec?.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0)) {
    throw errors.invalid('autoscaling', 'Scale', info.name!, [{ type: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
  }
  const config: KubeObject = { apiVersion: store.apiVersion, kind: store.type.info.kind, metadata: { name: info.name } };
  if (scale.metadata.resourceVersion) config.metadata.resourceVersion = scale.metadata.resourceVersion;
  if (replicas !== undefined) {
    const mapping = store.type.strategy.scale;
    if (mapping) mapping.write(config, replicas);
    else config.spec = { replicas };
  }
  const updated = await store.guaranteedUpdate(info.namespace, info.name!, (current) =>
    applyToObject(store, current, clone(config), manager, force, 'scale').object as KubeObject,
  { dryRun: isDryRun(query), user: ctx.user, fieldManager: manager, applied: true });
  sendJson(ctx.res, 200, toScale(updated));
}

function parseForce(query: URLSearchParams): boolean {
  const v = query.get('force');
  if (v === null || v === '' || v === 'false') return false;
  if (v === 'true') return true;
  throw errors.badRequest(`force: Invalid value: ${JSON.stringify(v)}: must be true or false`);
}

/**
 * Server-side apply: the configuration is merged into the live object under the schema's list and
 * map semantics, fields it no longer sets are dropped when nobody else owns them, and a change to a
 * field another manager owns is a 409 unless `force=true`. A missing object is created (201).
 */
async function handleApply(ctx: HandlerContext, body: unknown, force: boolean): Promise<void> {
  const { info, store, query } = ctx;
  const sub = info.subresource as 'status' | undefined;
  const manager = query.get('fieldManager');
  if (!manager) throw errors.badRequest('fieldManager is required for apply requests');
  fieldManagerOf(ctx);
  const dryRun = isDryRun(query);
  const mode = parseFieldValidation(query.get('fieldValidation'));
  const config = checkApplyConfig(body, store.apiVersion, store.type.info.kind);
  if (config.metadata.name !== undefined && config.metadata.name !== info.name) {
    throw errors.badRequest(`the name of the object (${String(config.metadata.name)}) does not match the name on the URL (${info.name})`);
  }
  const fieldWarnings = checkFields(config, store.apiVersion, store.type.info.kind, mode, store.type.strategy.unknownFields);
  addWarnings(ctx.res, fieldWarnings);
  const admission: string[] = [];
  const opts = { dryRun, user: ctx.user, warnings: admission, subresource: sub, fieldManager: manager, applied: true, handOver: true };
  for (let attempt = 0; ; attempt++) {
    try {
      const updated = await store.guaranteedUpdate(info.namespace, info.name!, (current) => {
        return applyToObject(store, current, clone(config), manager, force, sub).object as KubeObject;
      }, opts);
      addAdmissionWarnings(ctx, fieldWarnings, admission);
      replyObject(ctx, 200, updated);
      return;
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'NotFound') || sub || attempt > 0) throw err;
      // Not there, and this is the object itself (not its status): the apply creates it.
      if (config.metadata.resourceVersion) throw err;
    }
    try {
      const obj = applyToObject(store, undefined, clone(config), manager, force).object as KubeObject;
      obj.metadata.name = info.name;
      const created = await store.create(info.namespace, obj, opts);
      addAdmissionWarnings(ctx, fieldWarnings, admission);
      replyObject(ctx, 201, created);
      return;
    } catch (err) {
      // Created by someone else meanwhile: apply over theirs.
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err;
    }
  }
}
