/**
 * Validates a custom object against its version's schema: types, nullable, enum, pattern, formats,
 * bounds, lengths, required, list-type uniqueness and the allOf/anyOf/oneOf/not junctors, with the
 * messages kube-openapi's validator gives and apiextensions-apiserver turns into field errors
 * (`spec.replicas: Invalid value: "x": spec.replicas in body must be of type integer: "string"`).
 * Upstream: apiextensions-apiserver pkg/apiserver/validation/validation.go over kube-openapi validate.
 */
import { isIP } from 'node:net';
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { additionalSchema, child, index, isObject, key, type JSONSchemaProps } from './schema.ts';

/** The JSON type name kube-openapi reports for a value. */
function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(type: string, v: unknown): boolean {
  switch (type) {
    case 'object': return isObject(v);
    case 'array': return Array.isArray(v);
    case 'string': return typeof v === 'string';
    case 'integer': return typeof v === 'number' && Number.isInteger(v);
    case 'number': return typeof v === 'number';
    case 'boolean': return typeof v === 'boolean';
    default: return true;
  }
}

const FORMATS: Record<string, (s: string) => boolean> = {
  email: (s) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(s),
  hostname: (s) => s.length <= 253 && /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*$/i.test(s),
  ipv4: (s) => isIP(s) === 4,
  ipv6: (s) => isIP(s) === 6,
  cidr: (s) => { const [ip, bits, ...rest] = s.split('/'); const v = isIP(ip ?? ''); return !rest.length && v > 0 && /^\d+$/.test(bits ?? '') && Number(bits) <= (v === 4 ? 32 : 128); },
  mac: (s) => /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i.test(s),
  uuid: (s) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(s),
  date: (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(Date.parse(s)),
  'date-time': (s) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(s) && !Number.isNaN(Date.parse(s)),
  datetime: (s) => FORMATS['date-time'](s),
  duration: (s) => /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w))+$/.test(s),
  byte: (s) => /^[A-Za-z0-9+/]*={0,2}$/.test(s) && s.length % 4 === 0,
  uri: (s) => { try { new URL(s); return true; } catch { return false; } },
  hexcolor: (s) => /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.test(s),
};

