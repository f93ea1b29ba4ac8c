/**
 * Applies a JSON / merge / strategic-merge patch to a stored object with the API's error mapping
 * (415 unsupported, 400 malformed, 422 cannot apply) — one place for the HTTP handlers and the
 * in-process client. `current` comes without resourceVersion, so only a patch that sets one makes it
 * a precondition.
 */
import type { KubeObject } from '../apis/object.ts';
import { applyPatch } from '../apis/patch/apply-patch.ts';
import { PatchError } from '../apis/patch/patch-error.ts';
import { errors } from '../errors/index.ts';

export function patchObject(current: KubeObject, contentType: string, body: unknown, apiVersion: string, kind: string): KubeObject {
  let patched: KubeObject;
  try {
    patched = applyPatch(contentType, current, body, apiVersion, kind) as KubeObject;
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
