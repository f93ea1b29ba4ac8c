/**
 * metav1.LabelSelector: validation as in apimachinery's ValidateLabelSelector, label-map validation
 * (ValidateLabels), and matching a selector against a label set — which the workload strategies need
 * to check that a template's labels match its controller's selector.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isQualifiedName, isValidLabelValue } from '../../apis/names.ts';

export interface LabelSelectorRequirement {
  key: string;
  operator: string;
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

/** ValidateLabels: every key a qualified name, every value a valid label value; errors at `path`. */
export function validateLabels(labels: unknown, path: string): FieldError[] {
  if (labels === undefined || labels === null) return [];
  if (typeof labels !== 'object' || Array.isArray(labels)) return [fieldError.typeInvalid(path, labels, 'must be a map of string keys to string values')];
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels as Record<string, unknown>)) {
    for (const m of isQualifiedName(k)) errs.push(fieldError.invalid(path, k, m));
    if (typeof v !== 'string') {
      errs.push(fieldError.typeInvalid(path, v, 'must be a string'));
      continue;
    }
    for (const m of isValidLabelValue(v)) errs.push(fieldError.invalid(path, v, m));
  }
  return errs;
}

/** Validates a LabelSelector at `path` (e.g. `spec.selector`); absent selectors pass. */
export function validateLabelSelector(sel: unknown, path: string): FieldError[] {
  if (sel === undefined || sel === null) return [];
  if (typeof sel !== 'object' || Array.isArray(sel)) return [fieldError.typeInvalid(path, sel, 'must be an object')];
  const s = sel as Record<string, any>;
  const errs = validateLabels(s.matchLabels, `${path}.matchLabels`);
  const exprs: unknown = s.matchExpressions;
  if (exprs !== undefined && exprs !== null && !Array.isArray(exprs)) {
    return [...errs, fieldError.typeInvalid(`${path}.matchExpressions`, exprs, 'must be a list')];
  }
  (exprs as Record<string, any>[] | undefined ?? []).forEach((e, i) => {
    const p = `${path}.matchExpressions[${i}]`;
    const values: unknown[] = Array.isArray(e?.values) ? e.values : [];
    switch (e?.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0) errs.push(fieldError.required(`${p}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) errs.push(fieldError.forbidden(`${p}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
        break;
      default:
        errs.push(fieldError.invalid(`${p}.operator`, e?.operator ?? '', 'not a valid selector operator'));
    }
    const key = typeof e?.key === 'string' ? e.key : '';
    for (const m of isQualifiedName(key)) errs.push(fieldError.invalid(`${p}.key`, key, m));
    values.forEach((v, j) => {
      for (const m of isValidLabelValue(String(v))) errs.push(fieldError.invalid(`${p}.values[${j}]`, v, m));
    });
  });
  return errs;
}

/** True when the selector has neither matchLabels nor matchExpressions (it would select everything). */
export function isEmptySelector(sel: LabelSelector | undefined | null): boolean {
  if (!sel) return true;
  return Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions ?? []).length === 0;
}


/** True when every operator is known (LabelSelectorAsSelector would not fail). */
export function isSelectorConvertible(sel: LabelSelector | undefined | null): boolean {
  return (sel?.matchExpressions ?? []).every((e) => OPERATORS.includes(e.operator));
}
