/**
 * Stamps metadata.managedFields on the generic store's writes (Operation Update under the request's
 * field manager) and runs server-side apply for the patch handlers, with the schema of the store's
 * kind and the fields its endpoint resets (status on the main resource, everything but status on
 * /status). Upstream: the field manager wired into k8s.io/apiserver's create/update/patch handlers
 * (handlers/fieldmanager, rest.DefaultUpdatedObjectInfo) with the strategies' GetResetFields.
 */
import { clone, type KubeObject } from '../apis/object.ts';
import { FieldSet } from '../apis/merge/field-set.ts';
import { applyObject, ConflictsError, trackUpdate, type ApplyResult, type TrackContext } from '../apis/merge/field-manager.ts';
import { MergeError } from '../apis/merge/list-items.ts';
import { managerIdentifier, MAX_UPDATE_MANAGERS, printManager, sortManagedFields, type ManagedFieldsEntry } from '../apis/merge/managed-fields.ts';
import { rfc3339 } from '../apis/time.ts';
import { jsonEqual } from './json-equal.ts';
import { pathString } from '../apis/merge/path.ts';
import { SchemaConverter, typeForKind, type MergeType } from '../apis/merge/schema.ts';
import { definitionRef, loadDefinitions, type Schema } from '../apis/openapi/definitions.ts';
import { ApiError, errors } from '../errors/index.ts';
import type { ResourceStore } from './resource-store.ts';
import { createdAs, createShape, rememberCreated } from './managed-fields-create-shapes.ts';

/** The manager in-process writes are recorded under when they name none. */
export const DEFAULT_MANAGER = 'berth';

const customTypes = new WeakMap<object, MergeType>();
const builtinTypes = new WeakMap<ResourceStore, MergeType>();

/**
 * The merge type of a store's kind: a custom resource's structural schema (its ResourceType carries
 * it — apiextensions' customResourceSchema reads the same), with ObjectMeta's own for metadata as
 * upstream; a built-in kind's served OpenAPI definition otherwise.
 */
