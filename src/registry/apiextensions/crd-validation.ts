/**
 * Validation of a CustomResourceDefinition, with upstream's messages (apiextensions-apiserver
 * pkg/apis/apiextensions/validation/validation.go): the name is `<plural>.<group>`, names are DNS
 * labels, exactly one storage version, served versions with structural schemas whose defaults
 * validate and whose CEL rules compile, printer columns and scale paths, conversion None, and no
 * version removed while objects may be stored in it (status.storedVersions).
 */
import { fieldError, type FieldError } from '../../apis/field-errors.ts';
import { isDNS1035Label, isDNS1123Subdomain } from '../../apis/names.ts';
import type { Crd, CrdVersion } from '../../apis/custom-resource-definition.ts';
import { validateSchema } from './structural.ts';
import { compileErrors } from './cel-rules.ts';
import { validateValue } from './value-validation.ts';
import { child, index, isObject, key, type JSONSchemaProps } from './schema.ts';
import { parseJsonPath } from './json-path.ts';

const COLUMN_TYPES = ['integer', 'number', 'string', 'boolean', 'date'];

function lowercaseLabel(v: string | undefined, path: string, errs: FieldError[]): void {
  if (!v) { errs.push(fieldError.required(path)); return; }
  const problems = isDNS1035Label(v);
  if (problems.length) errs.push(fieldError.invalid(path, v, problems.join('; ')));
}

function kindName(v: string | undefined, path: string, errs: FieldError[]): void {
  if (!v) { errs.push(fieldError.required(path)); return; }
  const problems = isDNS1035Label(v.toLowerCase());
  if (problems.length) errs.push(fieldError.invalid(path, v, problems.join('; ')));
}

/** Every error of `crd` (create) or of `crd` replacing `old` (update). */
export function validateCrd(crd: Crd, old?: Crd): FieldError[] {
  const errs: FieldError[] = [];
  const spec = crd.spec;
  if (!isObject(spec)) return [fieldError.required('spec')];
  const group = spec.group;
  if (!group) errs.push(fieldError.required('spec.group'));
  else {
    const p = isDNS1123Subdomain(group);
    if (p.length) errs.push(fieldError.invalid('spec.group', group, p.join('; ')));
    else if (!group.includes('.')) errs.push(fieldError.invalid('spec.group', group, 'should be a domain with at least one dot'));
  }
  const names = isObject(spec.names) ? spec.names : undefined;
  if (!names) errs.push(fieldError.required('spec.names'));
  else {
    lowercaseLabel(names.plural, 'spec.names.plural', errs);
    lowercaseLabel(names.singular, 'spec.names.singular', errs);
    kindName(names.kind, 'spec.names.kind', errs);
    kindName(names.listKind, 'spec.names.listKind', errs);
    if (names.kind && names.kind === names.listKind) errs.push(fieldError.invalid('spec.names.listKind', names.listKind, 'kind and listKind may not be the same'));
    (names.shortNames ?? []).forEach((s, i) => lowercaseLabel(s, index('spec.names.shortNames', i), errs));
    (names.categories ?? []).forEach((s, i) => lowercaseLabel(s, index('spec.names.categories', i), errs));
    if (names.plural && group && crd.metadata.name !== `${names.plural}.${group}`) {
      errs.push(fieldError.invalid('metadata.name', crd.metadata.name, 'must be spec.names.plural+"."+spec.group'));
    }
  }
  if (!spec.scope) errs.push(fieldError.required('spec.scope'));
  else if (spec.scope !== 'Namespaced' && spec.scope !== 'Cluster') errs.push(fieldError.notSupported('spec.scope', spec.scope, ['Cluster', 'Namespaced']));
  const strategy = spec.conversion?.strategy ?? 'None';
  if (strategy !== 'None') {
    if (strategy === 'Webhook') errs.push(fieldError.forbidden('spec.conversion.strategy', 'webhook conversion is not supported by this server; use "None"'));
    else errs.push(fieldError.notSupported('spec.conversion.strategy', strategy, ['None', 'Webhook']));
  }
  if (spec.preserveUnknownFields === true) errs.push(fieldError.invalid('spec.preserveUnknownFields', true, 'cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead'));
  validateVersions(crd, errs);
  if (old) validateCrdUpdate(crd, old, errs);
  validateStoredVersions(crd, errs);
  return errs;
}

function validateVersions(crd: Crd, errs: FieldError[]): void {
  const versions = crd.spec.versions;
  if (!Array.isArray(versions) || !versions.length) { errs.push(fieldError.required('spec.versions', 'must have exactly one version marked as storage version')); return; }
  const seen = new Set<string>();
  let storage = 0;
  let served = 0;
  versions.forEach((v, i) => {
    const p = index('spec.versions', i);
    lowercaseLabel(v.name, child(p, 'name'), errs);
    if (v.name && seen.has(v.name)) errs.push(fieldError.duplicate(child(p, 'name'), v.name));
    seen.add(v.name);
    if (v.storage) storage++;
    if (v.served) served++;
    validateVersion(crd, v, p, errs);
  });
  if (storage !== 1) errs.push(fieldError.invalid('spec.versions', versions.map((v) => v.name), 'must have exactly one version marked as storage version'));
  if (!served) errs.push(fieldError.invalid('spec.versions', versions.map((v) => v.name), 'must have at least one version marked as served'));
}

