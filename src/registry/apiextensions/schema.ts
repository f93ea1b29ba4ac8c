/**
 * The field-path and schema helpers every walk over a CRD schema shares (validation, defaulting,
 * pruning, CEL), as upstream's field.Path and structural schema accessors. The schema type itself is
 * API vocabulary: src/apis/custom-resource-definition.ts.
 */

export type { JSONSchemaProps, ValidationRule } from '../../apis/custom-resource-definition.ts';
import type { JSONSchemaProps } from '../../apis/custom-resource-definition.ts';

/** `spec.items[0].name`, `spec.labels[key]`: the paths Kubernetes' field.Path prints. */
export function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The schema additionalProperties gives every key, if any (`true` means "anything"). */
export function additionalSchema(s: JSONSchemaProps): JSONSchemaProps | undefined {
  const a = s.additionalProperties;
  if (a === undefined || a === false) return undefined;
  if (a === true) return { 'x-kubernetes-preserve-unknown-fields': true };
  return a;
}
