/**
 * Is a CRD version's schema structural, and is it an OpenAPI schema Kubernetes accepts? The checks
 * and messages of apiextensions-apiserver's schema.ValidateStructural (type everywhere it is needed,
 * nothing generic under allOf/anyOf/oneOf/not, metadata only restricting name/generateName, the two
 * int-or-string patterns) and of validation.ValidateCustomResourceDefinitionOpenAPISchema ($ref,
 * uniqueItems, additionalProperties false, list types) — the CRD write is refused with them.
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { child, index, key, type JSONSchemaProps } from './schema.ts';

type Level = 'root' | 'item' | 'field';

const GENERIC_FORBIDDEN: [keyof JSONSchemaProps, string][] = [
  ['additionalProperties', 'must be undefined to be structural'],
  ['default', 'must be undefined to be structural'],
  ['title', 'must be empty to be structural'],
  ['description', 'must be empty to be structural'],
  ['externalDocs', 'must be undefined to be structural'],
  ['x-kubernetes-list-map-keys', 'must be empty to be structural'],
  ['x-kubernetes-list-type', 'must be undefined to be structural'],
  ['x-kubernetes-map-type', 'must be undefined to be structural'],
  ['x-kubernetes-validations', 'must be empty to be structural'],
];
const FLAG_FORBIDDEN: (keyof JSONSchemaProps)[] = ['nullable', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-embedded-resource', 'x-kubernetes-int-or-string'];

/** Errors that make `schema` (at `path`, e.g. `spec.versions[0].schema.openAPIV3Schema`) unacceptable. */
export function validateSchema(schema: JSONSchemaProps, path: string): FieldError[] {
  const errs: FieldError[] = [];
  openApiChecks(schema, path, errs);
  structural(schema, 'root', path, errs, false);
  return errs.sort((a, b) => (`${a.field}: ${a.message}` < `${b.field}: ${b.message}` ? -1 : 1));
}

