/**
 * Field errors in the manner of k8s.io/apimachinery/pkg/util/validation/field: each names a field path
 * and becomes one `causes[]` entry of a 422 Invalid Status, printed by kubectl as
 * `spec.replicas: Invalid value: -1: must be greater than or equal to 0`.
 */
export type FieldErrorType =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueDuplicate'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'FieldValueNotFound'
  | 'FieldValueTypeInvalid';

export interface FieldError {
  type: FieldErrorType;
  /** Dotted path with indices and keys, e.g. `spec.template.spec.containers[0].image`. */
  field: string;
  /** The full detail line, as Kubernetes' FieldError.Error() prints it (without the field prefix). */
  message: string;
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'null';
  // Go's %#v of a []string, as kube-apiserver prints it.
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) return `[]string{${value.map((v) => JSON.stringify(v)).join(', ')}}`;
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

export const fieldError = {
  required: (field: string, detail = ''): FieldError => ({
    type: 'FieldValueRequired', field, message: detail ? `Required value: ${detail}` : 'Required value',
  }),
  invalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: ${detail}`,
  }),
  notSupported: (field: string, value: unknown, supported: readonly string[]): FieldError => ({
    type: 'FieldValueNotSupported', field,
    message: `Unsupported value: ${show(value)}: supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}`,
  }),
  duplicate: (field: string, value: unknown): FieldError => ({
    type: 'FieldValueDuplicate', field, message: `Duplicate value: ${show(value)}`,
  }),
  forbidden: (field: string, detail: string): FieldError => ({
    type: 'FieldValueForbidden', field, message: `Forbidden: ${detail}`,
  }),
  tooLong: (field: string, value: unknown, max: number): FieldError => ({
    type: 'FieldValueTooLong', field, message: `Too long: may not be more than ${max} bytes`,
  }),
  notFound: (field: string, value: unknown): FieldError => ({
    type: 'FieldValueNotFound', field, message: `Not found: ${show(value)}`,
  }),
  typeInvalid: (field: string, value: unknown, detail: string): FieldError => ({
    type: 'FieldValueTypeInvalid', field, message: `Invalid value: ${show(value)}: ${detail}`,
  }),
  /** The message Kubernetes uses for an immutable field changed on update. */
  immutable: (field: string, value: unknown): FieldError => ({
    type: 'FieldValueInvalid', field, message: `Invalid value: ${show(value)}: field is immutable`,
  }),
};