/** Validates `value` at `path`; errors are appended to `errs`. */
export function validateValue(schema: JSONSchemaProps, value: unknown, path: string, errs: FieldError[]): void {
  const before = errs.length;
  if (value === null) {
    if (schema.nullable || schema['x-kubernetes-preserve-unknown-fields'] && !schema.type) return;
    if (schema.type) errs.push(fieldError.invalid(path, value, `${path} in body must be of type ${schema.type}: "null"`));
    return;
  }
  if (schema['x-kubernetes-int-or-string']) {
    if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value)))) {
      errs.push(fieldError.invalid(path, value, `${path} in body must be of type integer,string: "${typeName(value)}"`));
      return;
    }
  } else if (schema.type && !typeMatches(schema.type, value)) {
    errs.push(fieldError.invalid(path, value, `${path} in body must be of type ${schema.type}: "${typeName(value)}"`));
    return;
  }
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errs.push({ type: 'FieldValueNotSupported', field: path, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(', ')}` });
  }
  if (typeof value === 'string') validateString(schema, value, path, errs);
  if (typeof value === 'number') validateNumber(schema, value, path, errs);
  if (Array.isArray(value)) validateArray(schema, value, path, errs);
  if (isObject(value)) validateObject(schema, value, path, errs);
  if (errs.length === before) validateJunctors(schema, value, path, errs);
}

function validateString(s: JSONSchemaProps, v: string, path: string, errs: FieldError[]): void {
  const len = [...v].length;
  if (s.maxLength !== undefined && len > s.maxLength) errs.push({ type: 'FieldValueTooLong', field: path, message: `Too long: may not be more than ${s.maxLength} bytes` });
  if (s.minLength !== undefined && len < s.minLength) errs.push(fieldError.invalid(path, v, `${path} in body should be at least ${s.minLength} chars long`));
  if (s.pattern !== undefined) {
    let re: RegExp | undefined;
    try { re = new RegExp(s.pattern, 'u'); } catch { re = undefined; }
    if (re && !re.test(v)) errs.push(fieldError.invalid(path, v, `${path} in body should match '${s.pattern}'`));
  }
  const check = s.format ? FORMATS[s.format] : undefined;
  if (check && !check(v)) errs.push(fieldError.invalid(path, v, `${path} in body must be of type ${s.format}: ${JSON.stringify(v)}`));
}

function validateNumber(s: JSONSchemaProps, v: number, path: string, errs: FieldError[]): void {
  if (s.maximum !== undefined && (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)) {
    errs.push(fieldError.invalid(path, v, `${path} in body should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
  }
  if (s.minimum !== undefined && (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)) {
    errs.push(fieldError.invalid(path, v, `${path} in body should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
  }
  if (s.multipleOf !== undefined && s.multipleOf > 0 && Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9) {
    errs.push(fieldError.invalid(path, v, `${path} in body should be a multiple of ${s.multipleOf}`));
  }
}

function validateArray(s: JSONSchemaProps, v: unknown[], path: string, errs: FieldError[]): void {
  if (s.maxItems !== undefined && v.length > s.maxItems) errs.push({ type: 'FieldValueTooMany', field: path, message: `Too many: ${v.length}: must have at most ${s.maxItems} items` });
  if (s.minItems !== undefined && v.length < s.minItems) errs.push(fieldError.invalid(path, v.length, `${path} in body should have at least ${s.minItems} items`));
  if (s.items) v.forEach((item, i) => validateValue(s.items!, item, index(path, i), errs));
  const lt = s['x-kubernetes-list-type'];
  if (lt === 'set') {
    const seen = new Set<string>();
    v.forEach((item, i) => {
      const k = JSON.stringify(item);
      if (seen.has(k)) errs.push(fieldError.duplicate(index(path, i), item));
      seen.add(k);
    });
  } else if (lt === 'map') {
    const keys = s['x-kubernetes-list-map-keys'] ?? [];
    const seen = new Set<string>();
    v.forEach((item, i) => {
      if (!isObject(item)) return;
      const k = JSON.stringify(keys.map((n) => item[n] ?? s.items?.properties?.[n]?.default ?? null));
      if (seen.has(k)) errs.push(fieldError.duplicate(index(path, i), Object.fromEntries(keys.map((n) => [n, item[n]]))));
      seen.add(k);
    });
  }
}

function validateObject(s: JSONSchemaProps, v: Record<string, unknown>, path: string, errs: FieldError[]): void {
  for (const r of s.required ?? []) if (!(r in v)) errs.push(fieldError.required(child(path, r)));
  const n = Object.keys(v).length;
  if (s.maxProperties !== undefined && n > s.maxProperties) errs.push({ type: 'FieldValueTooMany', field: path, message: `Too many: ${n}: must have at most ${s.maxProperties} items` });
  if (s.minProperties !== undefined && n < s.minProperties) errs.push(fieldError.invalid(path, n, `${path} in body should have at least ${s.minProperties} properties`));
  const extra = additionalSchema(s);
  for (const [k, val] of Object.entries(v)) {
    const p = s.properties?.[k];
    if (p) validateValue(p, val, child(path, k), errs);
    else if (extra) validateValue(extra, val, key(path, k), errs);
  }
}

/** allOf / anyOf / oneOf / not, checked as value validations on the same value. */
function validateJunctors(s: JSONSchemaProps, v: unknown, path: string, errs: FieldError[]): void {
  for (const x of s.allOf ?? []) validateValue(x, v, path, errs);
  const passes = (x: JSONSchemaProps) => { const e: FieldError[] = []; validateValue(x, v, path, e); return e.length === 0; };
  if (s.anyOf && !s.anyOf.some(passes)) errs.push(fieldError.invalid(path, v, `${path} in body must validate at least one schema (anyOf)`));
  if (s.oneOf && s.oneOf.filter(passes).length !== 1) errs.push(fieldError.invalid(path, v, `${path} in body must validate one and only one schema (oneOf)`));
  if (s.not && passes(s.not)) errs.push(fieldError.invalid(path, v, `${path} in body must not validate the schema (not)`));
}
