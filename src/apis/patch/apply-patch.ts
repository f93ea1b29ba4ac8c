/**
 * Applies a PATCH request body by its content type: JSON patch, merge patch or strategic merge
 * patch. Server-side apply (`application/apply-patch+yaml`) is no patch of this kind: it merges by
 * field ownership (src/apis/merge, wired in by the registry's managed-fields.ts), so it is refused here.
 */
import { definitionNameFor } from '../openapi/definitions.ts';
import { applyJsonPatch } from './json-patch.ts';
import { applyMergePatch } from './merge-patch.ts';
import { PatchError } from './patch-error.ts';
import { applyStrategicMergePatch } from './strategic-merge-patch.ts';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

/**
 * Returns `original` patched with `patchBody` (already parsed JSON) according to `contentType`
 * (parameters such as `; charset=utf-8` are ignored). `apiVersion`/`kind` select the schema for
 * strategic merge patches. Throws PatchError: 415 for unsupported types or a strategic merge patch
 * on a kind without a schema, 400 for malformed patches, 422 when a patch cannot be applied.
 */
export function applyPatch(contentType: string, original: object, patchBody: unknown, apiVersion: string, kind: string): object {
  const type = contentType.split(';')[0].trim().toLowerCase();
  switch (type) {
    case JSON_PATCH:
      return applyJsonPatch(original, patchBody) as object;
    case MERGE_PATCH:
      if (typeof patchBody !== 'object' || patchBody === null || Array.isArray(patchBody)) {
        // RFC 7386 would replace the document; an object is the only useful body for the API.
        throw new PatchError('merge patch must be a JSON object', 400);
      }
      return applyMergePatch(original, patchBody) as object;
    case STRATEGIC_MERGE_PATCH: {
      const defName = definitionNameFor(apiVersion, kind);
      if (!defName) throw new PatchError(`strategic merge patch is not supported for ${apiVersion}, Kind=${kind}`, 415);
      if (typeof patchBody !== 'object' || patchBody === null || Array.isArray(patchBody)) {
        throw new PatchError('strategic merge patch must be a JSON object', 400);
      }
      return applyStrategicMergePatch(original, patchBody, defName);
    }
    case APPLY_PATCH:
      throw new PatchError('server-side apply (application/apply-patch+yaml) goes through the field manager, not applyPatch', 415);
    default:
      throw new PatchError(`unsupported patch content type "${contentType}"`, 415);
  }
}
