/**
 * One served version of a CustomResourceDefinition as a kind of the generic store: its ResourceInfo
 * (names, scope, subresources) and a strategy built from the version's structural schema — pruning
 * and defaults on write (and defaults on read, through the store's readTransform), schema validation
 * and CEL rules (422 with field paths; rules that cannot run are warnings), status and scale
 * subresources by the CRD's paths, and the additionalPrinterColumns table. Upstream:
 * apiextensions-apiserver pkg/registry/customresource (strategy.go, status_strategy.go,
 * tableconvertor) and the crdHandler's per-version storage.
 */
import type { KubeObject } from '../../apis/object.ts';
import type { FieldError } from '../../apis/field-errors.ts';
import type { ResourceInfo, Subresource } from '../../apis/resources.ts';
import type { ResourceType, Strategy, TableConvertor, ValidationContext, ScaleMapping } from '../types.ts';
import { storageVersion, type Crd, type CrdVersion, type JSONSchemaProps } from '../../apis/custom-resource-definition.ts';
import { translateTimestampSince } from '../tables/age.ts';
import { applyDefaults, prune } from './defaulting.ts';
import { validateValue } from './value-validation.ts';
import { evaluateRules } from './cel-rules.ts';
import { getPath, setPath } from './json-path.ts';

/** A custom resource version: the ResourceType with the CRD and schema it came from. */
export interface CustomResourceType extends ResourceType {
  crd: Crd;
  schema: JSONSchemaProps;
}

/** Fields pruned from an object on its way in, reported as warnings by validation. */
const pruned = new WeakMap<KubeObject, string[]>();

/** The schema without metadata: the API validates metadata itself (upstream restricts it to name/generateName). */
function bodySchema(schema: JSONSchemaProps): JSONSchemaProps {
  const { metadata: _m, ...properties } = schema.properties ?? {};
  return { ...schema, properties, required: (schema.required ?? []).filter((r) => r !== 'metadata') };
}

function prepareIncoming(schema: JSONSchemaProps, obj: KubeObject): void {
  const removed = prune(schema, obj);
  applyDefaults(schema, obj);
  if (removed.length) pruned.set(obj, removed);
}

function validateAgainst(schema: JSONSchemaProps, body: JSONSchemaProps, obj: KubeObject, ctx: ValidationContext | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const { metadata: _m, ...rest } = obj;
  validateValue(body, rest, '', errs);
  if (!errs.length) evaluateRules(schema, obj, ctx?.old, '', errs, ctx?.warnings ?? []);
  for (const p of pruned.get(obj) ?? []) ctx?.warnings?.push(`unknown field "${p}"`);
  return errs;
}

function printerTable(v: CrdVersion): TableConvertor {
  const cols = v.additionalPrinterColumns?.length
    ? v.additionalPrinterColumns
    : [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'CreationTimestamp is a timestamp representing the server time when this object was created.' }];
  return {
    columns: [
      { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' },
      ...cols.map((c) => ({ name: c.name, type: c.type as 'string', format: c.format ?? '', description: c.description ?? '', priority: c.priority ?? 0 })),
    ],
    cells(obj, now) {
      return [obj.metadata.name, ...cols.map((c) => {
        let value: unknown;
        try { value = getPath(obj, c.jsonPath); } catch { value = undefined; }
        if (value === undefined || value === null) return null;
        if (c.type === 'date' && typeof value === 'string') return translateTimestampSince(value, now);
        if (typeof value === 'object') return JSON.stringify(value);
        return value;
      })];
    },
  };
}

function scaleMapping(v: CrdVersion): ScaleMapping | undefined {
  const s = v.subresources?.scale;
  if (!s) return undefined;
  const num = (x: unknown) => (typeof x === 'number' ? x : 0);
  return {
    read(obj) {
      const sel = s.labelSelectorPath ? getPath(obj, s.labelSelectorPath) : undefined;
      return { replicas: num(getPath(obj, s.specReplicasPath)), statusReplicas: num(getPath(obj, s.statusReplicasPath)), selector: typeof sel === 'string' ? sel : '' };
    },
    write(obj, replicas) { setPath(obj as Record<string, unknown>, s.specReplicasPath, replicas); },
  };
}

function typeFor(crd: Crd, v: CrdVersion): CustomResourceType {
  const { spec } = crd;
  const schema = v.schema?.openAPIV3Schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  const body = bodySchema(schema);
  const subresources: Subresource[] = [];
  if (v.subresources?.status) subresources.push('status');
  if (v.subresources?.scale) subresources.push('scale');
  const info: ResourceInfo = {
    group: spec.group, version: v.name, kind: spec.names.kind, plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(), namespaced: spec.scope === 'Namespaced',
    shortNames: spec.names.shortNames, categories: spec.names.categories, subresources, generation: true,
  };
  const strategy: Strategy = {
    defaults: (obj) => prepareIncoming(schema, obj),
    unknownFields: (obj) => prune(schema, structuredClone(obj)),
    validate: (obj, ctx) => validateAgainst(schema, body, obj, ctx),
    table: printerTable(v),
    scale: scaleMapping(v),
  };
  if (v.subresources?.status) {
    strategy.subresources = {
      status: {
        prepare(obj, old) {
          if (obj.status === undefined) delete old.status;
          else old.status = obj.status;
          // Metadata changes through /status are allowed, as upstream's status strategy keeps them.
          if (obj.metadata?.labels !== undefined) old.metadata.labels = obj.metadata.labels;
          if (obj.metadata?.annotations !== undefined) old.metadata.annotations = obj.metadata.annotations;
          prepareIncoming(schema, old);
          return old;
        },
        validate: (obj, old, ctx) => validateAgainst(schema, body, obj, { ...ctx, old }),
      },
    };
  }
  return { info, strategy, crd, schema };
}

/**
 * The served versions of a CRD as store types, the storage version first (the Registry's main store
 * for the resource), then the other served ones. An unserved storage version is still registered
 * first (its objects exist) but `servedVersions` says which are served.
 */
export function customResourceTypes(crd: Crd): CustomResourceType[] {
  const storage = storageVersion(crd);
  if (!storage) return [];
  const rest = crd.spec.versions.filter((v) => v !== storage && v.served);
  return [typeFor(crd, storage), ...rest.map((v) => typeFor(crd, v))];
}

/** An object as read through `type`'s version: apiVersion rewritten (conversion None), defaults applied. */
export function readAs(type: CustomResourceType): (obj: KubeObject) => KubeObject {
  const apiVersion = `${type.info.group}/${type.info.version}`;
  return (obj) => {
    obj.apiVersion = apiVersion;
    applyDefaults(type.schema, obj);
    return obj;
  };
}
