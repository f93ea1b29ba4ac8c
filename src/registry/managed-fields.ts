/**
 * Stamps metadata.managedFields on the generic store's writes (Operation Update under the request's
 * field manager) and runs server-side apply for the patch handlers, with the schema of the store's
 * kind and the fields its endpoint resets (status on the main resource, everything but status on
 * /status). Upstream: the field manager wired into k8s.io/apiserver's create/update/patch handlers
 * (handlers/fieldmanager, rest.DefaultUpdatedObjectInfo) with the strategies' GetResetFields.
 */
import type { KubeObject } from '../apis/object.ts';
import { FieldSet } from '../apis/merge/field-set.ts';
import { applyObject, ConflictsError, trackUpdate, type ApplyResult, type TrackContext } from '../apis/merge/field-manager.ts';
import { MergeError } from '../apis/merge/list-items.ts';
import { printManager } from '../apis/merge/managed-fields.ts';
import { pathString } from '../apis/merge/path.ts';
import { SchemaConverter, typeForKind, type MergeType } from '../apis/merge/schema.ts';
import { definitionRef, loadDefinitions, type Schema } from '../apis/openapi/definitions.ts';
import { ApiError, errors } from '../errors/index.ts';
import type { ResourceStore } from './resource-store.ts';

/** The manager in-process writes are recorded under when they name none. */
export const DEFAULT_MANAGER = 'berth';

const customTypes = new WeakMap<object, MergeType>();

/**
 * The merge type of a store's kind: a custom resource's structural schema (its ResourceType carries
 * it — apiextensions' customResourceSchema reads the same), with ObjectMeta's own for metadata as
 * upstream; a built-in kind's served OpenAPI definition otherwise.
 */
function mergeTypeOf(store: ResourceStore): { type: MergeType; custom: boolean } {
  const schema = (store.type as { schema?: Schema }).schema;
  if (!schema || typeof schema !== 'object') return { type: typeForKind(store.apiVersion, store.type.info.kind), custom: false };
  let type = customTypes.get(schema);
  if (!type) {
    const root: Schema = {
      ...schema, type: 'object',
      properties: { ...(schema.properties ?? {}), apiVersion: { type: 'string' }, kind: { type: 'string' }, metadata: { $ref: definitionRef(OBJECT_META) } },
    };
    type = new SchemaConverter(loadDefinitions()).convert(root);
    customTypes.set(schema, type);
  }
  return { type, custom: true };
}

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';

function contextFor(store: ResourceStore, subresource: string | undefined, objects: (KubeObject | undefined)[]): TrackContext {
  const { type, custom } = mergeTypeOf(store);
  let ignored: FieldSet | undefined;
  if (subresource === 'status') {
    // Berth's status writes keep only status: nothing else is anyone's through /status.
    const keys = new Set<string>();
    for (const o of objects) for (const k of Object.keys(o ?? {})) if (k !== 'status') keys.add(k);
    ignored = FieldSet.of(...[...keys].map((k) => [{ field: k }]));
  } else if (store.type.info.subresources?.includes('status')) {
    ignored = FieldSet.of([{ field: 'status' }]);
  }
  return { type, apiVersion: store.apiVersion, subresource, ignored, markStructs: custom };
}

/** A subresource as managedFields name it: the server's own ('raw') writes count as the main resource. */
function trackedSubresource(sub: string | undefined): string | undefined {
  return sub === undefined || sub === 'raw' ? undefined : sub;
}

/**
 * The object as it will be stored, defaults filled: upstream decodes a request with its defaults, so
 * the writer of an Update owns the defaulted fields too (`kubectl create deployment` owns
 * `.spec.progressDeadlineSeconds`). A copy: the store defaults the object itself later, after admission.
 */
function withDefaults(store: ResourceStore, obj: KubeObject, subresource: string | undefined): KubeObject {
  const defaults = store.type.strategy.defaults;
  if (!defaults || subresource) return obj;
  const copy = structuredClone(obj);
  try {
    defaults(copy);
    return copy;
  } catch {
    // A body defaults cannot handle fails validation later, with a field path.
    return obj;
  }
}