/** What the OpenAPI schema validation refuses wherever it appears (junctors included). */
function openApiChecks(s: JSONSchemaProps, path: string, errs: FieldError[]): void {
  if (typeof s !== 'object' || s === null) { errs.push(fieldError.invalid(path, s, 'must be an object')); return; }
  if (s.$ref !== undefined) errs.push(fieldError.forbidden(child(path, '$ref'), '$ref is not supported'));
  if (s.uniqueItems === true) errs.push(fieldError.forbidden(child(path, 'uniqueItems'), 'uniqueItems cannot be set to true since the runtime complexity becomes quadratic'));
  if (s.additionalProperties === false) errs.push(fieldError.forbidden(child(path, 'additionalProperties'), 'additionalProperties cannot be set to false'));
  if (s.additionalProperties !== undefined && s.properties !== undefined) errs.push(fieldError.forbidden(child(path, 'additionalProperties'), 'additionalProperties and properties are mutual exclusive'));
  if (s.patternProperties !== undefined) errs.push(fieldError.forbidden(child(path, 'patternProperties'), 'patternProperties is not supported'));
  if (s.definitions !== undefined) errs.push(fieldError.forbidden(child(path, 'definitions'), 'definitions is not supported'));
  if (s.dependencies !== undefined) errs.push(fieldError.forbidden(child(path, 'dependencies'), 'dependencies is not supported'));
  if (s.additionalItems !== undefined) errs.push(fieldError.forbidden(child(path, 'additionalItems'), 'additionalItems is not supported'));
  if (s.type !== undefined && !['object', 'array', 'string', 'integer', 'number', 'boolean'].includes(s.type)) {
    errs.push(fieldError.notSupported(child(path, 'type'), s.type, ['array', 'boolean', 'integer', 'number', 'object', 'string']));
  }
  if (s['x-kubernetes-preserve-unknown-fields'] === false) errs.push(fieldError.invalid(child(path, 'x-kubernetes-preserve-unknown-fields'), false, 'must be true or undefined'));
  const lt = s['x-kubernetes-list-type'];
  if (lt !== undefined) {
    if (!['atomic', 'set', 'map'].includes(lt)) errs.push(fieldError.notSupported(child(path, 'x-kubernetes-list-type'), lt, ['atomic', 'set', 'map']));
    else if (s.type !== 'array') errs.push(fieldError.invalid(child(path, 'x-kubernetes-list-type'), lt, 'must only be used if type == array'));
    if (lt === 'map') {
      const keys = s['x-kubernetes-list-map-keys'] ?? [];
      if (!keys.length) errs.push(fieldError.required(child(path, 'x-kubernetes-list-map-keys'), 'must not be empty if x-kubernetes-list-type is map'));
      if (s.items && s.items.type !== 'object') errs.push(fieldError.invalid(child(path, 'items.type'), s.items.type, 'must be object if parent array\'s x-kubernetes-list-type is map'));
      for (const k of keys) {
        const ks = s.items?.properties?.[k];
        if (!ks) errs.push(fieldError.invalid(child(path, 'x-kubernetes-list-map-keys'), keys, 'entries must all be names of item properties'));
        else if (!['string', 'integer', 'number', 'boolean'].includes(ks.type ?? '') && !ks['x-kubernetes-int-or-string']) {
          errs.push(fieldError.invalid(child(path, `items.properties[${k}].type`), ks.type, 'must be a scalar type if parent array\'s x-kubernetes-list-type is map'));
        } else if (!(s.items?.required ?? []).includes(k) && ks.default === undefined) {
          errs.push(fieldError.required(child(path, 'items.required'), `all map keys must be required or have a default value: ${k}`));
        }
      }
    } else if (s['x-kubernetes-list-map-keys'] !== undefined) {
      errs.push(fieldError.invalid(child(path, 'x-kubernetes-list-type'), lt, 'must be map if x-kubernetes-list-map-keys is non-empty'));
    }
    if (lt === 'set' && s.items && s.items.type === 'object') errs.push(fieldError.invalid(child(path, 'items.type'), 'object', 'must be a scalar type if parent array\'s x-kubernetes-list-type is set'));
  } else if (s['x-kubernetes-list-map-keys'] !== undefined) {
    errs.push(fieldError.invalid(child(path, 'x-kubernetes-list-type'), undefined, 'must be map if x-kubernetes-list-map-keys is non-empty'));
  }
  const mt = s['x-kubernetes-map-type'];
  if (mt !== undefined && !['granular', 'atomic'].includes(mt)) errs.push(fieldError.notSupported(child(path, 'x-kubernetes-map-type'), mt, ['atomic', 'granular']));
  if (s.pattern !== undefined) {
    try { new RegExp(s.pattern, 'u'); } catch (e) { errs.push(fieldError.invalid(child(path, 'pattern'), s.pattern, `must be a valid regular expression, but isn't: ${(e as Error).message}`)); }
  }
  if (s.items) openApiChecks(s.items, child(path, 'items'), errs);
  for (const [k, v] of Object.entries(s.properties ?? {})) openApiChecks(v, key(child(path, 'properties'), k), errs);
  if (typeof s.additionalProperties === 'object') openApiChecks(s.additionalProperties, child(path, 'additionalProperties'), errs);
  for (const j of ['allOf', 'anyOf', 'oneOf'] as const) s[j]?.forEach((x, i) => openApiChecks(x, index(child(path, j), i), errs));
  if (s.not) openApiChecks(s.not, child(path, 'not'), errs);
}

function isIntOrStringAnyOf(list: JSONSchemaProps[] | undefined): boolean {
  return list?.length === 2 && list[0].type === 'integer' && list[1].type === 'string' && Object.keys(list[0]).length === 1 && Object.keys(list[1]).length === 1;
}

