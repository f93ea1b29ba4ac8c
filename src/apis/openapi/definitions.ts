/**
 * The OpenAPI definitions of the types Berth serves, generated into definitions.json by
 * scripts/gen-openapi.ts from kubernetes-models' declarations, and helpers to navigate them.
 * Refs inside definitions.json use the swagger 2 form `#/definitions/<name>`.
 */
import { readFileSync } from 'node:fs';
import { RESOURCES } from '../resources.ts';

/** The subset of OpenAPI schema Berth emits and reads. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  additionalProperties?: Schema | boolean;
  enum?: string[];
  $ref?: string;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-patch-merge-key'?: string;
  [ext: `x-${string}`]: unknown;
}

export type Definitions = Record<string, Schema>;

const REF_PREFIX = '#/definitions/';
let cached: Definitions | undefined;

/**
 * apiextensions' free-form types: any JSON value (a default, an enum entry) or a schema-or-bool /
 * schema-or-array. Their Go types marshal themselves, so their schema is "anything", as upstream
 * publishes them; kubernetes-models' declarations would make them empty objects.
 */
const FREE_FORM = ['JSON', 'JSONSchemaPropsOrBool', 'JSONSchemaPropsOrArray', 'JSONSchemaPropsOrStringArray'].map((n) => `io.k8s.api.apiextensions.v1.${n}`);

/** All definitions, loaded once (synchronously; the file is read on first use). */
export function loadDefinitions(): Definitions {
  if (!cached) {
    cached = JSON.parse(readFileSync(new URL('./definitions.json', import.meta.url), 'utf8')) as Definitions;
    for (const n of FREE_FORM) if (cached[n]) cached[n] = { description: cached[n].description, 'x-kubernetes-preserve-unknown-fields': true };
  }
  return cached;
}

/** Definition name a `$ref` points to (`#/definitions/io.k8s…` or `#/components/schemas/io.k8s…`). */
export function refName(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1);
}

/** Follows `$ref`s until a concrete schema; returns it with the definition name it came from. */
export function resolveSchema(schema: Schema | undefined, defs: Definitions = loadDefinitions()): { schema?: Schema; defName?: string } {
  let defName: string | undefined;
  for (let i = 0; schema?.$ref && i < 16; i++) {
    defName = refName(schema.$ref);
    schema = defs[defName];
  }
  return { schema, defName };
}

/** Swagger 2 ref to a definition. */
export function definitionRef(name: string): string {
  return REF_PREFIX + name;
}

/** Package prefix Kubernetes uses for a group-version's types, e.g. `io.k8s.api.apps.v1`. */
export function packageFor(group: string, version: string): string {
  if (group === '') return `io.k8s.api.core.${version}`;
  return `io.k8s.api.${group.split('.')[0]}.${version}`;
}

/**
 * Definition name of a kind, e.g. (`apps/v1`, `Deployment`) → `io.k8s.api.apps.v1.Deployment`.
 * Undefined when Berth has no schema for it.
 */
export function definitionNameFor(apiVersion: string, kind: string, defs: Definitions = loadDefinitions()): string | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  for (const name of [`${packageFor(group, version)}.${kind}`, `io.k8s.apimachinery.pkg.apis.meta.v1.${kind}`]) {
    const gvks = defs[name]?.['x-kubernetes-group-version-kind'];
    if (gvks?.some((g) => g.group === group && g.version === version && g.kind === kind)) return name;
  }
  return undefined;
}

/** Definition names of every kind in RESOURCES (in RESOURCES order). */
export function resourceDefinitionNames(): string[] {
  return RESOURCES.map((r) => `${packageFor(r.group, r.version)}.${r.kind}`);
}
