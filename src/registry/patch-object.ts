/**
 * Applies a JSON / merge / strategic-merge patch to a stored object with the API's error mapping
 * (415 unsupported, 400 malformed, 422 cannot apply) — one place for the HTTP handlers and the
 * in-process client. `current` comes without resourceVersion, so only a patch that sets one makes it
 * a precondition. `current` is never changed and the result shares nothing with it (every patch type
 * patches a copy), which lets guaranteedUpdate hand it the stored object itself (`pure`).
 */
import type { KubeObject } from '../apis/object.ts';
import { applyPatch } from '../apis/patch/apply-patch.ts';
import { PatchError } from '../apis/patch/patch-error.ts';
import { errors } from '../errors/index.ts';

const RV_PLACEHOLDER = '<current>';

export function patchObject(current: KubeObject, contentType: string, body: unknown, apiVersion: string, kind: string): KubeObject {
  let patched: KubeObject;
  // A JSON patch may `replace` /metadata/resourceVersion (kubectl's managedFields upgrade does, as an
  // optimistic lock): the path must exist for that, so it is there while patching and goes again when
  // the patch left it alone.
  const placeholder = contentType.startsWith('application/json-patch') && current.metadata && current.metadata.resourceVersion === undefined;
  if (placeholder) current = { ...current, metadata: { ...current.metadata, resourceVersion: RV_PLACEHOLDER } };
  try {
    patched = applyPatch(contentType, current, body, apiVersion, kind) as KubeObject;
    if (placeholder && patched?.metadata?.resourceVersion === RV_PLACEHOLDER) delete patched.metadata.resourceVersion;
  } catch (err) {
    if (!(err instanceof PatchError)) throw err;
    if (err.code === 415) throw errors.unsupportedMediaType(err.message);
    if (err.code === 400) throw errors.badRequest(err.message);
    throw errors.invalid('', kind, current.metadata.name ?? '', [{ type: 'FieldValueInvalid', field: 'patch', message: `Invalid value: the patch could not be applied: ${err.message}` }]);
  }
  if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) throw errors.badRequest('the patch must produce an object');
  if (patched.apiVersion !== apiVersion || patched.kind !== kind) {
    throw errors.badRequest(`the patch may not change apiVersion or kind (got ${patched.apiVersion}/${patched.kind})`);
  }
  patched.metadata = patched.metadata ?? {};
  return patched;
}

/**
 * Checks a server-side apply body (already decoded from YAML) before anything is merged: an object of
 * this endpoint's apiVersion and kind, without managedFields (upstream: "metadata.managedFields must
 * be nil"), with a resourceVersion, if any, that is a resourceVersion. 400 otherwise.
 */
export function checkApplyConfig(body: unknown, apiVersion: string, kind: string): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw errors.badRequest('the apply configuration must be a YAML or JSON object');
  const obj = body as KubeObject;
  if (obj.apiVersion === undefined || obj.kind === undefined || obj.apiVersion === '' || obj.kind === '') {
    throw errors.badRequest(`the apply configuration must set apiVersion and kind (expected ${apiVersion}, Kind=${kind})`);
  }
  if (obj.apiVersion !== apiVersion || obj.kind !== kind) {
    throw errors.badRequest(`the apply configuration is ${String(obj.apiVersion)}, Kind=${String(obj.kind)} but the request is for ${apiVersion}, Kind=${kind}: an apply may not change apiVersion or kind`);
  }
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (typeof obj.metadata !== 'object' || Array.isArray(obj.metadata)) throw errors.badRequest('metadata must be an object');
  if (obj.metadata.managedFields !== undefined && obj.metadata.managedFields !== null) throw errors.badRequest('metadata.managedFields must be nil');
  delete obj.metadata.managedFields;
  const rv = obj.metadata.resourceVersion;
  if (rv !== undefined && (typeof rv !== 'string' || !/^\d+$/.test(rv))) {
    throw errors.badRequest(`metadata.resourceVersion: invalid resource version ${JSON.stringify(rv)}`);
  }
  return obj;
}