function structural(s: JSONSchemaProps, lvl: Level, path: string, errs: FieldError[], _nested: boolean): void {
  if (typeof s !== 'object' || s === null) return;
  if (s.type === 'array' && !s.items) errs.push(fieldError.required(child(path, 'items'), 'must be specified'));
  if (s.items) structural(s.items, 'item', child(path, 'items'), errs, false);
  for (const [k, v] of Object.entries(s.properties ?? {})) structural(v, 'field', key(child(path, 'properties'), k), errs, false);
  if (s.additionalProperties !== undefined && s.additionalProperties !== false) {
    if (lvl === 'root') errs.push(fieldError.forbidden(child(path, 'additionalProperties'), 'must not be used at the root'));
    if (typeof s.additionalProperties === 'object') structural(s.additionalProperties, 'field', child(path, 'additionalProperties'), errs, false);
  }
  const ios = s['x-kubernetes-int-or-string'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  if (ios && preserve) errs.push(fieldError.invalid(child(path, 'x-kubernetes-preserve-unknown-fields'), true, 'must be false if x-kubernetes-int-or-string is true'));
  if (ios && embedded) errs.push(fieldError.invalid(child(path, 'x-kubernetes-embedded-resource'), true, 'must be false if x-kubernetes-int-or-string is true'));
  // Junctors: value validation only.
  const skipAnyOf = isIntOrStringAnyOf(s.anyOf);
  const skipFirstAllOf = isIntOrStringAnyOf(s.allOf?.[0]?.anyOf);
  if (!skipAnyOf) s.anyOf?.forEach((x, i) => nested(x, index(child(path, 'anyOf'), i), errs, false));
  s.allOf?.forEach((x, i) => nested(x, index(child(path, 'allOf'), i), errs, i === 0 && skipFirstAllOf));
  s.oneOf?.forEach((x, i) => nested(x, index(child(path, 'oneOf'), i), errs, false));
  if (s.not) nested(s.not, child(path, 'not'), errs, false);

  const checkMetadata = lvl === 'root' || embedded;
  if (embedded && s.type !== 'object') {
    if (!s.type) errs.push(fieldError.required(child(path, 'type'), 'must be object if x-kubernetes-embedded-resource is true'));
    else errs.push(fieldError.invalid(child(path, 'type'), s.type, 'must be object if x-kubernetes-embedded-resource is true'));
  } else if (!s.type && !ios && !preserve) {
    const detail = lvl === 'root' ? 'must not be empty at the root' : lvl === 'item' ? 'must not be empty for specified array items' : 'must not be empty for specified object fields';
    errs.push(fieldError.required(child(path, 'type'), detail));
  }
  if (embedded && s.additionalProperties !== undefined) errs.push(fieldError.forbidden(child(path, 'additionalProperties'), 'must not be used if x-kubernetes-embedded-resource is set'));
  if (lvl === 'root' && s.type && s.type !== 'object') errs.push(fieldError.invalid(child(path, 'type'), s.type, 'must be object at the root'));
  for (const f of ['kind', 'apiVersion']) {
    const p = s.properties?.[f];
    if (p && checkMetadata && p.type !== 'string') errs.push(fieldError.invalid(child(key(child(path, 'properties'), f), 'type'), p.type, 'must be string'));
  }
  const md = s.properties?.metadata;
  if (md) {
    const mp = key(child(path, 'properties'), 'metadata');
    if (checkMetadata && md.type !== 'object') errs.push(fieldError.invalid(child(mp, 'type'), md.type, 'must be object'));
    if (lvl === 'root') {
      const names = Object.keys(md.properties ?? {});
      const onlyNames = names.every((n) => n === 'name' || n === 'generateName');
      const rest = Object.keys(md).filter((k) => !['type', 'properties', 'default'].includes(k));
      if (!onlyNames || rest.length) errs.push(fieldError.forbidden(mp, 'must not specify anything other than name and generateName, but metadata is implicitly specified'));
    }
  }
  if (embedded && !preserve && !Object.keys(s.properties ?? {}).length) {
    errs.push(fieldError.required(child(path, 'properties'), 'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields'));
  }
}

/** A schema under allOf/anyOf/oneOf/not: value validations only. */
function nested(v: JSONSchemaProps, path: string, errs: FieldError[], skipAnyOf: boolean): void {
  if (typeof v !== 'object' || v === null) return;
  if (!skipAnyOf) v.anyOf?.forEach((x, i) => nested(x, index(child(path, 'anyOf'), i), errs, false));
  v.allOf?.forEach((x, i) => nested(x, index(child(path, 'allOf'), i), errs, false));
  v.oneOf?.forEach((x, i) => nested(x, index(child(path, 'oneOf'), i), errs, false));
  if (v.not) nested(v.not, child(path, 'not'), errs, false);
  if (v.items) nested(v.items, child(path, 'items'), errs, false);
  for (const [k, p] of Object.entries(v.properties ?? {})) nested(p, key(child(path, 'properties'), k), errs, false);
  if (v.type) errs.push(fieldError.forbidden(child(path, 'type'), 'must be empty to be structural'));
  for (const [f, msg] of GENERIC_FORBIDDEN) if (v[f] !== undefined && !(Array.isArray(v[f]) && !(v[f] as unknown[]).length)) errs.push(fieldError.forbidden(child(path, f), msg));
  for (const f of FLAG_FORBIDDEN) if (v[f] === true) errs.push(fieldError.forbidden(child(path, f), 'must be false to be structural'));
  if (v.properties?.metadata) errs.push(fieldError.forbidden(key(child(path, 'properties'), 'metadata'), 'must not be specified in a nested context'));
}
