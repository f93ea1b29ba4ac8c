/**
 * The HTTP content type of each client patch type (kept free of server imports so the HTTP client
 * stays light).
 */
import type { PatchType } from './client.ts';

/** `json` → JSON patch, `merge` → JSON merge patch, `strategic` → strategic merge patch. */
export const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};