/**
 * The part of an object an endpoint's write can own: a status write only `status` (with the
 * managedFields, which say who owns the rest); a main-resource write of a kind with a status
 * subresource everything but `status`. What is left out is the same on both sides of the comparison
 * and reset by the endpoint anyway (the context's ignored fields), so the outcome is the same — but a
 * pod's status patch no longer walks its whole spec, nor a spec update its status.
 */
function ownable(store: ResourceStore, obj: KubeObject | undefined, sub: string | undefined): KubeObject | undefined {
  if (!obj) return obj;
  if (sub === 'status') {
    const part: KubeObject = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { managedFields: obj.metadata?.managedFields } };
    if (obj.status !== undefined) part.status = obj.status;
    return part;
  }
  if (sub === undefined && store.type.info.subresources?.includes('status') && obj.status !== undefined) {
    const { status: _status, ...rest } = obj;
    return rest as KubeObject;
  }
  return obj;
}

/** Sets `next`'s managedFields for an Update by `manager` over `old` (undefined on create). */
export function stampUpdate(store: ResourceStore, old: KubeObject | undefined, next: KubeObject, manager: string | undefined, subresource: string | undefined): void {
  const sub = trackedSubresource(subresource);
  const ctx = contextFor(store, sub, [old, next]);
  let entries: unknown[] | undefined;
  try {
    entries = trackUpdate(ownable(store, old, sub), withDefaults(store, ownable(store, next, sub)!, sub), manager ?? DEFAULT_MANAGER, ctx);
  } catch (err) {
    // An object the schema cannot walk (e.g. an associative-list item without its key) is refused by
    // validation, which names the field; ownership is not what should fail the write.
    if (!(err instanceof MergeError)) throw err;
    entries = old?.metadata?.managedFields;
  }
  if (entries?.length) next.metadata.managedFields = entries;
  else delete next.metadata.managedFields;
}

/**
 * Server-side apply of `config` over `live` (undefined: the object does not exist and is created).
 * Throws the API's 409 Conflict naming each field and manager, or 422 for a configuration the
 * schema cannot merge.
 */
export function applyToObject(store: ResourceStore, live: KubeObject | undefined, config: KubeObject, manager: string, force: boolean, subresource?: string): ApplyResult {
  const ctx = contextFor(store, trackedSubresource(subresource), [live, config]);
  try {
    return applyObject(live, config, manager, force, ctx);
  } catch (err) {
    if (err instanceof ConflictsError) throw conflictError(err);
    if (err instanceof MergeError) {
      throw errors.invalid(store.group, store.type.info.kind, config.metadata?.name ?? '', [
        { type: 'FieldValueInvalid', field: pathString(err.path).replace(/^\./, '') || '<root>', message: `Invalid value: ${err.message}` },
      ]);
    }
    throw err;
  }
}

/**
 * 409 Conflict as kube-apiserver words it: `Apply failed with 1 conflict: conflict with "m" using
 * apps/v1: .spec.replicas`, one FieldManagerConflict cause per field.
 */
export function conflictError(err: ConflictsError): ApiError {
  const c = err.conflicts;
  const causes = c.map((x) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(x.manager)}`, field: pathString(x.path) }));
  let message: string;
  if (c.length === 1) message = `Apply failed with 1 conflict: conflict with ${printManager(c[0].manager)}: ${pathString(c[0].path)}`;
  else {
    const byManager = new Map<string, string[]>();
    for (const x of c) byManager.set(x.manager, [...(byManager.get(x.manager) ?? []), pathString(x.path)]);
    const lines: string[] = [];
    for (const m of [...byManager.keys()].sort()) {
      lines.push(`conflicts with ${printManager(m)}:`);
      for (const p of byManager.get(m)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${c.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError('BERTH_CONFLICT', message, { causes });
}