function validateVersion(crd: Crd, v: CrdVersion, p: string, errs: FieldError[]): void {
  const schema = v.schema?.openAPIV3Schema;
  const sp = child(child(p, 'schema'), 'openAPIV3Schema');
  if (!schema) errs.push(fieldError.required(sp, 'schemas are required'));
  else {
    const before = errs.length;
    errs.push(...validateSchema(schema, sp));
    if (errs.length === before) {
      errs.push(...compileErrors(schema, sp));
      validateDefaults(schema, sp, errs);
    }
  }
  const scale = v.subresources?.scale;
  if (scale) {
    const sc = child(child(p, 'subresources'), 'scale');
    if (!scale.specReplicasPath) errs.push(fieldError.required(child(sc, 'specReplicasPath')));
    else if (!scale.specReplicasPath.startsWith('.spec.')) errs.push(fieldError.invalid(child(sc, 'specReplicasPath'), scale.specReplicasPath, 'should be a json path under .spec'));
    if (!scale.statusReplicasPath) errs.push(fieldError.required(child(sc, 'statusReplicasPath')));
    else if (!scale.statusReplicasPath.startsWith('.status.')) errs.push(fieldError.invalid(child(sc, 'statusReplicasPath'), scale.statusReplicasPath, 'should be a json path under .status'));
    if (scale.labelSelectorPath && !/^\.(spec|status)\./.test(scale.labelSelectorPath)) errs.push(fieldError.invalid(child(sc, 'labelSelectorPath'), scale.labelSelectorPath, 'should be a json path under either .spec or .status'));
  }
  (v.additionalPrinterColumns ?? []).forEach((c, i) => {
    const cp = index(child(p, 'additionalPrinterColumns'), i);
    if (!c.name) errs.push(fieldError.required(child(cp, 'name')));
    if (!c.type) errs.push(fieldError.required(child(cp, 'type')));
    else if (!COLUMN_TYPES.includes(c.type)) errs.push(fieldError.notSupported(child(cp, 'type'), c.type, COLUMN_TYPES));
    if (!c.jsonPath) errs.push(fieldError.required(child(cp, 'JSONPath')));
    else {
      try { parseJsonPath(c.jsonPath); } catch (e) { errs.push(fieldError.invalid(child(cp, 'JSONPath'), c.jsonPath, (e as Error).message)); }
    }
    if (c.priority !== undefined && c.priority < 0) errs.push(fieldError.invalid(child(cp, 'priority'), c.priority, 'must be greater than or equal to 0'));
  });
  void crd;
}

/** Every `default` must be valid by its own schema (upstream: "must validate against …"; pruned defaults too). */
function validateDefaults(schema: JSONSchemaProps, path: string, errs: FieldError[]): void {
  const walk = (s: JSONSchemaProps, p: string, root: boolean) => {
    if (s.default !== undefined) {
      if (root) errs.push(fieldError.forbidden(child(p, 'default'), 'must not be set at the root'));
      validateValue(s, s.default, child(p, 'default'), errs);
    }
    if (s.items) walk(s.items, child(p, 'items'), false);
    for (const [k, v] of Object.entries(s.properties ?? {})) {
      if (root && k === 'metadata' && v.default !== undefined) { errs.push(fieldError.forbidden(child(key(child(p, 'properties'), k), 'default'), 'must not be set for metadata')); continue; }
      walk(v, key(child(p, 'properties'), k), false);
    }
    if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, child(p, 'additionalProperties'), false);
  };
  walk(schema, path, true);
}

/** What an update may not change: the group and the scope (the objects' keys depend on both). */
function validateCrdUpdate(crd: Crd, old: Crd, errs: FieldError[]): void {
  if (crd.spec.group !== old.spec.group) errs.push(fieldError.immutable('spec.group', crd.spec.group));
  if (crd.spec.scope !== old.spec.scope) errs.push(fieldError.immutable('spec.scope', crd.spec.scope));
  if (crd.spec.names?.plural !== old.spec.names?.plural) errs.push(fieldError.immutable('spec.names.plural', crd.spec.names?.plural));
}

/** A version still listed in status.storedVersions may hold objects: it cannot leave spec.versions. */
function validateStoredVersions(crd: Crd, errs: FieldError[]): void {
  const names = new Set((crd.spec.versions ?? []).map((v) => v.name));
  (crd.status?.storedVersions ?? []).forEach((v, i) => {
    if (!names.has(v)) errs.push(fieldError.invalid(index('status.storedVersions', i), v, 'must appear in spec.versions'));
  });
}
