/**
 * Small field-level helpers shared by the workload validators: the non-negative check every Kubernetes
 * count uses, and renderings of values the way Go's `%#v` prints them, so messages such as
 * `Invalid value: map[string]string{"app":"web"}: ...` read exactly as kubectl users know them.
 */
import type { FieldError } from '../../apis/field-errors.ts';

/** Kubernetes' isNegativeErrorMsg. */
export const NEGATIVE_MSG = 'must be greater than or equal to 0';

/** ValidateNonnegativeField: numbers below zero are rejected; absent values pass. */
export function nonNegative(value: unknown, field: string): FieldError[] {
  if (typeof value === 'number' && value < 0) {
    return [{ type: 'FieldValueInvalid', field, message: `Invalid value: ${value}: ${NEGATIVE_MSG}` }];
  }
  return [];
}

/** An Invalid error whose value is already rendered (Go syntax rather than JSON). */
export function invalidRendered(field: string, rendered: string, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, message: `Invalid value: ${rendered}: ${detail}` };
}

function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** `%#v` of a map[string]string: keys sorted, `map[string]string(nil)` when absent. */
export function goStringMap(m: unknown): string {
  if (m === undefined || m === null || typeof m !== 'object') return 'map[string]string(nil)';
  const entries = Object.keys(m as object).sort().map((k) => `${goQuote(k)}:${goQuote(String((m as Record<string, unknown>)[k]))}`);
  return `map[string]string{${entries.join(', ')}}`;
}

function goStringSlice(v: unknown): string {
  if (!Array.isArray(v)) return '[]string(nil)';
  return `[]string{${v.map((s) => goQuote(String(s))).join(', ')}}`;
}

/** `%#v` of a metav1.LabelSelector, as apimachinery prints it in `field is immutable` and selector errors. */
export function goLabelSelector(sel: unknown): string {
  if (sel === undefined || sel === null || typeof sel !== 'object') return 'null';
  const s = sel as Record<string, any>;
  let exprs = '[]v1.LabelSelectorRequirement(nil)';
  if (Array.isArray(s.matchExpressions)) {
    const items = s.matchExpressions.map((e: Record<string, any>) =>
      `v1.LabelSelectorRequirement{Key:${goQuote(String(e?.key ?? ''))}, Operator:${goQuote(String(e?.operator ?? ''))}, Values:${goStringSlice(e?.values)}}`);
    exprs = `[]v1.LabelSelectorRequirement{${items.join(', ')}}`;
  }
  return `v1.LabelSelector{MatchLabels:${goStringMap(s.matchLabels)}, MatchExpressions:${exprs}}`;
}

/** Structural equality of JSON values; `undefined` members count as absent. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!jsonEqual(ao[k], bo[k])) return false;
  return true;
}