function mergeTypeOf(store: ResourceStore): { type: MergeType; custom: boolean } {
  const schema = (store.type as { schema?: Schema }).schema;
  if (!schema || typeof schema !== 'object') {
    // Looked up once per store: the definition's name was found again on every write (~2 % of a status patch).
    let type = builtinTypes.get(store);
    if (!type) builtinTypes.set(store, type = typeForKind(store.apiVersion, store.type.info.kind));
    return { type, custom: false };
  }
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

/** The fields a status write ignores, by the objects' other top-level keys (apiVersion, kind, metadata, spec…). */
const ignoredSets = new Map<string, FieldSet>();
const STATUS_ONLY = FieldSet.of([{ field: 'status' }]);

function contextFor(store: ResourceStore, subresource: string | undefined, objects: (KubeObject | undefined)[]): TrackContext {
  const { type, custom } = mergeTypeOf(store);
  let ignored: FieldSet | undefined;
  if (subresource === 'status') {
    // Berth's status writes keep only status: nothing else is anyone's through /status.
    const keys = new Set<string>();
    for (const o of objects) for (const k of Object.keys(o ?? {})) if (k !== 'status') keys.add(k);
    const name = [...keys].join('\0');
    ignored = ignoredSets.get(name);
    if (!ignored) {
      ignored = FieldSet.of(...[...keys].map((k) => [{ field: k }]));
      // Read only by the algebra (recursiveDifference makes new sets): shared. The key lists seen are few.
      if (ignoredSets.size < 64) ignoredSets.set(name, ignored);
    }
  } else if (store.type.info.subresources?.includes('status')) {
    ignored = STATUS_ONLY;
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
  // clone(), not structuredClone: the same copy of a JSON object, several times faster (apis/object.ts).
  const copy = clone(obj);
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
  const was = ownable(store, old, sub);
  const now = withDefaults(store, ownable(store, next, sub)!, sub);
  const quick = old && unchangedOwnership(store, was!, now, manager ?? DEFAULT_MANAGER, sub);
  if (quick) {
    next.metadata.managedFields = quick;
    return;
  }
  if (sub === 'status' && was && statusWriteKeepingOthers(store, old, next, was, now, manager ?? DEFAULT_MANAGER)) return;
  const shape = old === undefined && sub === undefined ? createShape(now, manager ?? DEFAULT_MANAGER) : undefined;
  if (shape !== undefined && createdAs(store, next, shape)) return;
  stampUpdateFully(store, old, next, was, now, manager, sub);
  if (shape !== undefined) rememberCreated(store, next, shape);
}

/**
 * A status write through the algebra with only the entries that own something under `status` (or
 * are the writer's own): what a status write changes or removes is under `status`, so the others —
 * typically the creator's, owning the whole spec — lose nothing and keep their time, and upstream's
 * algebra would decode and encode them back to what is stored. They are kept as stored and the
 * whole list sorted again; the rest is the full algebra. Not taken (false) when the stored entries
 * are not as the algebra itself writes them, when one would be folded by the cap on Update managers,
 * or when nothing would be kept.
 */
function statusWriteKeepingOthers(store: ResourceStore, old: KubeObject | undefined, next: KubeObject, was: KubeObject, now: KubeObject, manager: string): boolean {
  const entries = was.metadata?.managedFields as unknown;
  // One more entry may come: the cap (capUpdateManagers) must not fold anything.
  if (!Array.isArray(entries) || entries.length + 1 > MAX_UPDATE_MANAGERS) return false;
  const writer = managerIdentifier({ manager, operation: 'Update', apiVersion: store.apiVersion, subresource: 'status' });
  const ids = new Set<string>();
  const relevant: ManagedFieldsEntry[] = [];
  const kept: ManagedFieldsEntry[] = [];
  for (const e of entries as ManagedFieldsEntry[]) {
    if (!isStoredEntry(e)) return false;
    const id = managerIdentifier({ manager: e.manager ?? '', operation: e.operation!, apiVersion: e.apiVersion, subresource: e.subresource });
    // A duplicate makes the algebra drop every entry (decodeManagedFields refuses the list): its call.
    if (ids.has(id)) return false;
    ids.add(id);
    if (id === writer || Object.hasOwn(e.fieldsV1!, 'f:status')) relevant.push(e);
    else kept.push(e);
  }
  if (kept.length === 0) return false;
  const part = { ...was, metadata: { ...was.metadata, managedFields: relevant } };
  const ctx = contextFor(store, 'status', [old, next]);
  let tracked: unknown[];
  try {
    tracked = trackUpdate(part, now, manager, ctx);
  } catch (err) {
    if (!(err instanceof MergeError)) throw err;
    return false;
  }
  next.metadata.managedFields = sortManagedFields([...(tracked as ManagedFieldsEntry[]), ...kept]);
  return true;
}

/**
 * An entry as the algebra writes it (encodeManagedFields): its fields in that order, an Update or
 * Apply of FieldsV1 with a time that parses. Such an entry decodes, and encodes back to itself.
 */
function isStoredEntry(e: unknown): e is ManagedFieldsEntry {
  if (!isPlainObject(e)) return false;
  let i = 0;
  for (const k in e) {
    // Keys in encodeManagedFields' order, each at most once.
    const at = ENTRY_KEYS.indexOf(k, i);
    if (at < 0) return false;
    i = at + 1;
  }
  const x = e as ManagedFieldsEntry;
  if (x.operation !== 'Apply' && x.operation !== 'Update') return false;
  if (x.fieldsType !== 'FieldsV1' || !isPlainObject(x.fieldsV1) || Object.keys(x.fieldsV1).length === 0) return false;
  // Nothing the algebra strips (stripMeta): the server's fields are never owned.
  const f = x.fieldsV1;
  if (Object.hasOwn(f, 'f:apiVersion') || Object.hasOwn(f, 'f:kind') || Object.hasOwn(f, '.')) return false;
  const meta = f['f:metadata'];
  if (meta !== undefined) {
    if (!isPlainObject(meta) || Object.keys(meta).length === 0 || Object.hasOwn(meta, '.')) return false;
    for (const k of SERVER_META) if (Object.hasOwn(meta, `f:${k}`)) return false;
  }
  for (const k of ['manager', 'apiVersion', 'subresource', 'time'] as const) if (x[k] !== undefined && (typeof x[k] !== 'string' || x[k] === '')) return false;
  return x.time === undefined || !Number.isNaN(Date.parse(x.time));
}

const ENTRY_KEYS = ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1', 'subresource'];

/** The whole field-manager algebra (trackUpdate) for one Update; `was`/`now` are the ownable parts. */
function stampUpdateFully(store: ResourceStore, old: KubeObject | undefined, next: KubeObject, was: KubeObject | undefined, now: KubeObject, manager: string | undefined, sub: string | undefined): void {
  const ctx = contextFor(store, sub, [old, next]);
  let entries: unknown[] | undefined;
  try {
    entries = trackUpdate(was, now, manager ?? DEFAULT_MANAGER, ctx);
  } catch (err) {
    // An object the schema cannot walk (e.g. an associative-list item without its key) is refused by
    // validation, which names the field; ownership is not what should fail the write.
    if (!(err instanceof MergeError)) throw err;
    entries = old?.metadata?.managedFields;
  }
  if (entries?.length) next.metadata.managedFields = entries;
  else delete next.metadata.managedFields;
}

/** `stampUpdate` without its shortcut: the reference the shortcut is tested against. */
export function stampUpdateFullyForTest(store: ResourceStore, old: KubeObject | undefined, next: KubeObject, manager: string | undefined, subresource: string | undefined): void {
  const sub = trackedSubresource(subresource);
  stampUpdateFully(store, old, next, ownable(store, old, sub), withDefaults(store, ownable(store, next, sub)!, sub), manager, sub);
}

/** metadata fields the server sets: never owned, so never a change of ownership (STRIPPED). */
const SERVER_META = new Set(['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation', 'managedFields', 'resourceVersion']);

/**
 * The common write that moves no ownership — a Lease renewal (spec.renewTime), a repeated status
 * report — answered without decoding, diffing and encoding every manager's field set. It applies when
 * the only differences between the two objects are scalar values changed in place (no field added
 * or removed, no list changed: those need the schema) at paths `manager`'s own entry already holds
 * and no other entry names, and the client sent no managedFields of its own. Then upstream's
 * algebra leaves every set as it is and only moves this manager's time (managedFieldsUpdater), so
 * the stored entries are kept, that time set and upstream's order restored. Undefined: take the full path.
 */
function unchangedOwnership(store: ResourceStore, was: KubeObject, now: KubeObject, manager: string, sub: string | undefined): unknown[] | undefined {
  const entries = was.metadata?.managedFields as ManagedFieldsEntry[] | undefined;
  if (!Array.isArray(entries) || entries.length === 0) return undefined;
  const sent = now.metadata?.managedFields;
  if (sent !== undefined && sent !== entries && !jsonEqual(sent, entries)) return undefined;
  const apiVersion = store.apiVersion;
  let own = -1;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (e.manager === manager && e.operation === 'Update' && e.apiVersion === apiVersion && e.subresource === sub) {
      if (own >= 0) return undefined;
      own = i;
    }
  }
  if (own < 0 || typeof entries[own].time !== 'string' || !entries[own].fieldsV1) return undefined;
  const changed: string[][] = [];
  if (!scalarChanges(was, now, [], changed)) return undefined;
  if (changed.length === 0) return entries;
  for (const path of changed) {
    if (!isMember(entries[own].fieldsV1!, path)) return undefined;
    for (let i = 0; i < entries.length; i++) if (i !== own && reaches(entries[i].fieldsV1, path)) return undefined;
  }
  const out = entries.slice();
  out[own] = { ...entries[own], time: rfc3339() };
  return sortManagedFields(out);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Collects the paths (field names) of scalars whose value changed between `a` and `b`; false when
 * anything else differs — a field added or removed, a list, a type, a null — which only the
 * schema-aware comparison may judge. apiVersion, kind and the server's metadata are skipped.
 */
function scalarChanges(a: Record<string, unknown>, b: Record<string, unknown>, path: string[], out: string[][]): boolean {
  const top = path.length === 0;
  const meta = path.length === 1 && path[0] === 'metadata';
  let na = 0;
  for (const k in a) {
    if (!Object.hasOwn(a, k)) continue;
    if ((top && (k === 'apiVersion' || k === 'kind')) || (meta && SERVER_META.has(k))) continue;
    na++;
    if (!Object.hasOwn(b, k)) return false;
    const x = a[k], y = b[k];
    if (x === y) continue;
    if (isPlainObject(x) && isPlainObject(y)) {
      if (!scalarChanges(x, y, [...path, k], out)) return false;
    } else if (x === null || y === null || typeof x === 'object' || typeof y === 'object' || typeof x !== typeof y) {
      if (!jsonEqual(x, y)) return false;
    } else {
      out.push([...path, k]);
    }
  }
  let nb = 0;
  for (const k in b) {
    if (!Object.hasOwn(b, k)) continue;
    if ((top && (k === 'apiVersion' || k === 'kind')) || (meta && SERVER_META.has(k))) continue;
    nb++;
  }
  return na === nb;
}

/** The node of `fieldsV1` at `path` (map fields only), or undefined. */
function nodeAt(fields: unknown, path: string[]): Record<string, unknown> | undefined {
  let node = fields;
  for (const f of path) {
    if (!isPlainObject(node)) return undefined;
    node = node[`f:${f}`];
  }
  return isPlainObject(node) ? node : undefined;
}

/** True when `path` is a member of the field set (an empty node, or one marked "."). */
function isMember(fields: Record<string, unknown>, path: string[]): boolean {
  const node = nodeAt(fields, path);
  return node !== undefined && (Object.keys(node).length === 0 || Object.hasOwn(node, '.'));
}

/** True when the set names `path` or anything under it, or owns a prefix of it whole (conservative). */
function reaches(fields: unknown, path: string[]): boolean {
  let node = fields;
  for (const f of path) {
    if (!isPlainObject(node)) return false;
    node = node[`f:${f}`];
    if (node === undefined) return false;
    if (isPlainObject(node) && Object.keys(node).length === 0) return true;
  }
  return true;
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
